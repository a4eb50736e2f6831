"""Open data: every published result and the accountability record, as CSV and JSON, under an open licence.

The CSV files follow the auditors' conventions (exports.py: UTF-8 with a byte-order mark, CRLF, English
column names, ISO 8601 times in Qatar time, formula guard). A result's CSV is the auditors' results export
byte for byte, so it carries the same suppression as the results page (a referendum's hidden breakdown
cells are empty). The JSON files hold the same rows as objects keyed by the CSV's column names.

Only what the pages already show is here: a poll's result once it has closed and been counted, a
referendum's once it is published; never a draft, an open poll's live counts, a ballot or a name.
The bytes do not depend on the page's language, so /ar/ and /en/ serve the same files and checksums.
The accountability files are as of the current minute (`as_of`), so a checksum read on the index
matches a download made in the same minute.
"""

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import accountability, exports
from .models import Item, Kind, State

LICENCE = {
    "name": "Creative Commons Attribution 4.0 International (CC BY 4.0)",
    "url": "https://creativecommons.org/licenses/by/4.0/",
}
# The licence's name as the page shows it, in the page's language (the files name it in English); its short
# code stays Latin, marked left-to-right (licence_label).
LICENCE_NAME = _("Creative Commons Attribution 4.0 International")
RESULT_FORMAT = "hukoomi-open-result/1"
ACCOUNTABILITY_FORMAT = "hukoomi-accountability/1"
DATASETS_PER_PAGE = 50
FORMATS = ("csv", "json")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}
TABLES = {
    "entities": (
        accountability.ENTITIES_HEADER,
        accountability.entity_rows,
        _("The record of every ministry: items held, median number who took part, outcomes on time"),
    ),
    "consultations": (
        accountability.CONSULTATIONS_HEADER,
        accountability.consultation_rows,
        _("Every closed consultation: who took part, when its outcome was due and published, what changed"),
    ),
}
# A result never changes once stored (Result is immutable), so its files' checksums are kept.
CHECKSUM_CACHE_SECONDS = 24 * 3600


def published_results():
    """Items whose result anyone may download: closed and counted polls, published referendums. Never drafts."""
    return (
        Item.objects.public()
        .filter(result__isnull=False)
        .filter(Q(kind=Kind.POLL) | Q(kind=Kind.REFERENDUM, state=State.PUBLISHED))
    )


def _json_value(value):
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def json_bytes(document):
    return (json.dumps(document, ensure_ascii=False, indent=2, default=_json_value) + "\n").encode("utf-8")


def csv_bytes(header, rows):
    return "".join(exports.csv_chunks(header, rows)).encode("utf-8")


def _rows_as_objects(header, rows):
    return [{key: _json_value(value) for key, value in zip(header, row, strict=True)} for row in rows]


# -- one published result -------------------------------------------------------------------------


def result_file(item, result, fmt):
    """The bytes of a published result as CSV or JSON."""
    if fmt == "csv":
        return csv_bytes(exports.RESULTS_HEADER, exports.results_rows(item, result))
    return json_bytes(
        {
            "format": RESULT_FORMAT,
            "licence": LICENCE,
            "item": {
                "type": item.kind,
                "slug": item.slug,
                "title_ar": item.title_ar,
                "title_en": item.title_en,
                "entity": item.entity.slug,
                "opened_at": item.opens_at,
                "closed_at": item.closes_at,
            },
            "ballots": result.ballots,
            "eligible": result.eligible,
            "turnout_percent": result.turnout_percent,
            "tallied_at": result.tallied_at,
            "ballots_digest": result.ballots_digest,
            "columns": exports.RESULTS_HEADER,
            "rows": _rows_as_objects(exports.RESULTS_HEADER, exports.results_rows(item, result)),
        }
    )


def _checksum_key(item, fmt):
    # The JSON names the entity by its slug, the one thing in these files that may still change.
    return f"opendata:sha256:{RESULT_FORMAT}:{item.result.pk}:{item.entity.slug}:{fmt}"


def result_checksums(items):
    """{(item pk, fmt): SHA-256} of a page of published results: one cache read for the page; the missing
    ones computed from the stored result and kept."""
    keys = {_checksum_key(item, fmt): (item, fmt) for item in items for fmt in FORMATS}
    found = cache.get_many(keys)
    missing = {
        key: hashlib.sha256(result_file(item, item.result, fmt)).hexdigest()
        for key, (item, fmt) in keys.items()
        if key not in found
    }
    if missing:
        cache.set_many(missing, CHECKSUM_CACHE_SECONDS)
    return {(item.pk, fmt): found.get(key) or missing[key] for key, (item, fmt) in keys.items()}


def _download(data, fmt, filename):
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-SHA256"] = hashlib.sha256(data).hexdigest()
    return response


def result_download(request, kind, slug, fmt):
    if kind not in (Kind.POLL, Kind.REFERENDUM) or fmt not in FORMATS:
        raise Http404
    item = get_object_or_404(published_results().select_related("entity", "result"), kind=kind, slug=slug)
    return _download(result_file(item, item.result, fmt), fmt, f"{item.kind}-{item.slug}-result.{fmt}")


# -- the accountability record --------------------------------------------------------------------


def as_of_minute():
    return timezone.now().replace(second=0, microsecond=0)


def table_file(record, table, fmt):
    header, rows, _title = TABLES[table]
    if fmt == "csv":
        return csv_bytes(header, rows(record))
    return json_bytes(
        {
            "format": ACCOUNTABILITY_FORMAT,
            "table": table,
            "licence": LICENCE,
            "as_of": record.now,
            "columns": header,
            "rows": _rows_as_objects(header, rows(record)),
        }
    )


def accountability_download(request, table, fmt):
    if table not in TABLES or fmt not in FORMATS:
        raise Http404
    record = accountability.build(as_of_minute())
    return _download(table_file(record, table, fmt), fmt, f"accountability-{table}.{fmt}")


# -- the dataset index ----------------------------------------------------------------------------


def licence_label():
    return format_html('{} (<span dir="ltr">CC BY 4.0</span>)', LICENCE_NAME)


def datasets(request):
    """Every dataset with its downloads and their SHA-256 checksums, and the licence."""
    record = accountability.build(as_of_minute())
    tables = [
        {
            "name": name,
            "title": title,
            "files": [
                {"fmt": fmt, "sha256": hashlib.sha256(table_file(record, name, fmt)).hexdigest()} for fmt in FORMATS
            ],
        }
        for name, (_header, _rows, title) in TABLES.items()
    ]
    items = published_results().select_related("entity", "result").order_by("-result__tallied_at", "-pk")
    page = Paginator(items, DATASETS_PER_PAGE).get_page(request.GET.get("page"))
    checksums = result_checksums(page.object_list)
    for item in page.object_list:
        item.files = [{"fmt": fmt, "sha256": checksums[item.pk, fmt]} for fmt in FORMATS]
    return render(
        request,
        "participation/datasets.html",
        {
            "tables": tables,
            "as_of": record.now,
            "page": page,
            "licence": LICENCE,
            "licence_label": licence_label(),
            "results_total": page.paginator.count,
        },
    )
