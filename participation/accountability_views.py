""" "You said, we did": the government's and each ministry's public record of responding (accountability.py)."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from . import accountability
from .bilingual import current_language
from .models import Entity

CONSULTATIONS_PER_PAGE = 50


def _status_filter(request):
    """The validated ?status=, "" for all; None when the value is not one we know."""
    status = request.GET.get("status", "")
    return status if status == "" or status in accountability.STATUSES else None


def _bad_status(request):
    return render(
        request,
        "error.html",
        {
            "title": _("Unknown filter"),
            "message": _(
                "Choose one of the outcome states listed on the page: published on time, published late, overdue or not due yet."
            ),
        },
        status=400,
    )


def _page(request, record, entity=None):
    status = _status_filter(request)
    if status is None:
        return _bad_status(request)
    # The files keep one order whatever the language (accountability.build); the page lists in the reader's.
    record.entities = sorted(record.entities, key=lambda row: (row.entity.name.casefold(), row.entity.pk))
    largest = max((row.median_turnout or 0 for row in record.entities), default=0)
    for row in record.entities:
        # Bar lengths in percent of the chart's width; the numbers themselves are written beside them.
        row.turnout_bar = round(100 * (row.median_turnout or 0) / largest, 1) if largest else 0
    consultations = [row for row in record.consultations if not status or row.status == status]
    page = Paginator(consultations, CONSULTATIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "participation/accountability.html",
        {
            "record": record,
            "entity": entity,
            "page": page,
            "query": query.urlencode(),
            "status": status,
            "statuses": list(accountability.STATUS_LABELS.items()),
            "totals": record.totals,
            "entities": Entity.objects.order_by(f"name_{current_language()}", "pk") if entity is None else None,
        },
    )


def government(request):
    """The whole government: the table per entity, its charts, and every closed consultation."""
    return _page(request, accountability.build(timezone.now()))


def entity_record(request, slug):
    """One ministry's record: its row of the table and each of its closed consultations."""
    entity = get_object_or_404(Entity, slug=slug)
    return _page(request, accountability.build(timezone.now(), entity), entity)
