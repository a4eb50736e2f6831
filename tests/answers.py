"""Reading what the portal answers: response bodies, CSV exports, digests, e-mail links, command output,
audit entries, and the addresses they come from. (The worlds these read are built by tests/builders/.)"""

import csv
import hashlib
import io
import re
from urllib.parse import urlsplit

from django.core.management import call_command
from django.utils import translation

from participation.models import AuditEntry

BOM = "\ufeff"
CRLF = "\r\n"
HYPERLINK_CELL = '"\'=HYPERLINK(""x"")"'  # what the CSV must hold: quoted, apostrophe, quotes doubled
EXPORT_MESSAGE_NOT_CLOSED = (
    "This item has not closed yet, so it cannot be exported. Exports are available once it has closed."
)
EXPORT_MESSAGE_UNKNOWN = "This export does not exist for this kind of item."
UNSUBSCRIBE_RE = re.compile(r"https?://\S+/(ar|en)/unsubscribe/(?P<token>[^/\s]+)/")


# ---------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------


def export_url(lang, item, name):
    return f"/{lang}/audit/{item.kind}/{item.slug}/{name}.csv"


def sha256_url(lang, item, name):
    return f"{export_url(lang, item, name)}.sha256"


def trail_url(lang):
    return f"/{lang}/audit/trail.csv"


def index_url(lang):
    return f"/{lang}/audit/"


# ---------------------------------------------------------------------------
# Reading responses and files
# ---------------------------------------------------------------------------


def body_of(response):
    """The bytes of a response, streamed or not."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def csv_text(expected_lines):
    """What a CSV export must be, as bytes: BOM, then every line ended by CRLF."""
    return (BOM + "".join(line + CRLF for line in expected_lines)).encode("utf-8")


def read_csv(data):
    """Rows of a downloaded CSV (bytes), BOM removed; the first row is the header."""
    text = data.decode("utf-8")
    assert text.startswith(BOM), "the CSV has no byte-order mark"
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def read_dicts(data):
    header, *rows = read_csv(data)
    return [dict(zip(header, row, strict=True)) for row in rows]


def message_in(lang, msgid):
    with translation.override(lang):
        return translation.gettext(msgid)


# ---------------------------------------------------------------------------
# Management commands
# ---------------------------------------------------------------------------


def run_command(name, *args):
    """(exit code, stdout) of a management command; SystemExit(n) gives n."""
    out = io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def entries(action=None, **filters):
    queryset = AuditEntry.objects.order_by("pk")
    if action:
        queryset = queryset.filter(action=action)
    return list(queryset.filter(**filters))


# ---------------------------------------------------------------------------
# The documented digest, computed independently
# ---------------------------------------------------------------------------


def digest_of_lines(lines):
    """SHA-256 of the lines sorted bytewise (as `LC_ALL=C sort`), concatenated."""
    return hashlib.sha256(b"".join(sorted(line.encode("utf-8") for line in lines))).hexdigest()


def poll_line(question_position, option_position, segment):
    """One answer: P|qqq|ooo|segment (option 000 = no opinion)."""
    return f"P|{question_position:03d}|{option_position:03d}|{segment}\n"


def referendum_line(receipt, option_position):
    """One ballot: R|receipt|ooo (000 = blank vote)."""
    return f"R|{receipt}|{option_position:03d}\n"


def unsubscribe_path(body):
    """The path of the unsubscribe link in an e-mail body (the host is PORTAL_BASE_URL)."""
    match = UNSUBSCRIBE_RE.search(body)
    assert match, f"no unsubscribe link in the e-mail:\n{body}"
    return urlsplit(match.group(0)).path
