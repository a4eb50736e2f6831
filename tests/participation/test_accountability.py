""" "You said, we did": the record's arithmetic, its pages in both languages, and what they must never show."""

from datetime import timedelta

import pytest

from participation import accountability
from tests.builders.audit import CLOSES, NOW, at, bus_poll, closed_consultation, record_of_four, transport_ministry
from tests.factories import EntityFactory

from .conftest import assert_not_shown, assert_page_language, assert_shown, page, t, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def four():
    return record_of_four()


def test_each_outcome_state_follows_from_the_dates(four):
    record = accountability.build(NOW)
    statuses = {row.slug: row.status for row in record.consultations}
    assert statuses == {"on-time": "on_time", "late": "late", "overdue": "overdue", "awaiting": "awaiting"}
    (row,) = record.entities
    assert row.items_held == 4
    assert row.outcomes_due == 3
    assert row.on_time_percent == 33.3


def test_overdue_comes_from_the_clock_not_from_a_job(four):
    """The same consultation is awaiting its outcome the minute before it is due, and overdue the minute after."""
    due = four["overdue"].outcome_due()
    before = {row.slug: row.status for row in accountability.build(due - timedelta(minutes=1)).consultations}
    after = {row.slug: row.status for row in accountability.build(due + timedelta(minutes=1)).consultations}
    assert before["overdue"] == "awaiting"
    assert after["overdue"] == "overdue"


def test_published_exactly_on_the_due_moment_is_on_time():
    assert accountability.outcome_status(CLOSES, CLOSES, NOW) == "on_time"
    assert accountability.outcome_status(CLOSES, CLOSES + timedelta(seconds=1), NOW) == "late"


def test_took_part_counts_each_person_once(four):
    """Commenting and reacting to a section is one person taking part (UNION, not UNION ALL)."""
    took_part = {row.slug: row.took_part for row in accountability.build(NOW).consultations}
    assert took_part == {"on-time": 3, "late": 2, "overdue": 1, "awaiting": 0}


def test_median_turnout_includes_counted_polls(four):
    bus_poll(entity=four["on_time"].entity)  # three ballots, counted
    (row,) = accountability.build(NOW).entities
    assert row.items_held == 5
    assert sorted(row.turnouts) == [0, 1, 2, 3, 3]
    assert row.median_turnout == 2
    assert str(row.median_turnout) == "2"


def test_median_of_an_even_number_of_items_may_be_a_half(four):
    (row,) = accountability.build(NOW).entities
    assert sorted(row.turnouts) == [0, 1, 2, 3]
    assert row.median_turnout == 1.5


def test_what_changed_is_public_only_once_published(four):
    changed = {row.slug: row.changed_en for row in accountability.build(NOW).consultations}
    assert changed["on-time"] == "What we changed in on-time"
    assert changed["overdue"] == ""
    assert changed["awaiting"] == ""


def test_one_entity_only_sees_its_own(four):
    other = EntityFactory()
    closed_consultation("elsewhere", entity=other, published_at=NOW - timedelta(days=1))
    mine = accountability.build(NOW, four["on_time"].entity)
    assert "elsewhere" not in {row.slug for row in mine.consultations}
    whole = accountability.build(NOW)
    assert {row.entity for row in whole.entities} == {four["on_time"].entity, other}
    assert whole.totals.items_held == 5


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_government_page(client, four, lang):
    with at(NOW):
        response = client.get(url(lang, "accountability"))
    assert response.status_code == 200
    assert_page_language(response, lang)
    assert_shown(response, t(lang, "You said, we did"))
    assert_shown(response, four["overdue"].title_ar if lang == "ar" else four["overdue"].title_en)
    assert_shown(response, t(lang, "Overdue"))
    assert_shown(response, t(lang, "Published late"))
    assert_shown(response, "33.3%")
    # The ministry's own words, once published, in the page's language.
    assert_shown(response, "ما غيرناه في on-time" if lang == "ar" else "What we changed in on-time")
    # Never: drafts, open consultations, or an outcome's text before the ministry publishes it.
    assert_not_shown(response, "A draft consultation")
    assert_not_shown(response, "Draft outcome text")
    assert_not_shown(response, "still-open")
    assert_not_shown(response, "What we changed in overdue")
    assert_not_shown(response, "ما غيرناه في overdue")
    # The chart's numbers are text, and its bars are drawn on the server.
    assert 'class="result-bar-rect" x="0" y="2" height="16" width="33.3%"' in page(response)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_ministries_are_listed_in_the_order_of_the_page_language(client, lang):
    """English A before B, Arabic أ before ي: each page lists in its reader's alphabet (the files keep one order)."""
    alpha = EntityFactory(name_en="Alpha Ministry", name_ar="يوزارة الياء", slug="alpha")
    beta = EntityFactory(name_en="Beta Ministry", name_ar="أوزارة الألف", slug="beta")
    for entity in (alpha, beta):
        closed_consultation(f"held-by-{entity.slug}", entity=entity)
    with at(NOW):
        body = page(client.get(url(lang, "accountability")))
    first, second = (beta, alpha) if lang == "ar" else (alpha, beta)
    name = f"name_{lang}"
    table = body.index(getattr(first, name)), body.index(getattr(second, name))
    pages = body.rindex(getattr(first, name)), body.rindex(getattr(second, name))
    assert table[0] < table[1]
    assert pages[0] < pages[1]


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_entity_page_filters_by_outcome(client, four, lang):
    entity = four["on_time"].entity
    with at(NOW):
        response = client.get(url(lang, "accountability_entity", slug=entity.slug), {"status": "overdue"})
    assert response.status_code == 200
    assert_page_language(response, lang)
    assert_shown(response, entity.name_ar if lang == "ar" else entity.name_en)
    body = page(response)
    assert 'id="consultation-overdue"' in body
    assert 'id="consultation-on-time"' not in body
    assert 'id="consultation-late"' not in body


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_unknown_status_is_a_clear_400(client, lang):
    transport_ministry()
    response = client.get(url(lang, "accountability_entity", slug="transport"), {"status": "<script>"})
    assert response.status_code == 400
    assert_shown(response, t(lang, "Unknown filter"))
    assert client.get(url(lang, "accountability"), {"status": "lost"}).status_code == 400


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_unknown_entity_is_404(client, lang):
    assert client.get(url(lang, "accountability_entity", slug="no-such-ministry")).status_code == 404


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_empty_record(client, lang):
    response = client.get(url(lang, "accountability"))
    assert response.status_code == 200
    assert_shown(response, t(lang, "No consultation, poll or referendum has closed yet."))


def test_government_page_queries_do_not_grow_with_items(client, django_assert_max_num_queries):
    """Closed items, their counted turnout, the consultations' participants, the entities: a fixed number."""
    for n in range(3):
        closed_consultation(f"first-{n}", entity=EntityFactory(), took_part=1)
    with at(NOW), django_assert_max_num_queries(QUERIES):
        assert client.get(url("en", "accountability")).status_code == 200
    for n in range(6):
        closed_consultation(f"more-{n}", entity=EntityFactory(), took_part=2, published_at=CLOSES + timedelta(days=3))
    bus_poll(entity=EntityFactory())
    with at(NOW), django_assert_max_num_queries(QUERIES):
        assert client.get(url("en", "accountability")).status_code == 200


# Closed items, the counted polls' and referendums' Result ballots, the consultations' participants (one UNION),
# the entities of the table, and the entities of the list of pages.
QUERIES = 5


def test_items_that_are_not_consultations_have_no_outcome(four):
    bus_poll(entity=four["on_time"].entity)
    record = accountability.build(NOW)
    assert all(row.slug != "bus-routes" for row in record.consultations)


def test_a_whole_median_reads_as_a_whole_number():
    assert str(accountability.EntityRecord(entity=None, turnouts=[1, 3]).median_turnout) == "2"
    assert accountability.EntityRecord(entity=None).median_turnout is None


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_median_without_figure_is_a_dash_that_screen_readers_read_as_words(client, lang):
    poll, _voters = bus_poll(tally=False)  # closed, not counted yet: nobody knows how many took part
    with at(NOW):
        body = page(client.get(url(lang, "accountability_entity", slug=poll.entity.slug)))
    marker = f'<span aria-hidden="true">–</span><span class="visually-hidden">{t(lang, "no figure")}</span>'
    assert marker in body
