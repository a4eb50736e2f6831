"""The draft document (PDF) of an item, served through Django's storage API.

The file is read with `item.attachment.open()`, so it comes from whatever STORAGES["default"] is: the
media folder today, an S3-compatible bucket (django-storages) by changing settings alone. It is never
served from MEDIA_URL: that would bypass the rule below, and it only worked with debug on.
"""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from .models import Item, State


@require_safe
def attachment(request, slug):
    """The PDF of a public item, as a download. Drafts are 404, except to the staff who may preview them
    (permissions.py, view_item, as the preview of the item's page).

    Headers: application/pdf, `attachment` with a plain ASCII file name (the slug), nosniff even if the
    setting is ever turned off. A staff preview of a draft is never cached.
    """
    item = get_object_or_404(Item.objects.select_related("entity"), slug=slug)
    is_preview = item.state == State.DRAFT
    if is_preview and not request.user.has_perm("participation.view_item", item):
        raise Http404
    if not item.attachment:
        raise Http404
    try:
        document = item.attachment.open("rb")
    except (FileNotFoundError, OSError):
        # The row names a file the storage no longer has: a 404, not a 500.
        raise Http404 from None
    response = FileResponse(document, as_attachment=True, filename=f"{item.slug}.pdf", content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    if is_preview:
        add_never_cache_headers(response)
    return response
