"""/<lang>/participate/: open items, tabs, filters, search, pages, time left and the eligibility badge."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone, translation
from django.utils.html import escape

from accounts.models import Persona, Segment
from participation.models import Item, State
from participation.services import voting
from participation.templatetags.durations import time_left
from tests.builders.items import make_consultation, make_poll, make_referendum, single_choices
from tests.factories import UserFactory, VerifiedUserFactory

from .conftest import assert_not_shown, assert_page_language, assert_shown, page, t, url

pytestmark = pytest.mark.django_db

DOHA = ZoneInfo("Asia/Qatar")
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=DOHA)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def open_for(days=3, **kwargs):
    return {"opens_at": NOW - timedelta(days=1), "closes_at": NOW + timedelta(days=days), **kwargs}


def upcoming(**kwargs):
    return {"opens_at": NOW + timedelta(days=2), "closes_at": NOW + timedelta(days=9), **kwargs}


def finished(**kwargs):
    return {"opens_at": NOW - timedelta(days=20), "closes_at": NOW - timedelta(days=2), **kwargs}


def title(item, lang):
    return getattr(item, f"title_{lang}")


def listed(response):
    """The titles of the cards on the page, in order."""
    return re.findall(r'<h3 class="h5" id="item-\d+-title"><a href="[^"]+">([^<]+)</a></h3>', page(response))


def get(client, lang, **params):
    return client.get(url(lang, "list"), params)


@pytest.fixture
def items(entity):
    return {
        "open poll": make_poll(entity=entity, **open_for(title_en="Night metro", title_ar="المترو ليلاً")),
        "open referendum": make_referendum(**open_for(days=5)),
        "open consultation": make_consultation(**open_for(days=7)),
        "upcoming poll": make_poll(**upcoming()),
        "closed by the clock": make_poll(**finished()),
        "draft": make_poll(state=State.DRAFT, **open_for()),
    }


def test_the_open_tab_lists_what_is_open_now_and_nothing_else(client, lang, items):
    response = get(client, lang)
    assert response.status_code == 200
    assert_page_language(response, lang)
    expected = [title(items[name], lang) for name in ("open poll", "open referendum", "open consultation")]
    assert listed(response) == [escape(text) for text in expected]  # soonest to close first


def test_the_upcoming_tab(client, lang, items):
    response = get(client, lang, tab="upcoming")
    assert response.status_code == 200
    assert listed(response) == [escape(title(items["upcoming poll"], lang))]
    assert (
        f'<time datetime="{timezone.localtime(items["upcoming poll"].opens_at).strftime("%Y-%m-%dT%H:%M:%S%z")}">'
        in page(response)
    )


def test_the_closed_tab_includes_items_closed_by_the_clock_alone(client, lang, items):
    closed_state = make_poll(**finished(closes_at=NOW - timedelta(days=5)))
    Item.objects.filter(pk=closed_state.pk).update(state=State.PUBLISHED)
    response = get(client, lang, tab="closed")
    assert response.status_code == 200
    assert listed(response) == [escape(title(items["closed by the clock"], lang)), escape(title(closed_state, lang))]
    assert Item.objects.get(pk=items["closed by the clock"].pk).state == State.SCHEDULED


@pytest.mark.parametrize("tab", ["open", "upcoming", "closed"])
def test_drafts_are_never_listed(client, lang, items, tab):
    response = get(client, lang, tab=tab)
    assert response.status_code == 200
    assert_not_shown(response, title(items["draft"], lang))
    assert items["draft"].get_absolute_url() not in page(response)


def test_filter_by_type(client, lang, items):
    response = get(client, lang, type="referendum")
    assert listed(response) == [escape(title(items["open referendum"], lang))]


def test_filter_by_entity(client, lang, items, entity):
    response = get(client, lang, entity=entity.pk)
    assert listed(response) == [escape(title(items["open poll"], lang))]


def test_filter_by_audience_and_persona(client, lang):
    everyone = make_poll(**open_for(for_visitors=True))
    citizens = make_poll(**open_for(days=4, for_residents=False))
    parents = make_poll(**open_for(days=5, only_parents=True))
    assert listed(get(client, lang, segment="visitor")) == [escape(title(everyone, lang))]
    assert listed(get(client, lang, segment="resident")) == [
        escape(title(everyone, lang)),
        escape(title(parents, lang)),
    ]
    assert listed(get(client, lang, segment="citizen", persona="employee")) == [
        escape(title(everyone, lang)),
        escape(title(citizens, lang)),
    ]
    assert len(listed(get(client, lang, segment="citizen", persona="parent"))) == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"persona": "parent"}, "Choose a group before choosing who within it."),
        ({"segment": "visitor", "persona": "parent"}, "This choice is not part of that group."),
    ],
)
def test_impossible_audience_filters_are_a_400_with_the_reason(client, lang, items, params, message):
    response = get(client, lang, **params)
    assert response.status_code == 400
    assert_shown(response, t(lang, message))
    assert listed(response) == []


@pytest.mark.parametrize("params", [{"type": "petition"}, {"entity": "999999"}, {"tab": "everything"}])
def test_tampered_filters_are_a_400(client, lang, items, params):
    response = get(client, lang, **params)
    assert response.status_code == 400
    assert listed(response) == []


@pytest.mark.parametrize("query", ["المترو", "metro", "NIGHT"])
def test_search_by_title_in_either_language(client, lang, items, query):
    response = get(client, lang, q=query)
    assert response.status_code == 200
    assert listed(response) == [escape(title(items["open poll"], lang))]


def test_a_search_that_finds_nothing_says_so(client, lang, items):
    response = get(client, lang, q="no such title anywhere")
    assert response.status_code == 200
    assert listed(response) == []
    assert_shown(
        response,
        t(
            lang,
            "There are no consultations, polls or referendums open for this group right now. Please check again soon.",
        ),
    )


def test_pages_of_ten(client, lang):
    polls = [make_poll(**open_for(days=2 + n)) for n in range(12)]
    first = get(client, lang)
    second = get(client, lang, page=2)
    assert listed(first) == [escape(title(p, lang)) for p in polls[:10]]
    assert listed(second) == [escape(title(p, lang)) for p in polls[10:]]
    with translation.override(lang):
        assert_shown(first, translation.gettext("Page %(number)s of %(total)s") % {"number": 1, "total": 2})
    assert 'href="?page=2"' in page(first)
    assert listed(get(client, lang, page="not-a-number")) == listed(first)


def test_each_card_says_how_long_is_left(client, lang, items):
    response = get(client, lang)
    poll = items["open poll"]
    with translation.override(lang):
        left = translation.gettext("Closes in %(left)s") % {"left": time_left(poll.closes_at, NOW)}
    assert_shown(response, left)
    assert f'<time datetime="{timezone.localtime(poll.closes_at).strftime("%Y-%m-%dT%H:%M:%S%z")}">' in page(response)


def badge(lang, css, text):
    return f'<span class="badge {css} ms-2">{escape(t(lang, text))}</span>'


def test_badges_for_someone_not_signed_in(client, lang, items):
    body = page(get(client, lang))
    assert body.count(badge(lang, "text-bg-light border", "Sign in to take part")) == 3


def test_badges_for_a_verified_citizen_who_voted_in_one_poll(client, lang, items, citizen):
    voting.cast_poll_ballot(citizen, items["open poll"], single_choices(items["open poll"]))
    client.force_login(citizen)
    body = page(get(client, lang))
    assert body.count(badge(lang, "text-bg-success", "You took part")) == 1
    assert body.count(badge(lang, "text-bg-primary", "You can take part")) == 2


def test_badges_for_people_the_items_are_not_open_to(client, lang, items):
    client.force_login(UserFactory(segment=Segment.VISITOR, personas=[Persona.TOURIST]))
    body = page(get(client, lang))
    assert body.count(badge(lang, "text-bg-secondary", "Not open to you")) == 3
    assert escape(t(lang, "You can take part")) not in body


def test_an_unverified_citizen_is_told_the_referendum_is_not_open_to_them(client, lang, items):
    client.force_login(UserFactory())
    body = page(get(client, lang))
    assert body.count(badge(lang, "text-bg-primary", "You can take part")) == 2
    assert body.count(badge(lang, "text-bg-secondary", "Not open to you")) == 1
    client.force_login(VerifiedUserFactory())
    assert page(get(client, lang)).count(badge(lang, "text-bg-primary", "You can take part")) == 3


def test_titles_and_summaries_are_escaped(client, lang):
    make_poll(
        **open_for(
            title_ar="<script>alert('ar')</script>",
            title_en="<script>alert('en')</script>",
            summary_ar="<img src=x onerror=alert(1)>",
            summary_en="<img src=x onerror=alert(1)>",
        )
    )
    body = page(get(client, lang))
    assert "<script>alert(" not in body
    assert "<img src=x" not in body
    assert escape(f"<script>alert('{lang}')</script>") in body
