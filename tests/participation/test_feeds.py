"""Atom feeds and the iCalendar file: per language, filtered by entity and audience, never a draft or an unpublished result."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Segment
from participation import feeds
from participation.models import State
from tests.builders.audit import NOW, at, bus_poll, new_law_referendum, record_of_four
from tests.builders.items import (
    close,
    count,
    make_poll,
    make_referendum,
    question_and_options,
    set_state,
    vote_referendum,
)
from tests.builders.users import person
from tests.factories import EntityFactory

from .conftest import assert_shown, t, tn, url

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def entries(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own response)
    return {entry.find(f"{ATOM}title").text: entry for entry in root.iter(f"{ATOM}entry")}, root


@pytest.fixture
def items(db):
    """An open poll of the transport ministry for citizens and residents, one for visitors of another
    ministry, an upcoming one and a draft."""
    transport = EntityFactory(slug="transport", name_en="Ministry of Transport", name_ar="وزارة المواصلات")
    health = EntityFactory(slug="health")
    citizens = make_poll(entity=transport, options=2, state=State.OPEN)
    visitors = make_poll(
        entity=health, for_visitors=True, for_citizens=False, for_residents=False, options=2, state=State.OPEN
    )
    upcoming = make_poll(
        entity=transport, opens_at=timezone.now() + timedelta(days=2), state=State.SCHEDULED, options=2
    )
    draft = make_poll(entity=transport, state=State.DRAFT, options=2)
    return {"citizens": citizens, "visitors": visitors, "upcoming": upcoming, "draft": draft}


def title(item, lang):
    return item.title_ar if lang == "ar" else item.title_en


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_opened_feed_in_the_page_language(client, items, lang):
    found, root = entries(client.get(url(lang, "feed_opened")))
    assert title(items["citizens"], lang) in found
    assert title(items["visitors"], lang) in found
    assert title(items["upcoming"], lang) not in found
    assert title(items["draft"], lang) not in found
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == lang
    assert root.find(f"{ATOM}title").text == t(lang, "Newly opened consultations, polls and referendums")
    link = found[title(items["citizens"], lang)].find(f"{ATOM}link").get("href")
    assert link.endswith(f"/{lang}/polls/{items['citizens'].slug}/")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_filter_by_entity_and_audience(client, items, lang):
    found, _root = entries(client.get(url(lang, "feed_opened"), {"entity": "transport"}))
    assert set(found) == {title(items["citizens"], lang)}
    found, _root = entries(client.get(url(lang, "feed_opened"), {"segment": Segment.VISITOR}))
    assert set(found) == {title(items["visitors"], lang)}
    found, _root = entries(client.get(url(lang, "feed_opened"), {"segment": "citizen", "persona": "parent"}))
    assert set(found) == {title(items["citizens"], lang)}
    # A feed reader's own parameters are ignored.
    found, _root = entries(client.get(url(lang, "feed_opened"), {"entity": "health", "utm_source": "reader"}))
    assert set(found) == {title(items["visitors"], lang)}


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("name", ["feed_opened", "feed_results", "feed_outcomes", "feed_calendar"])
def test_bad_filters_are_clear_400_and_404(client, items, lang, name):
    response = client.get(url(lang, name), {"entity": "no-such-ministry"})
    assert response.status_code == 404
    assert_shown(response, t(lang, "No such ministry"))
    for query in ({"segment": "martian"}, {"segment": "visitor", "persona": "parent"}, {"persona": "student"}):
        response = client.get(url(lang, name), query)
        assert response.status_code == 400, query
        assert_shown(
            response, t(lang, "Choose visitor, citizen or resident as the segment, and a persona that belongs to it.")
        )


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_results_feed_only_published_results(client, lang):
    poll, _people = bus_poll()
    referendum, _receipts = new_law_referendum()
    waiting = make_referendum(results_need_approval=True, requires_verified_identity=True, options=2, state=State.OPEN)
    _question, options = question_and_options(waiting)
    vote_referendum(person(verified=True), waiting, options[0])
    count(close(waiting))
    _live = make_poll(live_results=True, options=2, state=State.OPEN)
    found, _root = entries(client.get(url(lang, "feed_results")))
    assert set(found) == {title(poll, lang), title(referendum, lang)}
    link = found[title(referendum, lang)].find(f"{ATOM}link").get("href")
    assert link.endswith(f"/{lang}/referendums/{referendum.slug}/results/")
    summary = found[title(poll, lang)].find(f"{ATOM}summary").text
    assert summary.startswith(tn(lang, "%(counter)s ballot counted", "%(counter)s ballots counted", 3, counter=3))


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_outcomes_feed_in_the_ministry_words(client, lang):
    four = record_of_four()
    with at(NOW):
        found, _root = entries(client.get(url(lang, "feed_outcomes"), {"entity": "transport"}))
    assert set(found) == {title(four["on_time"], lang), title(four["late"], lang)}
    summary = found[title(four["on_time"], lang)].find(f"{ATOM}summary").text
    assert summary == (four["on_time"].outcome_changed_ar if lang == "ar" else four["on_time"].outcome_changed_en)


# -- iCalendar ------------------------------------------------------------------------------------


def unfold(data):
    return data.replace("\r\n ", "")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_calendar_is_rfc_5545(client, items, lang):
    response = client.get(url(lang, "feed_calendar"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    data = response.content
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "every line ends with CRLF"
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # folding never splits a character
    text = unfold(data.decode("utf-8"))
    assert text.count("BEGIN:VEVENT") == 2 * 3  # opening and closing of the three public polls
    poll = items["citizens"]
    start = poll.opens_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert f"UID:poll-{poll.slug}-opens-{lang}@testserver\r\nDTSTAMP:" in text
    assert f"DTSTART:{start}\r\n" in text
    assert t(lang, "Opens: %(title)s", title=title(poll, lang)) in text
    assert title(items["draft"], lang) not in text


def test_text_is_escaped_and_long_lines_folded():
    assert feeds.ics_text("a,b;c\\d\r\ne\x07") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "استشارة وطنية حول مشروع قانون النقل، المرحلة الثانية " * 4
    folded = feeds.fold(line)
    physical = folded.encode("utf-8").split(b"\r\n")
    assert len(physical) > 1
    assert all(len(part) <= 75 for part in physical)
    assert all(part.startswith(b" ") for part in physical[1:])
    assert unfold(folded) == line


def test_calendar_filter_by_entity(client, items):
    text = unfold(client.get(url("en", "feed_calendar"), {"entity": "health"}).content.decode())
    assert text.count("BEGIN:VEVENT") == 2
    assert items["visitors"].title_en in text


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_control_characters_in_a_text_never_break_a_feed(client, lang):
    """XML 1.0 cannot carry them, and Django's feed writer raises on them: they are left out, never a 500."""
    poll = make_poll(state=State.DRAFT, options=2)
    type(poll).objects.filter(pk=poll.pk).update(summary_ar="ملخص\x07 قصير", summary_en="A\x07 summary\x0b")
    set_state(poll, State.OPEN)
    found, _root = entries(client.get(url(lang, "feed_opened")))
    summary = found[title(poll, lang)].find(f"{ATOM}summary").text
    assert summary == ("ملخص قصير" if lang == "ar" else "A summary")
    assert client.get(url(lang, "feed_calendar")).status_code == 200


def test_each_feed_dates_its_entries_by_their_own_moment(client, items):
    """Opened: when the item opened; results: when counted; outcomes: when the ministry published its outcome."""
    poll, _people = bus_poll()
    four = record_of_four()

    def dates(name, item, **params):
        found, _root = entries(client.get(url("en", name), params))
        entry = found[item.title_en]
        return {datetime.fromisoformat(entry.find(f"{ATOM}{tag}").text) for tag in ("published", "updated")}

    assert dates("feed_opened", items["citizens"]) == {items["citizens"].opens_at}
    assert dates("feed_results", poll) == {poll.result.tallied_at}
    on_time = four["on_time"]
    with at(NOW):
        assert dates("feed_outcomes", on_time, entity="transport") == {on_time.outcome_published_at}
