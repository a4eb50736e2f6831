"""Hostile input for the property tests: strategies, raw encodings, and what every answer must satisfy.

The strategies start from a fixed list of values that broke the portal or its neighbours (NUL,
superscript and Arabic-Indic digits, a 5,000-digit number, bidi overrides, CR/LF, lone surrogates,
invalid UTF-8) and add generated text and bytes around them. A value is either text (sent as UTF-8)
or bytes (sent as they are, percent-encoded: how invalid UTF-8 and lone surrogates reach the server).
"""

import html
import os
import re
from datetime import timedelta
from urllib.parse import quote_from_bytes

from allauth.account.models import EmailAddress
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from accounts.models import User
from participation.models import (
    AuditEntry,
    Comment,
    Entity,
    Item,
    Notification,
    PageFeedback,
    PollAnswer,
    PollBallot,
    ReferendumBallot,
    ReferendumParticipation,
    SectionReaction,
)
from participation.validators import breaks_a_line

# Bounded and repeatable: CI sees the same examples on every run, and no example database is written.
# PORTAL_HOSTILE_EXAMPLES=500 digs deeper locally (the explicit @examples always run first).
HOSTILE_SETTINGS = settings(
    max_examples=int(os.environ.get("PORTAL_HOSTILE_EXAMPLES", "20")),
    deadline=timedelta(seconds=10),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

HUGE_NUMBER = "9" * 5000
KNOWN_HOSTILE = [
    "\x00",
    "1\x00",
    "²",
    "¹²³",
    "٣",
    "٠١٢٣٤٥٦٧٨٩",
    "۴",
    "１",
    "𝟙",
    HUGE_NUMBER,
    "99999999999",
    "-1",
    "0",
    "1e309",
    "NaN",
    "0x10",
    " 1 ",
    "\u202e",
    "abc\u202efed",
    "\u2066x\u2069",
    "\u200f\u061c",
    "\r\n",
    "title\r\nBcc: someone@example.com",
    "\x1b[31m",
    "\x7f\x85",
    "\u2028",
    "\ufeff",
    "%00",
    "'; --",
    "<script>x</script>",
    "../../etc/passwd",
    "",
    " ",
    "x" * 3000,
]
# Bytes that are not UTF-8: a lone surrogate as UTF-8 would write it, a stray continuation byte, overlong NUL.
KNOWN_RAW = [b"\xed\xa0\x80", b"\xff", b"\xc0\x80", b"abc\x80", b"\xe2\x82"]

numbers_as_text = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=20, max_value=5000).map(lambda n: "9" * n),
    st.text(alphabet="0123456789²³¹⁰⁴٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹１２３", min_size=1, max_size=12),
)
tricky_characters = st.sampled_from(["\x00", "\r", "\n", "\t", "\u202e", "\u202d", "\u2066", "\u200f", "\u2028", "\x1b"])
mixed_text = st.lists(
    st.one_of(st.text(max_size=8), tricky_characters, st.sampled_from(KNOWN_HOSTILE[:20])), min_size=1, max_size=5
).map("".join)

hostile_text = st.one_of(st.sampled_from(KNOWN_HOSTILE), numbers_as_text, mixed_text, st.text(max_size=40))
raw_bytes = st.one_of(st.sampled_from(KNOWN_RAW), st.binary(min_size=1, max_size=12))
hostile_value = st.one_of(hostile_text, hostile_text, raw_bytes)


def text_of(value):
    """A value as the server decodes it (bytes with replacement characters)."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def encode(value):
    raw = value if isinstance(value, bytes) else value.encode("utf-8", errors="surrogatepass")
    return quote_from_bytes(raw, safe="")


def query_string(pairs):
    return "&".join(f"{encode(key)}={encode(value)}" for key, value in pairs)


def send(client, method, path, pairs=(), encoding="urlencoded", **extra):
    """GET with a raw query string, or POST the pairs urlencoded (raw bytes kept) or as multipart (text only)."""
    if method == "get":
        separator = "&" if "?" in path else "?"
        return client.get(f"{path}{separator}{query_string(pairs)}" if pairs else path, **extra)
    if encoding == "multipart":
        data = {}
        for key, value in pairs:
            data.setdefault(text_of(key), []).append(text_of(value))
        return client.post(path, data, **extra)
    body = query_string(pairs).encode("ascii")
    return client.post(path, body, content_type="application/x-www-form-urlencoded", **extra)


# ---------------------------------------------------------------------------
# What every answer must satisfy
# ---------------------------------------------------------------------------

WATCHED = (
    User,
    EmailAddress,
    Entity,
    Item,
    PollBallot,
    PollAnswer,
    ReferendumParticipation,
    ReferendumBallot,
    Comment,
    SectionReaction,
    PageFeedback,
    Notification,
    AuditEntry,
)


def row_counts():
    return {model.__name__: model.objects.count() for model in WATCHED}


ALERT_RE = re.compile(r'<(div|p|section)\b[^>]*role="alert"[^>]*>(.*?)</\1>', re.S)
ADMIN_MESSAGE_RE = re.compile(r'<li class="(?:error|warning)"[^>]*>(.*?)</li>', re.S)
TAG_RE = re.compile(r"<[^>]+>")
ARABIC_LETTERS = re.compile(r"[\u0621-\u064a]{2,}")
LATIN_WORDS = re.compile(r"[A-Za-z]{2,}(?:\s+[A-Za-z]{2,}){2,}")


def visible(markup):
    return html.unescape(TAG_RE.sub(" ", markup))


def without_echoes(text, sent):
    """The message with whatever the request sent removed (Django echoes a bad choice back)."""
    for value in sorted((text_of(v) for v in sent if text_of(v).strip()), key=len, reverse=True):
        for form in {value, value.upper(), value.strip()}:
            if form.strip():
                text = text.replace(form, " ")
    return text


def assert_message_language(message, lang, sent=()):
    """A refusal's message is written in the page's language (echoed input aside)."""
    text = without_echoes(message, sent)
    assert text.strip(), "the refusal has no message"
    if lang == "ar":
        assert ARABIC_LETTERS.search(text), f"no Arabic in the refusal: {text!r}"
        assert not LATIN_WORDS.search(text), f"English words in an Arabic refusal: {text!r}"
    else:
        assert LATIN_WORDS.search(text) or re.search(r"[A-Za-z]{4,}", text), f"no English in the refusal: {text!r}"
        assert not ARABIC_LETTERS.search(text), f"Arabic in an English refusal: {text!r}"


def refusal_message(response):
    """The text a refusal shows: the JSON error, or the page's alert(s)."""
    if response["Content-Type"].startswith("application/json"):
        return response.json()["error"]
    body = response.content.decode()
    alerts = [visible(match.group(2)) for match in ALERT_RE.finditer(body)]
    assert alerts, f"no role=alert message on the {response.status_code} page"
    return " ".join(alerts)


def assert_page_language(response, lang):
    if response["Content-Type"].startswith("text/html"):
        tag = re.search(r"<html[^>]*>", response.content.decode()).group(0)
        assert f'lang="{lang}"' in tag, tag


def assert_refusal(response, lang, sent=(), redisplayed=()):
    """A 4xx answer (or a form shown again) in the page's language, with a message in that language."""
    assert 400 <= response.status_code < 500 or response.status_code in redisplayed, response.status_code
    assert_page_language(response, lang)
    assert_message_language(refusal_message(response), lang, sent)


def assert_no_500(response):
    assert response.status_code < 500, f"{response.status_code} for {response.wsgi_request.get_full_path()}"


def assert_stored_text_clean():
    """Whatever was accepted is stored without NUL, and single-line fields without line breaks."""
    assert not any(breaks_a_line(name) for name in User.objects.values_list("full_name", flat=True))
    assert not any(breaks_a_line(path) for path in PageFeedback.objects.values_list("path", flat=True))
    assert not any("\x00" in body for body in Comment.objects.values_list("body", flat=True))
