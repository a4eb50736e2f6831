from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def validate_pdf(upload):
    """Accept only real PDF files of at most 10 MB (checked by content, not by name)."""
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(_("The file is larger than 10 MB. Upload a smaller PDF."), code="too_large")
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(5)
    upload.seek(position)
    if head != b"%PDF-" or not upload.name.lower().endswith(".pdf"):
        raise ValidationError(_("Only PDF documents can be attached."), code="not_pdf")
