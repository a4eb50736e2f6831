import unicodedata

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


# Characters that end or break a line, or that a terminal or a mail header acts on: every control character (Cc:
# NUL, tab, CR, LF, ESC, DEL, NEL ...) and the Unicode line and paragraph separators, which str.splitlines() and
# some mail clients treat as line breaks. Bidi marks (Cf: U+200F, U+061C ...) stay allowed: Arabic titles need them.
LINE_BREAKING_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def breaks_a_line(value):
    """True when the text holds a character that a single-line field must not carry."""
    return any(unicodedata.category(char) in LINE_BREAKING_CATEGORIES for char in value or "")


def validate_single_line(value):
    """Titles, names and other one-line texts: no line breaks and no control characters.

    A title ends up in an e-mail subject, a CSV cell and a page heading; a CR or LF in it
    would break the mail header (Django refuses to send it) or split the CSV row.
    """
    if breaks_a_line(value):
        raise ValidationError(
            _("Write this on one line, without line breaks or control characters."), code="not_single_line"
        )
