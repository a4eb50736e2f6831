"""The auditors' CSV exports: exact bytes, anonymity, formula neutralisation, 409/404, the index page, streaming.

Every CSV is independent of the page language, so each download is checked byte for byte under /ar/
and /en/ against the same expected text, written out here by hand (BOM, CRLF, quoting, Arabic).
"""

import hashlib
import inspect
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from participation import exports
from participation.models import AuditEntry, Comment, Result, State
from tests.answers import (
    BOM,
    EXPORT_MESSAGE_NOT_CLOSED,
    EXPORT_MESSAGE_UNKNOWN,
    HYPERLINK_CELL,
    body_of,
    csv_text,
    digest_of_lines,
    export_url,
    index_url,
    message_in,
    poll_line,
    read_csv,
    referendum_line,
    sha256_url,
)
from tests.builders.audit import (
    CLOSES,
    OPENS,
    QATAR,
    VOTERS,
    bus_poll,
    new_law_referendum,
    still_open_poll,
    ten_ballot_poll,
    transport_consultation,
)

from .conftest import assert_page_language, t

pytestmark = pytest.mark.django_db

RESULTS_HEADER = (
    "type,slug,title_ar,title_en,question,question_ar,question_en,option,option_ar,option_en,votes,percent,"
    "ballots,eligible,turnout_percent,votes_visitor,votes_citizen,votes_resident,tallied_at,ballots_digest"
)
BALLOTS_HEADER = "type,slug,receipt,question,option,option_ar,option_en,segment"
POLL_REGISTER_HEADER = "type,slug,email,full_name,segment,voted_on"
REFERENDUM_REGISTER_HEADER = "type,slug,voted_on,segment,participants"
COMMENTS_HEADER = "slug,comment_id,section,author,body,status,moderation_reason,moderated_by,moderated_at,created_at"
TALLIED_CELL = "2026-03-20T12:00:00+03:00"

# The ballots digest, from the documented line format (independent of participation.tally).
POLL_DIGEST = digest_of_lines([poll_line(1, 1, "citizen"), poll_line(1, 2, "resident"), poll_line(1, 0, "citizen")])


def get_csv(client, url):
    response = client.get(url)
    assert response.status_code == 200, body_of(response)[:500]
    return body_of(response)


# ---------------------------------------------------------------------------
# Exact bytes of each export
# ---------------------------------------------------------------------------


def test_poll_results_csv_byte_for_byte(auditor_client, lang):
    poll, _people = bus_poll()
    question = 'استطلاع مسارات الحافلات,Bus routes,1,أي خط تفضّل؟,"Which line, ""A"" or B?"'
    totals = "3,3,100.0"
    expected = csv_text(
        [
            RESULTS_HEADER,
            f'poll,bus-routes,{question},1,الخط الأول,"Line 1, express",1,33.3,{totals},0,1,0,{TALLIED_CELL},{POLL_DIGEST}',
            f"poll,bus-routes,{question},2,{HYPERLINK_CELL},{HYPERLINK_CELL},1,33.3,{totals},0,0,1,{TALLIED_CELL},{POLL_DIGEST}",
            f"poll,bus-routes,{question},0,لا رأي,No opinion,1,33.3,{totals},0,1,0,{TALLIED_CELL},{POLL_DIGEST}",
        ]
    )
    assert get_csv(auditor_client, export_url(lang, poll, "results")) == expected


def test_poll_ballots_csv_byte_for_byte(auditor_client, lang):
    poll, _people = bus_poll()
    expected = csv_text(
        [
            BALLOTS_HEADER,
            "poll,bus-routes,,1,0,لا رأي,No opinion,citizen",
            'poll,bus-routes,,1,1,الخط الأول,"Line 1, express",citizen',
            f"poll,bus-routes,,1,2,{HYPERLINK_CELL},{HYPERLINK_CELL},resident",
        ]
    )
    assert get_csv(auditor_client, export_url(lang, poll, "ballots")) == expected


def test_poll_register_csv_byte_for_byte(auditor_client, lang):
    """Who took part, on which Qatar day (01:30 in Doha is the day before in UTC); a formula name is neutralised."""
    poll, _people = bus_poll()
    expected = csv_text(
        [
            POLL_REGISTER_HEADER,
            "poll,bus-routes,amal@example.qa,أمل الكواري,citizen,2026-03-10",
            "poll,bus-routes,badr@example.qa,Badr Khan,resident,2026-03-10",
            "poll,bus-routes,carim@example.qa,'@SUM(1+1),citizen,2026-03-11",
        ]
    )
    assert get_csv(auditor_client, export_url(lang, poll, "register")) == expected


def test_referendum_results_csv_byte_for_byte(auditor_client, lang):
    """Segment cells under 10 ballots stay empty in a referendum; a segment that cast no ballots (visitors) has 0."""
    referendum, receipts = new_law_referendum()
    digest = digest_of_lines([referendum_line(receipt, option) for receipt, option in receipts.items()])
    head = "referendum,new-law,قانون المرور الجديد,The new traffic law,1,هل توافق؟,Do you agree?"
    expected = csv_text(
        [
            RESULTS_HEADER,
            f"{head},1,نعم,Yes,1,33.3,3,3,100.0,0,,,{TALLIED_CELL},{digest}",
            f"{head},2,لا,No,1,33.3,3,3,100.0,0,,,{TALLIED_CELL},{digest}",
            f"{head},0,ورقة بيضاء,Blank vote,1,33.3,3,3,100.0,0,,,{TALLIED_CELL},{digest}",
        ]
    )
    assert get_csv(auditor_client, export_url(lang, referendum, "results")) == expected


def test_referendum_ballots_csv_byte_for_byte(auditor_client, lang):
    """In receipt order (not the order of casting), with the receipt and never a segment."""
    referendum, _receipts = new_law_referendum()
    expected = csv_text(
        [
            BALLOTS_HEADER,
            "referendum,new-law,AAAA-BBBB-CCCC-DDDD-EEEE,1,0,ورقة بيضاء,Blank vote,",
            "referendum,new-law,KKKK-LLLL-MMMM-NNNN-2222,1,2,لا,No,",
            "referendum,new-law,QQQQ-RRRR-SSSS-TTTT-7777,1,1,نعم,Yes,",
        ]
    )
    assert get_csv(auditor_client, export_url(lang, referendum, "ballots")) == expected


def test_referendum_register_has_counts_and_never_names(auditor_client, lang):
    referendum, _receipts = new_law_referendum()
    data = get_csv(auditor_client, export_url(lang, referendum, "register"))
    assert data == csv_text(
        [
            REFERENDUM_REGISTER_HEADER,
            "referendum,new-law,2026-03-10,citizen,1",
            "referendum,new-law,2026-03-10,resident,1",
            "referendum,new-law,2026-03-11,citizen,1",
        ]
    )
    text = data.decode()
    for email, name, _segment in VOTERS:
        assert email not in text
        assert name not in text


def test_consultation_comments_csv_byte_for_byte(auditor_client, lang):
    consultation, (published, hidden, pending), _moderator = transport_consultation()
    moderated = "moderator@gov.example.qa,2026-03-12T10:00:00+03:00"
    expected = csv_text(
        [
            COMMENTS_HEADER,
            f'transport-law,{published.pk},1,أمل الكواري,"Good idea, but ""slow""",published,,{moderated},2026-03-10T09:30:00+03:00',
            f"transport-law,{hidden.pk},,Badr Khan,'=1+1,hidden,Not about the draft,{moderated},2026-03-10T09:31:00+03:00",
            f"transport-law,{pending.pk},,'@SUM(1+1),\"'- point one\n- point two\",pending,,,,2026-03-11T01:30:00+03:00",
        ]
    )
    assert get_csv(auditor_client, export_url(lang, consultation, "comments")) == expected


def test_the_digest_in_the_results_is_the_one_stored_with_the_result(auditor_client, lang):
    poll, _people = bus_poll()
    assert Result.objects.get(item=poll).ballots_digest == POLL_DIGEST
    rows = read_csv(get_csv(auditor_client, export_url(lang, poll, "results")))
    assert {row[-1] for row in rows[1:]} == {POLL_DIGEST}


@pytest.mark.parametrize("name", ["results", "ballots"])
def test_an_export_never_counts_a_closed_item_the_worker_has_not_counted_yet(auditor_client, lang, name):
    """Exports only read. Until the worker has counted, there is nothing to export (and a referendum's ballots are
    still sealed): a 409 that says so, in the page's language, and nothing on the trail."""
    poll = still_open_poll(closes_at=CLOSES)
    before = AuditEntry.objects.count()
    response = auditor_client.get(export_url(lang, poll, name))
    assert response.status_code == 409
    assert_page_language(response, lang)
    assert (
        t(lang, "The ballots of this item are still being counted. This export is available once the count is stored.")
        in response.content.decode()
    )
    assert not Result.objects.filter(item=poll).exists()
    assert AuditEntry.objects.count() == before


# ---------------------------------------------------------------------------
# Anonymity of the ballots
# ---------------------------------------------------------------------------


def test_poll_ballots_have_no_voter_and_no_time(auditor_client, lang):
    poll, people = bus_poll()
    header, *rows = read_csv(get_csv(auditor_client, export_url(lang, poll, "ballots")))
    forbidden = {"email", "name", "full_name", "user", "user_id", "voter", "voter_id", "cast_at", "time", "voted_on"}
    assert not forbidden & set(header)
    assert not [column for column in header if "time" in column or column.endswith(("_at", "_id"))]
    text = "\n".join(",".join(row) for row in rows)
    for person in people:
        assert person.email not in text
        assert person.full_name.lstrip("@") not in text
    assert "2026-03" not in text  # no day, no time
    assert {row[header.index("segment")] for row in rows} == {"citizen", "resident"}


def test_referendum_ballots_have_no_voter_and_no_segment(auditor_client, lang):
    referendum, _receipts = new_law_referendum()
    header, *rows = read_csv(get_csv(auditor_client, export_url(lang, referendum, "ballots")))
    assert header == BALLOTS_HEADER.split(",")
    text = "\n".join(",".join(row) for row in rows)
    for email, _name, segment in VOTERS:
        assert email not in text
        assert segment not in text
    assert "2026-03" not in text


# ---------------------------------------------------------------------------
# The response: headers, the .sha256 companion, the same bytes twice
# ---------------------------------------------------------------------------

EXPORTS = [
    ("poll", "results"),
    ("poll", "ballots"),
    ("poll", "register"),
    ("referendum", "results"),
    ("referendum", "ballots"),
    ("referendum", "register"),
    ("consultation", "comments"),
]


BUILD = {
    "poll": lambda: bus_poll()[0],
    "referendum": lambda: new_law_referendum()[0],
    "consultation": lambda: transport_consultation()[0],
}


@pytest.fixture
def closed_items(db):
    return {kind: build() for kind, build in BUILD.items()}


@pytest.mark.parametrize(("kind", "name"), EXPORTS)
def test_every_export_is_a_streamed_csv_attachment(auditor_client, lang, kind, name):
    item = BUILD[kind]()
    response = auditor_client.get(export_url(lang, item, name))
    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{kind}-{item.slug}-{name}.csv"'
    assert "no-store" in response["Cache-Control"]
    data = body_of(response)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"").replace(b"- point one\n- point two", b"")


@pytest.mark.parametrize(("kind", "name"), EXPORTS)
def test_the_sha256_companion_matches_the_download(auditor_client, lang, kind, name):
    item = BUILD[kind]()
    first = get_csv(auditor_client, export_url(lang, item, name))
    response = auditor_client.get(sha256_url(lang, item, name))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{kind}-{item.slug}-{name}.csv.sha256"'
    # The format `sha256sum -c` reads: digest, two spaces, file name; then the audit checkpoint as # comments.
    checksum_line, *comments = response.content.decode().splitlines()
    assert checksum_line == f"{hashlib.sha256(first).hexdigest()}  {kind}-{item.slug}-{name}.csv"
    assert comments and all(line.startswith("# ") for line in comments)
    # Downloading again (in the other language) gives the very same bytes.
    other = "en" if lang == "ar" else "ar"
    assert get_csv(auditor_client, export_url(other, item, name)) == first


# ---------------------------------------------------------------------------
# Not closed yet: 409; not an export of this kind of item: 404
# ---------------------------------------------------------------------------


def assert_error_page(response, status, lang, msgid):
    assert response.status_code == status
    text = response.content.decode()
    assert escape(message_in(lang, msgid)) in text
    if lang == "ar":
        assert msgid not in text, "the message is not translated into Arabic"
    assert b"\xef\xbb\xbf" not in response.content


@pytest.mark.parametrize("name", ["results", "ballots", "register"])
@pytest.mark.parametrize("companion", [False, True], ids=["csv", "sha256"])
def test_an_open_item_cannot_be_exported(auditor_client, lang, name, companion):
    poll = still_open_poll()
    url = sha256_url(lang, poll, name) if companion else export_url(lang, poll, name)
    assert_error_page(auditor_client.get(url), 409, lang, EXPORT_MESSAGE_NOT_CLOSED)
    assert not Result.objects.filter(item=poll).exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()


@pytest.mark.parametrize(
    "when",
    [
        {"opens_at": OPENS + timedelta(days=400), "closes_at": OPENS + timedelta(days=407), "state": State.SCHEDULED},
        {"opens_at": OPENS, "closes_at": None, "state": State.SCHEDULED},
    ],
    ids=["scheduled", "open-by-the-clock"],
)
def test_a_scheduled_item_cannot_be_exported(auditor_client, lang, when):
    poll = still_open_poll(**when)
    assert_error_page(auditor_client.get(export_url(lang, poll, "ballots")), 409, lang, EXPORT_MESSAGE_NOT_CLOSED)


def test_an_open_consultation_cannot_be_exported(auditor_client, lang):
    consultation, _comments, _moderator = transport_consultation()
    consultation.__class__.objects.filter(pk=consultation.pk).update(closes_at=timezone.now() + timedelta(days=1))
    assert_error_page(
        auditor_client.get(export_url(lang, consultation, "comments")), 409, lang, EXPORT_MESSAGE_NOT_CLOSED
    )


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("poll", "comments"),
        ("referendum", "comments"),
        ("consultation", "results"),
        ("consultation", "ballots"),
        ("consultation", "register"),
        ("poll", "everything"),
        ("poll", "trail"),
    ],
)
@pytest.mark.parametrize("companion", [False, True], ids=["csv", "sha256"])
def test_an_export_that_does_not_exist_for_the_kind_is_not_found(auditor_client, lang, kind, name, companion):
    item = BUILD[kind]()
    url = sha256_url(lang, item, name) if companion else export_url(lang, item, name)
    assert_error_page(auditor_client.get(url), 404, lang, EXPORT_MESSAGE_UNKNOWN)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()


def test_the_type_in_the_address_must_be_the_items(auditor_client, lang):
    BUILD["poll"]()
    assert auditor_client.get(f"/{lang}/audit/referendum/bus-routes/results.csv").status_code == 404
    assert auditor_client.get(f"/{lang}/audit/survey/bus-routes/results.csv").status_code == 404
    assert auditor_client.get(f"/{lang}/audit/poll/no-such-poll/results.csv").status_code == 404


def test_a_draft_is_not_found(auditor_client, lang):
    poll = still_open_poll(state=State.DRAFT, closes_at=CLOSES)
    assert auditor_client.get(export_url(lang, poll, "results")).status_code == 404
    assert auditor_client.get(sha256_url(lang, poll, "ballots")).status_code == 404


# ---------------------------------------------------------------------------
# The exports page
# ---------------------------------------------------------------------------


def test_the_exports_page_lists_closed_items_with_their_downloads(auditor_client, lang, closed_items):
    _still_open = still_open_poll(slug="still-open")
    _draft = still_open_poll(slug="a-draft", state=State.DRAFT, closes_at=CLOSES)
    response = auditor_client.get(index_url(lang))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}"' in html
    assert escape(message_in(lang, "Audit exports")) in html
    for kind, name in EXPORTS:
        item = closed_items[kind]
        assert f'href="{export_url(lang, item, name)}"' in html
        assert f'href="{sha256_url(lang, item, name)}"' in html
    assert escape(closed_items["poll"].title_ar if lang == "ar" else closed_items["poll"].title_en) in html
    poll = closed_items["poll"]
    assert f'href="{export_url(lang, poll, "comments")}"' not in html
    assert f'href="{export_url(lang, closed_items["consultation"], "results")}"' not in html
    assert "still-open" not in html
    assert "a-draft" not in html
    assert f'href="/{lang}/audit/trail.csv"' in html


def test_the_exports_page_says_when_nothing_has_closed(auditor_client, lang):
    still_open_poll()
    response = auditor_client.get(index_url(lang))
    assert response.status_code == 200
    assert escape(message_in(lang, "No item has closed yet.")) in response.content.decode()


# ---------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------


def test_ballots_are_streamed_in_chunks_not_built_in_memory(auditor_client, lang, monkeypatch):
    poll = ten_ballot_poll()
    monkeypatch.setattr(exports, "CHUNK_ROWS", 3)
    response = auditor_client.get(export_url(lang, poll, "ballots"))
    assert isinstance(response, StreamingHttpResponse)
    assert response.streaming is True
    assert not response.has_header("Content-Length")
    content = response.streaming_content
    assert iter(content) is content, "the body is an iterator, not a list"
    chunks = list(content)
    assert b"".join(chunks).count(b"\r\n") == 11  # header and 10 ballots
    assert len(chunks) > 2, f"10 ballots with CHUNK_ROWS=3 came in {len(chunks)} chunk(s)"
    assert max(chunk.count(b"\r\n") for chunk in chunks[1:]) <= 3


def test_the_first_chunk_is_sent_before_any_ballot_is_read(auditor_client, lang):
    poll = ten_ballot_poll()
    response = auditor_client.get(export_url(lang, poll, "ballots"))
    content = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as before:
        first = next(content)
    assert first == (BOM + BALLOTS_HEADER + "\r\n").encode()
    assert not [q for q in before.captured_queries if "participation_pollanswer" in q["sql"]]
    with CaptureQueriesContext(connection) as after:
        rest = b"".join(content)
    assert [q for q in after.captured_queries if "participation_pollanswer" in q["sql"]]
    assert rest.count(b"\r\n") == 10


@pytest.mark.parametrize("name", ["results", "ballots", "register"])
def test_the_stream_is_a_generator(name):
    poll = ten_ballot_poll()
    _filename, chunks = exports.export_stream(poll, name)
    assert inspect.isgenerator(chunks)


def test_the_rows_are_read_with_the_chunk_size(monkeypatch):
    """Python's path (SQLite's ballots, every other export) reads CHUNK_ROWS at a time (a server-side cursor on PostgreSQL)."""
    poll = ten_ballot_poll()
    monkeypatch.setattr(exports, "CHUNK_ROWS", 4)
    sizes = []
    original = type(Result.objects.all()).iterator

    def spy(queryset, chunk_size=None):
        sizes.append(chunk_size)
        return original(queryset, chunk_size=chunk_size)

    monkeypatch.setattr(type(Result.objects.all()), "iterator", spy)
    list(exports.csv_chunks(exports.BALLOTS_HEADER, exports.ballot_rows(poll)))
    assert sizes == [4]


# ---------------------------------------------------------------------------
# Cells: RFC 4180, ISO 8601 with the Qatar offset, formula neutralisation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_cell_that_a_spreadsheet_would_run_gets_an_apostrophe(start):
    assert exports.cell(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (True, "true"),
        (-5, "-5"),
        (12.5, "12.5"),
        ("مرحبا", "مرحبا"),
        (date(2026, 3, 11), "2026-03-11"),
        (datetime(2026, 3, 10, 22, 30, tzinfo=UTC), "2026-03-11T01:30:00+03:00"),
        (datetime(2026, 3, 11, 1, 30, tzinfo=QATAR), "2026-03-11T01:30:00+03:00"),
    ],
)
def test_other_cells(value, text):
    assert exports.cell(value) == text


def test_csv_chunks_write_rfc_4180():
    rows = [
        ["a,b", 'say "hi"', "two\nlines", "\tTabbed"],
        ['=HYPERLINK("x")', "+974", "@home", "\rcarriage"],
        ["سلام", 0, None, "plain"],
    ]
    text = "".join(exports.csv_chunks(["one", "two", "three", "four"], rows))
    assert text == (
        "\ufeffone,two,three,four\r\n"
        '"a,b","say ""hi""","two\nlines",\'\tTabbed\r\n'
        '"\'=HYPERLINK(""x"")",\'+974,\'@home,"\'\rcarriage"\r\n'
        "سلام,0,,plain\r\n"
    )


def test_comment_timestamps_are_in_qatar_time(auditor_client, lang):
    consultation, comments, _moderator = transport_consultation()
    rows = read_csv(get_csv(auditor_client, export_url(lang, consultation, "comments")))[1:]
    created = [row[-1] for row in rows]
    assert created == [
        timezone.localtime(c.created_at, QATAR).isoformat() for c in Comment.objects.order_by("created_at", "pk")
    ]
    assert all(value.endswith("+03:00") for value in created)
    assert comments[2].created_at.astimezone(UTC).day == 10  # written on the 10th in UTC...
    assert created[2].startswith("2026-03-11T01:30:00")  # ...and on the 11th in Doha
