"""The public, read-only API: /api/v1/ (docs/api.md).

Anonymous for everyone: no session or token is read, so a member of staff sees exactly what a visitor
sees (drafts and previews stay in the admin). Every answer is built from what the public pages show,
through the same functions: the item querysets, participation.rules, the results of
participation.views._results_for (the stored Result with its suppressed breakdown, or live counts of a
poll that shows them), open_results for receipts and audit.published_checkpoint. No request counts
votes: a closed item without a stored result answers status "counting".
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from participation import audit, open_results, results, verification
from participation import views as pages
from participation.models import Entity, Item, Kind, Result, State

from . import serializers as out
from .pagination import ordered_by
from .throttling import ClientRateThrottle

SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, pattern=r"^[-a-zA-Z0-9_]+$")
ERRORS = {
    400: OpenApiResponse(out.ValidationErrorSerializer, description="Refused: unreadable characters, or a query parameter."),
    404: OpenApiResponse(out.ErrorSerializer, description="Not found: unknown, not public (yet), or an invalid cursor."),
    429: OpenApiResponse(out.ErrorSerializer, description="Too many requests from this client; see Retry-After."),
}


def answer(serializer):
    """The documented answers of an operation: 200 with `serializer`, then 400, 404 and 429."""
    return {200: serializer} | ERRORS


class PublicReadView(GenericAPIView):
    """GET only, anonymous, throttled per client; a successful answer is kept in the cache for a short while.

    The cache key is the URL (scheme, host and path) with the query parameters the view reads, sorted: answers do
    not depend on the language, since every text comes in both, and parameters the view ignores (a tracking tag,
    `?x=1`, `?x=2` …) cannot each build and keep an answer of their own. Refusals (400, 404, 429) are never cached.
    """

    filters = None  # the serializer of the view's query parameters (self.query validates them)

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientRateThrottle]
    http_method_names = ["get", "head", "options"]

    def build(self, request, **kwargs):  # pragma: no cover - every subclass answers
        raise NotImplementedError

    def read_parameters(self):
        """The names of the query parameters that change this view's answer: its filters and its page cursor."""
        names = set(self.filters().fields) if self.filters else set()
        if self.pagination_class is not None:
            names.add(self.pagination_class.cursor_query_param)
        return names

    def cache_key(self, request):
        read = self.read_parameters()
        query = sorted((name, value) for name, value in request.GET.lists() if name in read)
        address = f"{request.build_absolute_uri(request.path)}?{query!r}"
        return "api:v1:" + hashlib.sha256(address.encode()).hexdigest()

    def get(self, request, **kwargs):
        key = self.cache_key(request)
        data = cache.get(key)
        if data is None:
            self.now = timezone.now()
            data = self.build(request, **kwargs)
            cache.set(key, data, settings.PORTAL_API_CACHE_SECONDS)
        response = Response(data)
        patch_cache_control(response, public=True, max_age=settings.PORTAL_API_CACHE_SECONDS)
        return response

    def get_serializer_context(self):
        return super().get_serializer_context() | {"now": getattr(self, "now", None)}

    def page_of(self, request, queryset):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data).data

    def query(self, request, form):
        """Validated query parameters, or 400 with every refused one."""
        # A plain dict, not the QueryDict: DRF reads an empty value in a QueryDict as "absent", while the schema
        # says an empty type or q is refused (minLength 1), and so it is.
        form = form(data=request.query_params.dict())
        if not form.is_valid():
            raise ValidationError({"detail": gettext("A query parameter was refused."), "errors": form.errors})
        return form.validated_data


def not_found(request, *args, **kwargs):
    """404 in JSON, as the API's own refusals, for an address under /api/ that no view answers."""
    return JsonResponse({"detail": gettext("Not found.")}, status=404)


def public_item(slug, *kinds):
    """A published-to-the-public item (any state but draft) of one of these kinds, or 404."""
    items = Item.objects.public().select_related("entity")
    if kinds:
        items = items.filter(kind__in=kinds)
    return get_object_or_404(items, slug=slug)


# ---------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------


@extend_schema(tags=["entities"])
class EntityList(PublicReadView):
    """Every government entity, by slug."""

    serializer_class = out.EntitySerializer
    pagination_class = ordered_by("slug")

    @extend_schema(operation_id="entities_list", summary="Government entities",
                   responses=answer(out.EntitySerializer(many=True)))
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def build(self, request):
        return self.page_of(request, Entity.objects.all())


@extend_schema(tags=["entities"])
class EntityDetail(PublicReadView):
    """One government entity."""

    serializer_class = out.EntitySerializer

    @extend_schema(operation_id="entities_retrieve", summary="One government entity", parameters=[SLUG],
                   responses=answer(out.EntitySerializer))
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def build(self, request, slug):
        return self.get_serializer(get_object_or_404(Entity, slug=slug)).data


# ---------------------------------------------------------------------------
# Items
# ---------------------------------------------------------------------------

CLOCK_STATES = {"scheduled": "upcoming", "open": "open", "closed": "closed"}


class ItemFilter(serializers.Serializer):
    type = serializers.ChoiceField(choices=Kind.values, required=False, help_text="poll, referendum or consultation.")
    state = serializers.ChoiceField(
        choices=list(CLOCK_STATES), required=False,
        help_text="By the clock: scheduled (not open yet), open, or closed (closed or results published).",
    )
    entity = serializers.SlugField(required=False, help_text="An entity's slug (an unknown one matches nothing).")
    segment = serializers.ChoiceField(choices=out.SEGMENTS, required=False, help_text="Items this group may take part in.")
    persona = serializers.ChoiceField(choices=out.PERSONAS, required=False, help_text="Items open to people who describe themselves so.")
    q = serializers.RegexField(
        r"^[^\x00]+$", required=False, max_length=100, help_text="Words in the title, Arabic or English."
    )


@extend_schema(tags=["items"])
class ItemList(PublicReadView):
    """Public items (never drafts), newest opening first, filtered by type, state by the clock, entity, audience and words in the title."""

    serializer_class = out.ItemSerializer
    pagination_class = ordered_by("-opens_at", "slug")
    filters = ItemFilter

    @extend_schema(operation_id="items_list", summary="Consultations, polls and referendums", parameters=[ItemFilter],
                   responses=answer(out.ItemSerializer(many=True)))
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def build(self, request):
        wanted = self.query(request, self.filters)
        items = Item.objects.public().select_related("entity")
        if wanted.get("state"):
            items = getattr(items, CLOCK_STATES[wanted["state"]])(self.now)
        if wanted.get("type"):
            items = items.filter(kind=wanted["type"])
        if wanted.get("entity"):
            items = items.filter(entity__slug=wanted["entity"])
        if wanted.get("segment") or wanted.get("persona"):
            items = items.for_audience(wanted.get("segment"), wanted.get("persona"))
        if wanted.get("q"):
            items = items.filter(Q(title_ar__icontains=wanted["q"]) | Q(title_en__icontains=wanted["q"]))
        return self.page_of(request, items)


@extend_schema(tags=["items"])
class ItemDetail(PublicReadView):
    """One public item with its questions and options (polls, referendums) or sections (consultations), and its corrections."""

    serializer_class = out.ItemDetailSerializer

    @extend_schema(operation_id="items_retrieve", summary="One item, with its questions or sections",
                   parameters=[SLUG], responses=answer(out.ItemDetailSerializer))
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def build(self, request, slug):
        item = get_object_or_404(
            Item.objects.public().select_related("entity").prefetch_related("questions__options", "sections", "corrections"),
            slug=slug,
        )
        return self.get_serializer(item).data


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def _both(ar, en):
    return {"ar": ar, "en": en}


def _abstain_text(kind):
    """"No opinion" or "Blank vote" in both languages, worded as the results page words them."""
    labels = {}
    for lang in ("ar", "en"):
        with translation.override(lang):
            labels[lang] = str(results._abstain_label(kind))
    return labels


def _downloads(item):
    if item.kind != Kind.REFERENDUM or item.state != State.PUBLISHED:
        return None
    links = {}
    for name, view in (("ballots_csv", "referendum_ballots_csv"), ("result_json", "referendum_result_json")):
        links[name] = {}
        for lang in ("ar", "en"):
            with translation.override(lang):
                links[name][lang] = reverse(f"participation:{view}", args=[item.slug])
    return links | {"verifier": f"{settings.STATIC_URL}verify/verify_referendum.py"}


def _tally_anchor(item):
    entry = verification.tally_entry(item)
    if entry is None:
        return None
    position = verification.chain_position(entry)
    return {
        "position": position,
        "entry_hash": entry.entry_hash,
        "recorded_at": entry.created_at,
        "checkpoint": f"{position}:{entry.entry_hash}",
    }


def _live(item, questions, shown):
    """Live counts of an open poll (participation.results.live_poll_results), with both languages' labels."""
    blocks = []
    for question, block in zip(questions, shown["questions"], strict=True):
        options = [_both(option.text_ar, option.text_en) | {"position": option.position} for option in question.options.all()]
        if question.allow_abstain:
            options.append(_abstain_text(item.kind) | {"position": 0})
        blocks.append(
            {
                "position": question.position,
                "text": _both(question.text_ar, question.text_en),
                "multiple": question.is_multiple,
                "options": [
                    {
                        "position": option.pop("position"),
                        "text": option,
                        "abstain": row.get("abstain", False),
                        "votes": row["count"],
                        "percent": row["percent"],
                        "segments": {},
                        "personas": {},
                    }
                    for option, row in zip(options, block["rows"], strict=True)
                ],
            }
        )
    return {"ballots": shown["ballots"], "questions": blocks}


def _counted(item, result, shown):
    """The stored result as the results page shows it (participation.results.snapshot_results): the same cells,
    hidden ones (None) included; the labels in both languages from the same stored counts."""
    segments = [segment.value for segment in shown["segments"]]
    personas = [persona.value for persona in shown["personas"]]
    blocks = []
    for question, block in zip(result.counts["questions"], shown["questions"], strict=True):
        options = []
        for option, row in zip(question["options"], block["rows"], strict=True):
            text = _abstain_text(item.kind) if option.get("abstain") else _both(option["ar"], option["en"])
            options.append(
                {
                    "position": option["position"],
                    "text": text,
                    "abstain": row["abstain"],
                    "votes": row["count"],
                    "percent": row["percent"],
                    "segments": dict(zip(segments, row["segments"], strict=True)),
                    "personas": dict(zip(personas, row["personas"], strict=True)),
                }
            )
        blocks.append(
            {"position": question["position"], "text": _both(question["ar"], question["en"]), "multiple": bool(question.get("multiple")), "options": options}
        )
    return {
        "ballots": shown["ballots"],
        "eligible": shown["eligible"],
        "turnout_percent": shown["turnout"],
        "tallied_at": shown["tallied_at"],
        "ballots_digest": shown["digest"],
        "questions": blocks,
        "segment_ballots": None if shown["segment_ballots"] is None else dict(zip(segments, shown["segment_ballots"], strict=True)),
        "small_cell": shown["small_cell"],
        "shown_by_totals": shown["shown_by_totals"],
        "tally": _tally_anchor(item),
        "downloads": _downloads(item),
    }


def result_data(item, now):
    """What the item's results page shows now, in the API's shape. Reads only; never tallies."""
    questions = list(item.questions.prefetch_related("options"))
    shown = pages._results_for(item, now, questions)
    data = {
        "item": item.slug,
        "type": item.kind,
        "ballots": None,
        "eligible": None,
        "turnout_percent": None,
        "tallied_at": None,
        "ballots_digest": None,
        "questions": [],
        "segment_ballots": None,
        "small_cell": None,
        "shown_by_totals": False,
        "tally": None,
        "downloads": None,
    }
    if shown is None:
        return data | {"status": "not_available"}
    if shown.get("counting"):
        return data | {"status": "counting"}
    if shown["live"]:
        return data | {"status": "live"} | _live(item, questions, shown)
    return data | {"status": "counted"} | _counted(item, Result.objects.get(item=item), shown)


@extend_schema(tags=["results"])
class ItemResults(PublicReadView):
    """What the item's results page shows now: nothing yet, live counts of a poll that shows them, "counting", or the stored result with the same suppressed breakdown as the page."""

    serializer_class = out.ResultSerializer

    @extend_schema(operation_id="items_results_retrieve", summary="The results of a poll or referendum",
                   parameters=[SLUG], responses=answer(out.ResultSerializer))
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def build(self, request, slug):
        item = public_item(slug, Kind.POLL, Kind.REFERENDUM)
        return self.get_serializer(result_data(item, self.now)).data


@extend_schema(tags=["results"])
class ItemReceipts(PublicReadView):
    """Every receipt code of a referendum whose results are published (404 before that)."""

    serializer_class = out.ReceiptSerializer
    pagination_class = ordered_by("receipt")

    @extend_schema(operation_id="items_receipts_list", summary="The receipt list of a published referendum",
                   parameters=[SLUG], responses=answer(out.ReceiptSerializer(many=True)))
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def build(self, request, slug):
        item, _result = open_results._published_referendum(slug)
        return self.page_of(request, item.referendum_ballots.values("receipt"))


# ---------------------------------------------------------------------------
# Outcomes and the audit trail
# ---------------------------------------------------------------------------


class OutcomeFilter(serializers.Serializer):
    entity = serializers.SlugField(required=False, help_text="An entity's slug (an unknown one matches nothing).")


@extend_schema(tags=["outcomes"])
class OutcomeList(PublicReadView):
    """Closed consultations with their outcome: published (on time or late), pending or overdue."""

    serializer_class = out.OutcomeSerializer
    pagination_class = ordered_by("-closes_at", "slug")
    filters = OutcomeFilter

    @extend_schema(operation_id="outcomes_list", summary="Outcomes of closed consultations", parameters=[OutcomeFilter],
                   responses=answer(out.OutcomeSerializer(many=True)))
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def build(self, request):
        wanted = self.query(request, self.filters)
        items = Item.objects.public().closed(self.now).filter(kind=Kind.CONSULTATION).select_related("entity")
        if wanted.get("entity"):
            items = items.filter(entity__slug=wanted["entity"])
        return self.page_of(request, items)


@extend_schema(tags=["outcomes"])
class ItemOutcome(PublicReadView):
    """The outcome of a consultation once it has closed (404 before that); its texts once published."""

    serializer_class = out.OutcomeSerializer

    @extend_schema(operation_id="items_outcome_retrieve", summary="The outcome of a closed consultation",
                   parameters=[SLUG], responses=answer(out.OutcomeSerializer))
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def build(self, request, slug):
        item = public_item(slug, Kind.CONSULTATION)
        if not item.has_closed(self.now):
            raise Http404  # as the outcome page: nothing to say before the close
        return self.get_serializer(item).data


@extend_schema(tags=["audit"])
class AuditCheckpoint(PublicReadView):
    """The audit trail's length and head hash (at most 30 seconds old), for verify_audit_log --checkpoint."""

    serializer_class = out.CheckpointSerializer

    @extend_schema(operation_id="audit_checkpoint_retrieve", summary="A checkpoint of the audit trail",
                   responses=answer(out.CheckpointSerializer))
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def build(self, request):
        point = audit.published_checkpoint()
        return self.get_serializer(
            {"count": point.count, "head": point.head, "checkpoint": str(point), "taken_at": point.taken_at}
        ).data
