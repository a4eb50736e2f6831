"""What each endpoint of /api/v1/ answers on the seeded world (tests/api/conftest.py)."""

import base64

import pytest
from django.utils import translation

from participation import audit, results
from participation.models import Item, Result, State
from participation.views import _results_for
from tests.factories import PollFactory

from .conftest import get_json

pytestmark = pytest.mark.django_db


def slugs(body):
    return [row["slug"] for row in body["results"]]


def test_entities_come_with_both_names(client, world):
    response, body = get_json(client, "/api/v1/entities/")
    assert response.status_code == 200
    assert body["results"][1] == {
        "slug": "transport",
        "name": {"ar": "وزارة المواصلات", "en": "Ministry of Transport"},
        "items": "/api/v1/items/?entity=transport",
    }
    response, body = get_json(client, "/api/v1/entities/health/")
    assert body["name"] == {"ar": "وزارة الصحة العامة", "en": "Ministry of Public Health"}
    assert client.get("/api/v1/entities/nobody/").status_code == 404


def test_items_are_filtered_by_type_state_entity_audience_and_text(client, world):
    def listed(**params):
        response, body = get_json(client, "/api/v1/items/", data=params)
        assert response.status_code == 200, body
        return set(slugs(body))

    everything = listed()
    assert "secret-draft" not in everything
    assert everything == set(Item.objects.public().values_list("slug", flat=True))
    assert listed(type="referendum") == {"new-law", "awaiting-approval", "open-referendum"}
    assert listed(state="scheduled") == {"upcoming-poll"}
    assert listed(state="open") == {"live-poll", "quiet-poll", "open-referendum", "open-consultation"}
    assert listed(state="closed") == {
        "bus-routes",
        "bus-counting",
        "new-law",
        "awaiting-approval",
        "transport-law",
        "answered-law",
    }
    assert listed(entity="transport", type="consultation") == {"transport-law", "answered-law"}
    assert listed(entity="nobody") == set()
    assert listed(segment="visitor") == {"live-poll"}
    assert listed(q="Bus") == {"bus-routes", "bus-counting"}
    assert listed(q="الحافلات") == {"bus-routes", "bus-counting"}


@pytest.mark.parametrize(
    "params",
    [{"type": "draft"}, {"state": "draft"}, {"segment": "martian"}, {"persona": "x"}, {"q": "x" * 101}, {"type": ""}],
)
def test_a_refused_filter_says_which_and_why(client, world, params):
    response, body = get_json(client, "/api/v1/items/", data=params)
    assert response.status_code == 400
    assert list(body["errors"]) == list(params)


def test_the_state_is_the_clock_s(client, world):
    item = world["quiet"]
    Item.objects.filter(pk=item.pk).update(state=State.SCHEDULED)  # the stored state lags; the clock says open
    _response, body = get_json(client, "/api/v1/items/quiet-poll/")
    assert body["state"] == "open"


def test_cursor_pages_walk_every_item_once(client, db):
    PollFactory.create_batch(57, state=State.SCHEDULED)
    seen, url = [], "/api/v1/items/"
    while url:
        response, body = get_json(client, url)
        assert response.status_code == 200
        seen += slugs(body)
        url = body["next"]
    assert len(seen) == 57 == len(set(seen))


def test_an_item_with_its_questions_sections_and_audience(client, world):
    _response, poll = get_json(client, "/api/v1/items/bus-routes/")
    assert poll["type"] == "poll" and poll["state"] == "published"
    assert poll["title"] == {"ar": "استطلاع مسارات الحافلات", "en": "Bus routes"}
    assert poll["page"] == {"ar": "/ar/polls/bus-routes/", "en": "/en/polls/bus-routes/"}
    assert [o["text"]["en"] for o in poll["questions"][0]["options"]] == ["Line 1, express", '=HYPERLINK("x")']
    assert poll["results"] == "/api/v1/items/bus-routes/results/" and poll["outcome"] is None
    _response, consultation = get_json(client, "/api/v1/items/transport-law/")
    assert consultation["sections"] == [
        {"number": 1, "heading": {"ar": "التعريفات", "en": "Definitions"}, "body": {"ar": "نص", "en": "Text"}}
    ]
    assert consultation["outcome"] == "/api/v1/items/transport-law/outcome/"
    assert consultation["audience"] == {
        "segments": ["citizen", "resident"],
        "personas": [],
        "requires_verified_identity": False,
    }


def _page_results(item, lang):
    with translation.override(lang):
        item = Item.objects.get(pk=item.pk)
        return _results_for(item, None, list(item.questions.prefetch_related("options")))


@pytest.mark.parametrize("name", ["published_poll", "referendum"])
def test_results_are_the_page_s_numbers_with_the_same_hidden_cells(client, world, name):
    item = world[name]
    _response, body = get_json(client, f"/api/v1/items/{item.slug}/results/")
    page = _page_results(item, "en")
    assert body["status"] == "counted"
    assert (body["ballots"], body["eligible"], body["ballots_digest"]) == (
        page["ballots"],
        page["eligible"],
        page["digest"],
    )
    for block, question in zip(page["questions"], body["questions"], strict=True):
        for row, option in zip(block["rows"], question["options"], strict=True):
            assert option["text"]["en"] == row["label"]
            assert option["votes"] == row["count"]
            assert list(option["segments"].values()) == row["segments"]
    with translation.override("ar"):
        labels = [row["label"] for row in _page_results(item, "ar")["questions"][0]["rows"]]
    assert [option["text"]["ar"] for option in body["questions"][0]["options"]] == labels


def test_referendum_results_hide_the_small_cells_and_link_the_open_record(client, world):
    _response, body = get_json(client, "/api/v1/items/new-law/results/")
    cells = [value for option in body["questions"][0]["options"] for value in option["segments"].values()]
    assert cells and all(value is None for value in cells)  # three ballots: every cell is under ten
    assert body["segment_ballots"] == {"citizen": 2, "resident": 1}
    assert body["small_cell"] == 10
    assert body["downloads"]["ballots_csv"] == {
        "ar": "/ar/referendums/new-law/ballots.csv",
        "en": "/en/referendums/new-law/ballots.csv",
    }
    assert body["tally"]["checkpoint"] == f"{body['tally']['position']}:{body['tally']['entry_hash']}"
    assert (
        client.get(body["downloads"]["result_json"]["en"]).json()["audit"]["entry_hash"] == body["tally"]["entry_hash"]
    )


def test_results_before_they_may_be_shown_say_so(client, world):
    for name in ("quiet", "sealed", "unapproved", "upcoming"):
        _response, body = get_json(client, f"/api/v1/items/{world[name].slug}/results/")
        assert (body["status"], body["questions"], body["ballots"]) == ("not_available", [], None), name
    assert client.get("/api/v1/items/transport-law/results/").status_code == 404


def test_live_results_of_an_open_poll_that_shows_them(client, world):
    _response, body = get_json(client, "/api/v1/items/live-poll/results/")
    live = results.live_poll_results(world["live"], list(world["live"].questions.prefetch_related("options")))
    assert body["status"] == "live" and body["ballots"] == live["ballots"] == 1
    assert [o["votes"] for o in body["questions"][0]["options"]] == [
        row["count"] for row in live["questions"][0]["rows"]
    ]


def test_a_request_never_counts(client, world):
    before = Result.objects.count()
    _response, body = get_json(client, "/api/v1/items/bus-counting/results/")
    assert body["status"] == "counting"
    assert Result.objects.count() == before
    assert not Result.objects.filter(item=world["counting_poll"]).exists()


def test_receipts_after_publication_only(client, world):
    response, body = get_json(client, "/api/v1/items/new-law/receipts/")
    assert [row["receipt"] for row in body["results"]] == sorted(world["receipts"])
    for name in ("unapproved", "sealed", "published_poll"):
        assert client.get(f"/api/v1/items/{world[name].slug}/receipts/").status_code == 404


def test_outcomes_published_overdue_and_before_the_close(client, world):
    _response, answered = get_json(client, "/api/v1/items/answered-law/outcome/")
    assert answered["status"] == "published" and answered["published_on_time"] is True
    assert answered["changed"] == {"ar": "غيّرنا", "en": "We changed"}
    _response, overdue = get_json(client, "/api/v1/items/transport-law/outcome/")
    assert (overdue["status"], overdue["heard"], overdue["changed"]) == ("overdue", None, None)
    assert client.get("/api/v1/items/open-consultation/outcome/").status_code == 404
    assert client.get("/api/v1/items/bus-routes/outcome/").status_code == 404
    _response, listed = get_json(client, "/api/v1/outcomes/", data={"entity": "transport"})
    assert [row["item"] for row in listed["results"]] == ["answered-law", "transport-law"]


def test_the_audit_checkpoint_is_the_trail_s(client, world):
    _response, body = get_json(client, "/api/v1/audit/checkpoint/")
    point = audit.checkpoint()
    assert (body["count"], body["head"], body["checkpoint"]) == (point.count, point.head, str(point))


def test_the_list_costs_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    PollFactory.create_batch(30, state=State.SCHEDULED)
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/items/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/items/bus-routes/").status_code == 200


def test_only_get_and_json_everywhere(client, world):
    assert client.post("/api/v1/items/").status_code == 405
    for address in ("/api/v1/nothing-here/", "/api/v1/items/%C2%84/", "/api/v2/items/"):
        response = client.get(address, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    response = client.get("/api/v1/items/", {"q": "a\x00b"})
    assert response.status_code == 400 and "detail" in response.json()


@pytest.mark.parametrize("forged", ["p=not-a-date", "p=2026-13-45", "o=abc", "p=a\x00b"])
def test_a_forged_cursor_is_not_found_never_a_server_error(client, world, forged):
    """A cursor is base64 anyone can write: a position that is no date, or holds a NUL, is a 404."""
    cursor = base64.b64encode(forged.encode()).decode()
    for address in ("/api/v1/items/", "/api/v1/outcomes/"):  # ordered by dates
        assert client.get(address, {"cursor": cursor}).status_code == 404, address
    for address in ("/api/v1/entities/", "/api/v1/items/new-law/receipts/"):  # ordered by text: any text is a place
        expected = {404} if "\x00" in forged or "o=" in forged else {200}
        assert client.get(address, {"cursor": cursor}).status_code in expected, address
