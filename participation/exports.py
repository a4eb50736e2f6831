"""CSV exports for auditors, streamed row by row from server-side cursors.

Every file: RFC 4180 (CRLF line ends, quotes where needed), UTF-8 with a
byte-order mark so that spreadsheets show Arabic, stable English column names
(docs/exports.md), ISO 8601 timestamps with offset, and any text cell that a
spreadsheet would run as a formula neutralised with a leading apostrophe.
The output is deterministic, so a companion .sha256 can be computed by
producing the same stream again.
"""

import csv
import hashlib
import json
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from psycopg import ClientCursor

from accounts.models import Segment

from .models import Comment, Kind, PollAnswer, Result
from .tally import binary_order

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2000
ABSTAIN_LABELS = {Kind.POLL: ("لا رأي", "No opinion"), Kind.REFERENDUM: ("ورقة بيضاء", "Blank vote")}
SEGMENTS = [s.value for s in Segment]


def cell(value):
    """One CSV cell as text: ISO dates, plain numbers, neutralised formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Line:
    """csv.writer target that hands back what it was given instead of storing it."""

    def write(self, value):
        return value


def csv_chunks(header, rows, chunk_rows=None):
    """Yield the CSV as text chunks of up to chunk_rows rows, BOM and header first."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield BOM + writer.writerow(header)
    chunk = []
    for row in rows:
        chunk.append(writer.writerow([cell(value) for value in row]))
        if len(chunk) >= chunk_rows:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def sha256_of(chunks):
    """SHA-256 of a stream of text (Python's csv path) or bytes (PostgreSQL's COPY path) chunks."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk if isinstance(chunk, bytes) else chunk.encode("utf-8"))
    return digest.hexdigest()


class ExportNotAvailable(Exception):
    pass


# -- results ------------------------------------------------------------------

RESULTS_HEADER = [
    "type", "slug", "title_ar", "title_en", "question", "question_ar", "question_en",
    "option", "option_ar", "option_en", "votes", "percent", "ballots", "eligible", "turnout_percent",
    *[f"votes_{segment}" for segment in SEGMENTS], "tallied_at", "ballots_digest",
]


def _segment_cell(kind, cells, segment, key):
    """A poll's missing cell is 0. A referendum's hidden cell is None (written empty); a segment with no ballots has 0."""
    if kind == Kind.POLL or segment not in cells:
        return cells.get(segment, {}).get(key, 0)
    return cells[segment].get(key)


def results_rows(item, result):
    """One row per option; a referendum's hidden breakdown cells are empty (see tally.referendum_breakdown)."""
    breakdown = result.counts.get("breakdown", {}).get("segment", {})
    for question in result.counts["questions"]:
        for option in question["options"]:
            key = f"{question['id']}:{option['id'] or 0}"
            ar, en = ABSTAIN_LABELS[item.kind] if option.get("abstain") else (option["ar"], option["en"])
            yield [
                item.kind, item.slug, item.title_ar, item.title_en,
                question["position"], question["ar"], question["en"],
                option["position"], ar, en, option["votes"], option["percent"],
                result.ballots, result.eligible, result.turnout_percent,
                *[_segment_cell(item.kind, breakdown, segment, key) for segment in SEGMENTS],
                result.tallied_at, result.ballots_digest,
            ]


# -- ballots ------------------------------------------------------------------

BALLOTS_HEADER = ["type", "slug", "receipt", "question", "option", "option_ar", "option_en", "segment"]


def ballot_rows(item):
    """Anonymous ballots in the digest's order: never a user, a name, an e-mail or a time."""
    if item.kind == Kind.POLL:
        rows = (
            PollAnswer.objects.filter(ballot__item=item)
            .annotate(q=F("question__position"), o=Coalesce(F("option__position"), Value(0)))
            .order_by("q", "o", binary_order("ballot__segment"))
            .values_list("q", "o", "option__text_ar", "option__text_en", "ballot__segment")
        )
        abstain_ar, abstain_en = ABSTAIN_LABELS[Kind.POLL]
        for question, option, text_ar, text_en, segment in rows.iterator(chunk_size=CHUNK_ROWS):
            yield [item.kind, item.slug, "", question, option, text_ar or abstain_ar, text_en or abstain_en, segment]
    else:
        rows = (
            item.referendum_ballots.annotate(o=Coalesce(F("option__position"), Value(0)))
            .order_by(binary_order("receipt"))
            .values_list("receipt", "o", "option__text_ar", "option__text_en")
        )
        blank_ar, blank_en = ABSTAIN_LABELS[Kind.REFERENDUM]
        for receipt, option, text_ar, text_en in rows.iterator(chunk_size=CHUNK_ROWS):
            yield [item.kind, item.slug, receipt, 1, option, text_ar or blank_ar, text_en or blank_en, ""]


# The same file from PostgreSQL's own COPY: each cell computed in SQL exactly as cell() and csv.writer
# write it, so both paths give the same bytes (tests/participation/test_exports_copy.py).
#   - the formula guard: an apostrophe before a text that starts with = + - @ TAB or CR;
#   - COPY's CSV quotes a field containing a comma, a quote, CR or LF, and doubles quotes, as csv.writer
#     does; it also quotes an empty string (to tell it from NULL), which csv.writer does not: so an empty
#     text is sent as NULL, which COPY writes as nothing, as cell(None) and cell("") do;
#   - COPY ends rows with LF: the stream turns each LF into CRLF. No cell can hold an LF of its own: the
#     columns are slugs, receipts, numbers, segments and option texts, which the database keeps to one
#     line (option_text_single_line).
GUARD_SQL = "CASE WHEN left({0}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || {0} ELSE {0} END"


def _text_sql(column):
    return f"NULLIF({GUARD_SQL.format(column)}, '')"


def _ballots_copy_sql(item):
    """(COPY statement, parameters) of the ballots export of a poll or a referendum, rows in the digest's order.

    The options' cells are worked out once per option (a materialised CTE), not once per ballot.
    """
    abstain_ar, abstain_en = ABSTAIN_LABELS[item.kind]
    params = {
        "type": cell(item.kind) or None, "slug": cell(item.slug) or None, "item": item.pk, "empty": "",
        "abstain_ar": abstain_ar, "abstain_en": abstain_en,
        "blank_ar": cell(abstain_ar) or None, "blank_en": cell(abstain_en) or None,
    }
    labels = (
        "WITH labels AS MATERIALIZED (SELECT o.id, o.position, "  # noqa: S608
        f"{_text_sql('COALESCE(NULLIF(o.text_ar, %(empty)s), %(abstain_ar)s)')} AS ar, "
        f"{_text_sql('COALESCE(NULLIF(o.text_en, %(empty)s), %(abstain_en)s)')} AS en "
        "FROM participation_option o JOIN participation_question q ON q.id = o.question_id WHERE q.item_id = %(item)s) "
    )
    option = "COALESCE(l.position, 0), COALESCE(l.ar, %(blank_ar)s), COALESCE(l.en, %(blank_en)s)"
    # Only fixed fragments are formatted into the SQL; every value is a parameter.
    if item.kind == Kind.POLL:
        select = (
            f"{labels}SELECT %(type)s, %(slug)s, NULL, q.position, {option}, {_text_sql('b.segment')} "  # noqa: S608
            "FROM participation_pollanswer a JOIN participation_pollballot b ON b.id = a.ballot_id "
            "JOIN participation_question q ON q.id = a.question_id LEFT JOIN labels l ON l.id = a.option_id "
            'WHERE b.item_id = %(item)s ORDER BY q.position, COALESCE(l.position, 0), b.segment COLLATE "C"'
        )
    else:
        select = (
            f"{labels}SELECT %(type)s, %(slug)s, {_text_sql('b.receipt')}, 1, {option}, NULL "  # noqa: S608
            "FROM participation_referendumballot b LEFT JOIN labels l ON l.id = b.option_id "
            'WHERE b.item_id = %(item)s ORDER BY b.receipt COLLATE "C"'
        )
    return f"COPY ({select}) TO STDOUT WITH (FORMAT csv)", params


def copied_ballots_chunks(item, chunk_rows=None):
    """The ballots CSV as bytes, streamed from PostgreSQL's COPY: BOM and header first, then chunk_rows rows a chunk."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    yield (BOM + csv.writer(_Line(), lineterminator="\r\n").writerow(BALLOTS_HEADER)).encode("utf-8")
    statement, params = _ballots_copy_sql(item)
    connection.ensure_connection()
    # Bound on the client with psycopg's own quoting, so that Django's cursor can log it like any query.
    statement = ClientCursor(connection.connection).mogrify(statement, params)
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        rows = []
        for row in copy:
            # A copy of each row at once: holding psycopg's memoryviews (libpq's buffers) costs 5 µs a row.
            rows.append(bytes(row))
            if len(rows) >= chunk_rows:
                yield b"".join(rows).replace(b"\n", b"\r\n")
                rows = []
        if rows:
            yield b"".join(rows).replace(b"\n", b"\r\n")


def ballots_chunks(item):
    """The ballots CSV: PostgreSQL's own COPY output where there is PostgreSQL, Python's csv module elsewhere."""
    if connection.vendor == "postgresql":
        return copied_ballots_chunks(item)
    return csv_chunks(BALLOTS_HEADER, ballot_rows(item))


def uncell(text):
    """Undo cell()'s formula guard: "'-slug" was written for "-slug"."""
    return text[1:] if text[:1] == "'" and text[1:2] and text[1:2] in FORMULA_START else text


def canonical_line(row):
    """The digest line of one exported ballot row (a dict keyed by BALLOTS_HEADER)."""
    row = {key: uncell(value or "") for key, value in row.items()}
    option = int(row["option"])
    if row["type"] == Kind.POLL:
        return f"P|{int(row['question']):03d}|{option:03d}|{row['segment']}\n"
    return f"R|{row['receipt']}|{option:03d}\n"


# -- participation register ---------------------------------------------------

POLL_REGISTER_HEADER = ["type", "slug", "email", "full_name", "segment", "voted_on"]
REFERENDUM_REGISTER_HEADER = ["type", "slug", "voted_on", "segment", "participants"]


def register_rows(item):
    if item.kind == Kind.POLL:
        rows = (
            item.poll_ballots.annotate(day=TruncDate("cast_at"))
            .order_by("voter__email")
            .values_list("voter__email", "voter__full_name", "segment", "day")
        )
        for email, name, segment, day in rows.iterator(chunk_size=CHUNK_ROWS):
            yield [item.kind, item.slug, email, name, segment, day]
    else:
        # Referendums: counts only, never names.
        rows = (
            item.referendum_participations.order_by()
            .values("voted_on", "segment")
            .annotate(n=Count("id"))
            .order_by("voted_on", "segment")
        )
        for row in rows:
            yield [item.kind, item.slug, row["voted_on"], row["segment"], row["n"]]


# -- comments -------------------------------------------------------------------

COMMENTS_HEADER = [
    "slug", "comment_id", "section", "author", "body", "status", "moderation_reason",
    "moderated_by", "moderated_at", "created_at",
]


def comment_rows(item):
    rows = (
        Comment.objects.filter(item=item)
        .order_by("created_at", "pk")
        .values_list(
            "pk", "section__number", "author__full_name", "body", "status", "moderation_reason",
            "moderated_by__email", "moderated_at", "created_at",
        )
    )
    for pk, section, author, body, status, reason, moderator, moderated_at, created_at in rows.iterator(
        chunk_size=CHUNK_ROWS
    ):
        yield [item.slug, pk, section, author, body, status, reason, moderator, moderated_at, created_at]


# -- audit trail --------------------------------------------------------------

AUDIT_HEADER = [
    "id", "created_at", "actor", "action", "object_type", "object_id", "object", "entity", "ip_address",
    "details", "previous_hash", "entry_hash",
]


def audit_rows(entries):
    for entry in entries.select_related("entity").order_by("pk").iterator(chunk_size=CHUNK_ROWS):
        yield [
            entry.pk, entry.created_at, entry.actor_label, entry.action, entry.object_type, entry.object_id,
            entry.object_repr, entry.entity.slug if entry.entity else "", entry.ip_address,
            json.dumps(entry.details, ensure_ascii=False, sort_keys=True), entry.previous_hash, entry.entry_hash,
        ]


# -- what can be exported -----------------------------------------------------

EXPORTS = {
    "results": (RESULTS_HEADER, (Kind.POLL, Kind.REFERENDUM)),
    "ballots": (BALLOTS_HEADER, (Kind.POLL, Kind.REFERENDUM)),
    "register": (None, (Kind.POLL, Kind.REFERENDUM)),
    "comments": (COMMENTS_HEADER, (Kind.CONSULTATION,)),
}


def export_stream(item, name):
    """(filename, chunk iterator) for one export of a closed item; ExportNotAvailable otherwise."""
    if name not in EXPORTS or item.kind not in EXPORTS[name][1]:
        raise ExportNotAvailable("unknown")
    if not item.has_closed():
        raise ExportNotAvailable("not_closed")
    filename = f"{item.kind}-{item.slug}-{name}.csv"
    # Exports only read: the worker counts. Until it has, a referendum's ballots are still sealed.
    result = Result.objects.filter(item=item).first() if name in ("results", "ballots") else None
    if name in ("results", "ballots") and result is None:
        raise ExportNotAvailable("not_counted")
    if name == "results":
        return filename, csv_chunks(RESULTS_HEADER, results_rows(item, result))
    if name == "ballots":
        return filename, ballots_chunks(item)
    if name == "register":
        header = POLL_REGISTER_HEADER if item.kind == Kind.POLL else REFERENDUM_REGISTER_HEADER
        return filename, csv_chunks(header, register_rows(item))
    return filename, csv_chunks(COMMENTS_HEADER, comment_rows(item))


def exports_for(item):
    return [name for name, (_header, kinds) in EXPORTS.items() if item.kind in kinds]


