"""Open data: published results and the accountability record as CSV and JSON, and the dataset index with checksums."""

import hashlib
import json
import re

import pytest

from participation import exports
from participation.models import State
from tests.answers import BOM, HYPERLINK_CELL, body_of, read_dicts
from tests.builders.audit import NOW, at, bus_poll, new_law_referendum, record_of_four
from tests.builders.items import close, count, make_poll, make_referendum, question_and_options, vote_referendum
from tests.builders.users import person

from .conftest import assert_not_shown, assert_page_language, assert_shown, page, t, url

pytestmark = pytest.mark.django_db

LICENCE = "Creative Commons Attribution 4.0 International (CC BY 4.0)"
LICENCE_NAME = "Creative Commons Attribution 4.0 International"


def result_url(lang, item, fmt):
    return url(lang, "result_download", kind=item.kind, slug=item.slug, fmt=fmt)


def table_url(lang, table, fmt):
    return url(lang, "accountability_download", table=table, fmt=fmt)


@pytest.fixture
def published():
    poll, _people = bus_poll()
    referendum, _receipts = new_law_referendum()
    return poll, referendum


@pytest.fixture
def awaiting_approval(db):
    """A referendum counted but not published: a ministry admin must approve its results first."""
    referendum = make_referendum(
        results_need_approval=True, requires_verified_identity=True, options=2, state=State.OPEN
    )
    question, options = question_and_options(referendum)
    vote_referendum(person(verified=True), referendum, options[0])
    count(close(referendum))
    assert referendum.state == State.CLOSED and hasattr(referendum, "result")
    return referendum


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_result_csv_is_the_auditors_results_export(client, published, lang):
    poll, referendum = published
    for item in (poll, referendum):
        response = client.get(result_url(lang, item, "csv"))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        _name, chunks = exports.export_stream(item, "results")
        assert response.content == "".join(chunks).encode("utf-8")
        assert response.content.startswith(BOM.encode("utf-8"))
    # The formula guard of the auditors' exports: an option that is a formula starts with an apostrophe.
    assert HYPERLINK_CELL.encode() in client.get(result_url(lang, poll, "csv")).content


def test_a_result_json_holds_the_same_rows(client, published):
    poll, _referendum = published
    csv_rows = read_dicts(client.get(result_url("en", poll, "csv")).content)
    document = json.loads(client.get(result_url("en", poll, "json")).content)
    assert document["licence"]["name"] == LICENCE
    assert document["columns"] == exports.RESULTS_HEADER
    assert [row["votes"] for row in document["rows"]] == [int(row["votes"]) for row in csv_rows]
    # JSON keeps the text as written: the formula guard is a spreadsheet's concern.
    assert '=HYPERLINK("x")' in {row["option_en"] for row in document["rows"]}
    assert document["ballots"] == 3 and document["ballots_digest"] == poll.result.ballots_digest


def test_the_same_bytes_in_both_languages(client, published):
    poll, referendum = published
    for item in (poll, referendum):
        for fmt in ("csv", "json"):
            assert client.get(result_url("ar", item, fmt)).content == client.get(result_url("en", item, fmt)).content


def test_unpublished_results_are_not_open_data(client, awaiting_approval):
    open_poll = make_poll(live_results=True, options=2, state=State.OPEN)
    draft = make_poll(state=State.DRAFT, options=2)
    for item in (awaiting_approval, open_poll, draft):
        for fmt in ("csv", "json"):
            assert client.get(result_url("en", item, fmt)).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "data/results/poll/bus-routes.xml",
        "data/results/consultation/bus-routes.csv",
        "data/accountability-nothing.csv",
        "data/accountability-entities.pdf",
        "data/results/poll/no-such-poll.csv",
    ],
)
def test_unknown_downloads_are_404(client, published, path):
    assert client.get(f"/en/{path}").status_code == 404


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_accountability_tables(client, lang):
    record_of_four()
    with at(NOW):
        csv_response = client.get(table_url(lang, "consultations", "csv"))
        json_response = client.get(table_url(lang, "entities", "json"))
    assert csv_response.status_code == json_response.status_code == 200
    assert csv_response.content.startswith(BOM.encode("utf-8"))
    rows = {row["slug"]: row for row in read_dicts(csv_response.content)}
    assert set(rows) == {"on-time", "late", "overdue", "awaiting"}
    assert rows["overdue"]["outcome_status"] == "overdue"
    assert rows["overdue"]["what_changed_en"] == ""
    assert rows["on-time"]["what_changed_en"] == "What we changed in on-time"
    assert rows["on-time"]["took_part"] == "3"
    (entity,) = json.loads(json_response.content)["rows"]
    assert (entity["entity"], entity["outcomes_overdue"], entity["on_time_percent"]) == ("transport", 1, 33.3)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_dataset_index_lists_every_file_with_its_checksum(client, published, awaiting_approval, lang):
    record_of_four()
    poll, referendum = published
    with at(NOW):
        response = client.get(url(lang, "datasets"))
        assert response.status_code == 200
        assert_page_language(response, lang)
        assert_shown(response, t(lang, "Open data"))
        assert_shown(response, t(lang, LICENCE_NAME))
        assert_shown(response, "CC BY 4.0")
        body = page(response)
        links = [
            result_url(lang, poll, "csv"),
            result_url(lang, poll, "json"),
            result_url(lang, referendum, "csv"),
            result_url(lang, referendum, "json"),
            table_url(lang, "entities", "csv"),
            table_url(lang, "entities", "json"),
            table_url(lang, "consultations", "csv"),
            table_url(lang, "consultations", "json"),
        ]
        for link in links:
            assert f'href="{link}"' in body, link
            data = body_of(client.get(link))
            assert hashlib.sha256(data).hexdigest() in body, f"{link}: the checksum on the index is not the file's"
    assert result_url(lang, awaiting_approval, "csv") not in body
    assert_not_shown(response, awaiting_approval.title_en if lang == "en" else awaiting_approval.title_ar)
    assert len(re.findall(r'<code class="checksum">[0-9a-f]{64}</code>', body)) == len(links)


def test_the_download_carries_its_checksum(client, published):
    poll, _referendum = published
    response = client.get(result_url("en", poll, "json"))
    assert response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest()
    assert response["Content-Disposition"] == 'attachment; filename="poll-bus-routes-result.json"'


def test_the_index_queries_do_not_grow_with_results(client, django_assert_max_num_queries):
    """The record (closed items, their counted ballots, the consultations' participants, the entities),
    then the number of results and one page of them with their stored results: six, however many."""
    bus_poll()
    with django_assert_max_num_queries(INDEX_QUERIES):
        assert client.get(url("en", "datasets")).status_code == 200
    new_law_referendum()
    for n in range(3):
        bus_poll(slug=f"more-bus-routes-{n}")
    record_of_four()
    with django_assert_max_num_queries(INDEX_QUERIES):
        assert client.get(url("en", "datasets")).status_code == 200


INDEX_QUERIES = 6


def test_the_index_checksums_read_back_from_the_cache_are_the_files(client, published):
    poll, referendum = published
    client.get(url("en", "datasets"))  # computes the results' checksums and keeps them
    body = page(client.get(url("en", "datasets")))
    for item in (poll, referendum):
        for fmt in ("csv", "json"):
            data = body_of(client.get(result_url("en", item, fmt)))
            assert hashlib.sha256(data).hexdigest() in body, f"{item.slug}.{fmt}"
