"""The auditors' pages: closed items with their CSV downloads, each with a .sha256 companion; and the public
audit checkpoint, which anyone may keep to check the audit trail against later.

Who may read what is asked of participation/permissions.py: export_results for every page here but the
checkpoint, view_auditentry for the audit trail, whose rows are those of the entities the auditor may read
(entity_scope: every entity with view_all_entities)."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, exports, permissions
from .forms import AuditTrailFilterForm
from .models import AuditEntry, Item, Kind
from .services import trail

EXPORT_PERMISSION = "participation.export_results"


def _require_auditor(request):
    if permissions.refusal(request.user, EXPORT_PERMISSION) is not None:
        raise PermissionDenied(_("Only auditors may download exports."))


def audit_index(request):
    _require_auditor(request)
    now = timezone.now()
    items = Item.objects.public().closed(now).select_related("entity").order_by("-closes_at", "-pk")
    page = Paginator(items, 25).get_page(request.GET.get("page"))
    for item in page.object_list:
        item.exports = exports.exports_for(item)
    return render(request, "participation/audit_index.html", {"page": page})


def _not_available(request, reason):
    messages = {
        "not_closed": _(
            "This item has not closed yet, so it cannot be exported. Exports are available once it has closed."
        ),
        "not_counted": _(
            "The ballots of this item are still being counted. This export is available once the count is stored."
        ),
    }
    message = messages.get(reason, _("This export does not exist for this kind of item."))
    return render(
        request,
        "error.html",
        {"title": _("Export not available"), "message": message},
        status=409 if reason in messages else 404,
    )


def export_csv(request, kind, slug, name):
    """Stream one CSV; the download is recorded on the audit trail."""
    _require_auditor(request)
    if kind not in Kind.values:  # before the query: a text column cannot even be asked for a NUL on PostgreSQL
        raise Http404
    item = get_object_or_404(Item.objects.public().select_related("entity"), kind=kind, slug=slug)
    try:
        filename, chunks = exports.export_stream(item, name)
    except exports.ExportNotAvailable as reason:
        return _not_available(request, str(reason))
    trail.record(AuditEntry.Action.EXPORT, actor=request.user, obj=item, details={"export": name}, request=request)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def export_sha256(request, kind, slug, name):
    """The companion checksum, in the format `sha256sum -c` reads."""
    _require_auditor(request)
    if kind not in Kind.values:
        raise Http404
    item = get_object_or_404(Item.objects.public(), kind=kind, slug=slug)
    try:
        filename, chunks = exports.export_stream(item, name)
    except exports.ExportNotAvailable as reason:
        return _not_available(request, str(reason))
    # The checksum line comes first; the audit checkpoint follows as # comments, which `sha256sum -c`
    # and `shasum -a 256 -c` skip (docs/audit.md).
    lines = [f"{exports.sha256_of(chunks)}  {filename}", *audit.checkpoint_comment_lines(audit.checkpoint())]
    response = HttpResponse("".join(f"{line}\n" for line in lines), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.sha256"'
    response["Cache-Control"] = "no-store"
    return response


def audit_trail_csv(request):
    """The whole audit trail (or the filtered part) as CSV, for auditors."""
    _require_auditor(request)
    reason = permissions.refusal(request.user, "participation.view_auditentry")
    if reason is not None:
        raise PermissionDenied(reason)
    # Checked before the export is recorded and the stream starts: a bad filter is a 400 page,
    # never an entry on the trail followed by a download that breaks off.
    filters = AuditTrailFilterForm(request.GET)
    if not filters.is_valid():
        message = next(iter(filters.errors.values()))[0]
        return render(
            request,
            "error.html",
            {"title": _("The audit trail cannot be filtered this way"), "message": message},
            status=400,
        )
    entries = AuditEntry.objects.filter(permissions.entity_scope(request.user))
    if filters.cleaned_data["action"]:
        entries = entries.filter(action=filters.cleaned_data["action"])
    if filters.cleaned_data["entity"]:
        entries = entries.filter(entity__slug=filters.cleaned_data["entity"])
    trail.record(
        AuditEntry.Action.EXPORT,
        actor=request.user,
        details={"export": "audit_trail"},
        request=request,
        object_repr="audit trail",
    )
    response = StreamingHttpResponse(
        exports.csv_chunks(exports.AUDIT_HEADER, exports.audit_rows(entries)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    response["Cache-Control"] = "no-store"
    return response


def audit_checkpoint(request):
    """The audit trail's current checkpoint, for everyone (no login), with how to use it."""
    point = audit.published_checkpoint()
    return render(request, "participation/audit_checkpoint.html", {"checkpoint": point})


def audit_checkpoint_json(request):
    """The same checkpoint for scripts that keep a copy on a schedule."""
    point = audit.published_checkpoint()
    return JsonResponse(
        {
            "count": point.count,
            "head": point.head,
            "checkpoint": str(point),
            "taken_at": point.taken_at.isoformat(),
            "verify": f"python manage.py verify_audit_log --checkpoint {point}",
        }
    )
