"""Results pages in Arabic and English: server-rendered bars with the numbers as text, turnout, breakdowns,
live counts, referendum approval, the public receipt list, and tallying on the first request after closing."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import formats, timezone, translation
from django.utils.translation import ngettext

from accounts.models import Persona, Segment
from participation import errors
from participation.models import PollBallot, Result, State
from participation.services import lifecycle
from tests.builders.items import (
    close,
    count,
    make_poll,
    make_referendum,
    question_and_options,
    set_state,
    vote,
    vote_referendum,
)
from tests.builders.users import people, person

from .conftest import results_url, t

pytestmark = pytest.mark.django_db

BAR_RE = re.compile(r'<rect class="result-bar-rect( abstain)?"[^>]*width="([^"]+)"')


def number(lang, value, grouping=False):
    """A number as the page should show it in `lang` (the portal's format modules)."""
    with translation.override(lang):
        return formats.number_format(value, use_l10n=True, force_grouping=grouping)


def label(lang, choice):
    with translation.override(lang):
        return str(choice.label)


def get_html(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def assert_page_language(html, lang):
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html


def bars(html):
    return [(bool(abstain), width) for abstain, width in BAR_RE.findall(html)]


# ---------------------------------------------------------------------------
# A closed poll: counted by the worker, then shown from the stored result
# ---------------------------------------------------------------------------


@pytest.fixture
def closed_poll():
    """Three ballots (citizens: option 1 twice; a resident: option 2) and one citizen who did not vote."""
    poll = make_poll(allow_abstain=True, options=2, state=State.OPEN)
    question, (first, second) = question_and_options(poll)
    citizen1, citizen2 = people(2, Segment.CITIZEN)
    resident = person(Segment.RESIDENT)
    vote(citizen1, poll, [first])
    vote(citizen2, poll, [first])
    vote(resident, poll, [second])
    person(Segment.CITIZEN)
    close(poll)
    return poll


def test_a_closed_poll_not_yet_counted_says_so_and_the_page_counts_nothing(client, lang, closed_poll):
    html = get_html(client, results_url(lang, closed_poll))
    assert not Result.objects.filter(item=closed_poll).exists()
    assert_page_language(html, lang)
    assert (
        t(
            lang,
            "Voting has closed and the ballots are being counted. The results will appear here within a few minutes.",
        )
        in html
    )
    assert "result-bar-rect" not in html


def test_closed_poll_results_page_shows_numbers_percentages_turnout_and_bars(client, lang, closed_poll):
    count(closed_poll)
    html = get_html(client, results_url(lang, closed_poll))

    result = Result.objects.get(item=closed_poll)
    closed_poll.refresh_from_db()
    assert closed_poll.state == State.PUBLISHED
    assert_page_language(html, lang)
    assert getattr(closed_poll, f"title_{lang}") in html
    assert t(lang, "Results") in html
    # Option labels in the page's language; "no opinion" as a row of its own.
    for position in (1, 2):
        assert {"ar": f"الخيار {position}", "en": f"Option {position}"}[lang] in html
    assert t(lang, "No opinion") in html
    # Numbers as text, next to the bars.
    assert "<td>2</td>" in html and "<td>1</td>" in html and "<td>0</td>" in html
    for share in (66.7, 33.3, 0.0):
        assert f"<td>{number(lang, share)}%</td>" in html
    with translation.override(lang):
        ballots_line = ngettext("%(counter)s ballot counted", "%(counter)s ballots counted", 3) % {"counter": 3}
    assert ballots_line in html
    assert (
        t(lang, "Turnout %(turnout)s%% of %(eligible)s eligible people", turnout=number(lang, 75.0), eligible=4) in html
    )
    # Bars drawn on the server: SVG rects whose width is the share, never localised.
    assert bars(html) == [(False, "66.7%"), (False, "33.3%"), (True, "0.0%")]
    assert html.count('class="result-bar-svg"') == 3
    assert result.ballots_digest in html


def test_closed_poll_results_page_has_the_segment_breakdown_table(client, lang, closed_poll):
    count(closed_poll)
    html = get_html(client, results_url(lang, closed_poll))
    assert 'id="breakdown-title"' in html
    assert t(lang, "By segment") in html
    section = html.split('id="breakdown-title"', 1)[1].split("</section>", 1)[0]
    header = re.search(r"<thead>(.*?)</thead>", section, re.S).group(1)
    assert label(lang, Segment.CITIZEN) in header
    assert label(lang, Segment.RESIDENT) in header
    assert label(lang, Segment.VISITOR) not in header  # nobody of that segment voted
    rows = re.findall(r"<tr><th scope=\"row\"[^>]*>([^<]*)</th>(.*?)</tr>", section, re.S)
    cells = [re.findall(r"<td>([^<]*)</td>", row_cells) for _label, row_cells in rows]
    # Columns follow the segment order visitor, citizen, resident (visitor absent): citizen, resident.
    assert cells == [["2", "0"], ["0", "1"], ["0", "0"]]


def test_a_second_request_shows_the_same_stored_result(client, lang, closed_poll):
    count(closed_poll)
    get_html(client, results_url(lang, closed_poll))
    first = Result.objects.get(item=closed_poll)
    html = get_html(client, results_url(lang, closed_poll))
    assert Result.objects.filter(item=closed_poll).count() == 1
    assert Result.objects.get(item=closed_poll).pk == first.pk
    assert first.ballots_digest in html


def test_poll_results_page_has_the_persona_breakdown(client, lang):
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, second) = question_and_options(poll)
    vote(person(Segment.CITIZEN, personas=[Persona.PARENT]), poll, [first])
    vote(person(Segment.CITIZEN, personas=[Persona.PARENT, Persona.EMPLOYEE]), poll, [second])
    count(close(poll))
    html = get_html(client, results_url(lang, poll))
    assert 'id="persona-title"' in html
    assert t(lang, "By persona") in html
    section = html.split('id="persona-title"', 1)[1].split("</section>", 1)[0]
    assert label(lang, Persona.PARENT) in section
    assert label(lang, Persona.EMPLOYEE) in section
    assert label(lang, Persona.STUDENT) not in section
    rows = re.findall(r"<tr><th scope=\"row\"[^>]*>[^<]*</th>(.*?)</tr>", section, re.S)
    # Columns: parent, employee (Persona order, only those present).
    assert [re.findall(r"<td>([^<]*)</td>", r) for r in rows] == [["1", "0"], ["1", "1"]]


def test_large_numbers_are_grouped_for_the_language(client, lang):
    poll = make_poll(options=2, state=State.OPEN)
    question, (first, second) = question_and_options(poll)
    close(poll)
    set_state(poll, State.PUBLISHED)
    Result.objects.create(
        item=poll,
        tallied_at=timezone.now(),
        ballots=12345,
        eligible=20000,
        ballots_digest="a" * 64,
        counts={
            "kind": "poll",
            "questions": [
                {
                    "id": question.pk,
                    "position": 1,
                    "ar": question.text_ar,
                    "en": question.text_en,
                    "multiple": False,
                    "options": [
                        {"id": first.pk, "position": 1, "ar": "نعم", "en": "Yes", "votes": 11111, "percent": 90.0},
                        {"id": second.pk, "position": 2, "ar": "لا", "en": "No", "votes": 1234, "percent": 10.0},
                    ],
                }
            ],
            "breakdown": {
                "segment": {"citizen": {f"{question.pk}:{first.pk}": 11111, f"{question.pk}:{second.pk}": 1234}},
                "persona": {},
                "segment_ballots": {"citizen": 12345},
            },
        },
    )
    html = get_html(client, results_url(lang, poll))
    assert f"<td>{number(lang, 11111, grouping=True)}</td>" in html
    assert f"<td>{number(lang, 1234, grouping=True)}</td>" in html
    assert number(lang, 1234, grouping=True) != "1234"
    assert (
        t(
            lang,
            "Turnout %(turnout)s%% of %(eligible)s eligible people",
            turnout=number(lang, 61.7),
            eligible=number(lang, 20000),
        )
        in html
    )
    assert {"ar": "نعم", "en": "Yes"}[lang] in html


# ---------------------------------------------------------------------------
# Open polls: live counts only when the poll says so
# ---------------------------------------------------------------------------


def test_open_poll_with_live_results_shows_running_counts(client, lang):
    poll = make_poll(live_results=True, options=2, state=State.OPEN)
    _q, (first, second) = question_and_options(poll)
    vote(person(), poll, [first])
    html = get_html(client, results_url(lang, poll))
    assert t(lang, "Results so far") in html
    assert bars(html) == [(False, "100.0%"), (False, "0.0%")]
    vote(person(), poll, [second])
    html = get_html(client, results_url(lang, poll))
    assert bars(html) == [(False, "50.0%"), (False, "50.0%")]
    assert "<td>1</td>" in html
    assert not Result.objects.filter(item=poll).exists()  # nothing stored while open


def test_open_poll_without_live_results_shows_no_counts(client, lang):
    poll = make_poll(live_results=False, options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    html = get_html(client, results_url(lang, poll))
    assert t(lang, "Results are shown after the item closes.") in html
    assert "result-bar-rect" not in html
    assert not Result.objects.filter(item=poll).exists()


# ---------------------------------------------------------------------------
# Referendums: after the tally, automatically or after a ministry admin approves
# ---------------------------------------------------------------------------


@pytest.fixture
def referendum_ballots():
    """10 citizens vote yes, 2 residents vote no; returns (referendum, receipts)."""

    def build(**fields):
        referendum = make_referendum(**fields, options=2, state=State.OPEN)
        _q, (yes, no) = question_and_options(referendum)
        receipts = [vote_referendum(v, referendum, yes) for v in people(10, Segment.CITIZEN, verified=True)]
        receipts += [vote_referendum(v, referendum, no) for v in people(2, Segment.RESIDENT, verified=True)]
        return referendum, receipts

    return build


def receipts_url(lang, referendum):
    return f"/{lang}/referendums/{referendum.slug}/receipts/"


def test_open_referendum_shows_no_results_and_no_receipts(client, lang, referendum_ballots):
    referendum, receipts = referendum_ballots()
    html = get_html(client, results_url(lang, referendum))
    assert "result-bar-rect" not in html
    assert t(lang, "Results are shown after the item closes.") in html
    assert not Result.objects.filter(item=referendum).exists()
    html = get_html(client, receipts_url(lang, referendum), status=404)
    assert receipts[0] not in html
    assert t(lang, "The receipt list appears when the results of this referendum are published.") in html


def test_referendum_results_appear_automatically_after_the_tally(client, lang, referendum_ballots):
    referendum, receipts = referendum_ballots()
    count(close(referendum))

    html = get_html(client, results_url(lang, referendum))

    referendum.refresh_from_db()
    assert referendum.state == State.PUBLISHED
    assert_page_language(html, lang)
    assert bars(html) == [(False, "83.3%"), (False, "16.7%"), (True, "0.0%")]
    assert "<td>10</td>" in html and "<td>2</td>" in html
    assert t(lang, "Blank vote") in html
    assert f'href="/{lang}/referendums/{referendum.slug}/receipts/"' in html
    receipts_html = get_html(client, receipts_url(lang, referendum))
    assert all(receipt in receipts_html for receipt in receipts)


def test_referendum_breakdown_shows_small_groups_as_hidden(client, lang, referendum_ballots):
    referendum, _receipts = referendum_ballots()
    count(close(referendum))
    html = get_html(client, results_url(lang, referendum))
    section = html.split('id="breakdown-title"', 1)[1].split("</section>", 1)[0]
    assert (
        t(lang, "To protect the secrecy of the ballot, groups of fewer than %(n)s ballots are not shown (–).", n=10)
        in section
    )
    rows = re.findall(r"<tr><th scope=\"row\"[^>]*>[^<]*</th>(.*?)</tr>", section, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", r) for r in rows]
    hidden = f'<span aria-hidden="true">–</span><span class="visually-hidden">{t(lang, "hidden")}</span>'
    assert (
        t(
            lang,
            "Where needed, some larger groups are not shown either, so that no hidden number can be worked "
            "out from the totals and the other numbers.",
        )
        in section
    )
    # Columns citizen, resident; rows yes, no, blank. 2 residents' no is hidden, and so are the 10 citizens' yes:
    # shown, it would give the other cells away by subtraction. Nobody voted blank: the totals say so.
    assert cells[:3] == [[hidden, hidden], [hidden, hidden], ["0", "0"]]
    assert (
        t(
            lang,
            "A small number is shown when the published totals already give it away, for example when a "
            "group cast no ballots or only one group voted.",
        )
        in section
    )
    # Ballots per segment are always published (the participation register gives them).
    assert re.search(
        rf"<tfoot><tr><th scope=\"row\">{t(lang, 'All ballots')}</th><td>10</td><td>2</td></tr></tfoot>", section
    )
    assert "<td>2</td>" not in section.split("<tfoot>")[0]


def test_referendum_needing_approval_shows_results_and_receipts_only_after_an_admin_publishes(
    client, lang, referendum_ballots, django_capture_on_commit_callbacks
):
    referendum, receipts = referendum_ballots(results_need_approval=True)
    count(close(referendum))

    html = get_html(client, results_url(lang, referendum))

    assert Result.objects.filter(item=referendum).exists()  # counted by the worker ...
    referendum.refresh_from_db()
    assert referendum.state == State.CLOSED  # ... but not published
    assert "result-bar-rect" not in html
    assert "<td>10</td>" not in html
    assert t(lang, "The results will appear here once they are published.") in html
    assert get_html(client, receipts_url(lang, referendum), status=404).count(receipts[0]) == 0

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.publish_results(None, referendum)  # the ministry admin's "publish" action

    html = get_html(client, results_url(lang, referendum))
    assert "<td>10</td>" in html
    assert len(bars(html)) == 3
    receipts_html = get_html(client, receipts_url(lang, referendum))
    assert all(receipt in receipts_html for receipt in receipts)


def test_referendum_detail_page_hides_results_until_published(client, lang, referendum_ballots):
    referendum, _receipts = referendum_ballots(results_need_approval=True)
    count(close(referendum))
    html = get_html(client, f"/{lang}/referendums/{referendum.slug}/")
    assert "result-bar-rect" not in html
    lifecycle.publish_results(None, referendum)
    html = get_html(client, f"/{lang}/referendums/{referendum.slug}/")
    assert "result-bar-rect" in html


# ---------------------------------------------------------------------------
# The clock, with no task run at all
# ---------------------------------------------------------------------------


def test_after_closing_time_a_request_counts_nothing_and_the_worker_does(client, lang):
    now = timezone.now()
    poll = make_poll(opens_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=1), options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    later = poll.closes_at + timedelta(minutes=5)

    with time_machine.travel(later, tick=False):
        html = get_html(client, results_url(lang, poll))
        assert not Result.objects.filter(item=poll).exists()
        assert "result-bar-rect" not in html
        count(poll)
        html = get_html(client, results_url(lang, poll))

    result = Result.objects.get(item=poll)
    assert result.tallied_at == later
    assert result.ballots == 1
    poll.refresh_from_db()
    assert poll.state == State.PUBLISHED
    assert bars(html)[0] == (False, "100.0%")


def test_before_closing_time_nothing_is_tallied(client, lang):
    now = timezone.now()
    poll = make_poll(opens_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=1), options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    with time_machine.travel(poll.closes_at - timedelta(seconds=1), tick=False):
        html = get_html(client, results_url(lang, poll))
    assert not Result.objects.filter(item=poll).exists()
    assert "result-bar-rect" not in html


def test_the_poll_page_after_closing_shows_the_stored_count_only(client, lang):
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    close(poll)
    html = get_html(client, f"/{lang}/polls/{poll.slug}/")
    assert not Result.objects.filter(item=poll).exists()
    assert "result-bar-rect" not in html
    count(poll)
    html = get_html(client, f"/{lang}/polls/{poll.slug}/")
    assert "result-bar-rect" in html


def test_a_vote_after_closing_time_is_refused(client, lang):
    now = timezone.now()
    poll = make_poll(opens_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=1), options=2, state=State.OPEN)
    question, (first, _second) = question_and_options(poll)
    voter = person(preferred_language=lang)
    client.force_login(voter)

    with time_machine.travel(poll.closes_at + timedelta(seconds=1), tick=False):
        with pytest.raises(errors.Refused):
            vote(voter, poll, [first])
        response = client.post(f"/{lang}/polls/{poll.slug}/", {f"question-{question.pk}": [str(first.pk)]})

    assert response.status_code == 403
    assert t(lang, "This item has closed. You can no longer take part.") in response.content.decode()
    assert not PollBallot.objects.filter(item=poll).exists()


def test_a_vote_just_before_closing_time_counts(client, lang):
    now = timezone.now()
    poll = make_poll(opens_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=1), options=2, state=State.OPEN)
    question, (first, _second) = question_and_options(poll)
    client.force_login(person())
    with time_machine.travel(poll.closes_at - timedelta(seconds=1), tick=False):
        response = client.post(f"/{lang}/polls/{poll.slug}/", {f"question-{question.pk}": [str(first.pk)]})
    assert response.status_code == 302
    assert PollBallot.objects.filter(item=poll).count() == 1
