"""Results in plain words (issue 12): the sentence above the chart, in both languages with Arabic number
agreement; the digest in a "For auditors" disclosure; an open poll's results page says when the breakdown comes."""

import re

import pytest
from django.utils import translation

from accounts.models import Segment
from participation import headlines
from participation.models import Result, State
from tests.builders.items import close, count, make_poll, make_referendum, question_and_options, vote, vote_referendum
from tests.builders.users import people, person

from .conftest import results_url, t

pytestmark = pytest.mark.django_db


def rows(*counts, blank=0):
    """Result rows as the chart gets them: answers A, B, ... then the blank vote."""
    total = sum(counts) + blank
    out = [
        {"label": chr(ord("A") + i), "count": n, "percent": round(100 * n / total, 1) if total else 0.0}
        for i, n in enumerate(counts)
    ]
    out.append(
        {"label": "Blank", "count": blank, "percent": round(100 * blank / total, 1) if total else 0.0, "abstain": True}
    )
    return out


def sentence(lang, kind, block_rows, live=False):
    results = {
        "ballots": sum(r["count"] for r in block_rows),
        "questions": [{"text": "Q", "rows": block_rows}],
        "live": live,
    }
    with translation.override(lang):
        found = headlines.for_results(results, kind)
    return found[0]["sentence"] if found else None


# ---------------------------------------------------------------------------
# The sentences
# ---------------------------------------------------------------------------


def test_a_referendum_winner_is_measured_against_valid_votes_blank_votes_left_out():
    # 2 for A, 1 for B, 1 blank: A has 50 % of the ballots but 66.7 % of the valid votes.
    assert (
        sentence("en", "referendum", rows(2, 1, blank=1)) == "“A” won with 66.7 % of valid votes (2 of 3 valid votes)."
    )
    assert (
        sentence("ar", "referendum", rows(2, 1, blank=1))
        == "فازت الإجابة «A» بنسبة 66.7٪ من الأصوات الصحيحة (2 من أصل 3 أصوات صحيحة)."
    )


# Arabic has six plural forms: the total of valid votes decides the noun and its agreement.
ARABIC_VALID_VOTES = {
    1: "(بالصوت الصحيح الوحيد)",
    2: "(2 من أصل صوتين صحيحين)",
    3: "(2 من أصل 3 أصوات صحيحة)",
    11: "(6 من أصل 11 صوتًا صحيحًا)",
    100: "(51 من أصل 100 صوت صحيح)",
}


@pytest.mark.parametrize(("valid", "expected"), ARABIC_VALID_VOTES.items())
def test_arabic_number_agreement_on_the_valid_votes(valid, expected):
    winner = valid // 2 + 1
    text = sentence("ar", "referendum", rows(winner, valid - winner))
    assert text.startswith("فازت الإجابة «A» بنسبة ")
    assert text.endswith(expected + "."), text
    english = sentence("en", "referendum", rows(winner, valid - winner))
    assert english.endswith(f"({winner} of {valid} valid vote{'s' if valid != 1 else ''}).")


def test_large_totals_are_grouped():
    assert sentence("en", "referendum", rows(1500, 500)).endswith("(1,500 of 2,000 valid votes).")


def test_a_tie_names_every_answer_that_came_first():
    assert sentence("en", "referendum", rows(2, 2, 1)) == (
        "No answer came first: “A” and “B” received the same number of votes, 40.0 % of valid votes each."
    )
    assert sentence("ar", "referendum", rows(2, 2, 1)).startswith(
        "لم تتقدّم أي إجابة على غيرها: تعادلت «A» و«B» في عدد الأصوات"
    )


def test_without_a_majority_the_sentence_says_so():
    text = sentence("en", "referendum", rows(4, 3, 3))
    assert (
        text == "The most chosen answer is “A”, with 40.0 % of valid votes (4 of 10 valid votes), short of a majority."
    )
    assert "دون الأغلبية" in sentence("ar", "referendum", rows(4, 3, 3))


def test_only_blank_votes():
    assert sentence("en", "referendum", rows(0, 0, blank=3)) == "No valid vote was cast: every ballot was blank."
    assert sentence("ar", "referendum", rows(0, 0, blank=3)) == "لم يُدلَ بأي صوت صحيح: كانت جميع الأوراق بيضاء."


def test_polls_say_the_most_chosen_answer_as_the_chart_counts_it():
    assert sentence("en", "poll", rows(1, 3, blank=1)) == "The most chosen answer is “B” (60.0 % of ballots)."
    assert sentence("en", "poll", rows(1, 3), live=True) == "So far, the most chosen answer is “B” (75.0 % of ballots)."
    assert (
        sentence("ar", "poll", rows(1, 3), live=True)
        == "حتى الآن، الإجابة الأكثر اختيارًا هي «B» (75.0٪ من بطاقات الاقتراع)."
    )
    assert (
        sentence("en", "poll", rows(2, 2, 2)) == "“A”, “B” and “C” were chosen equally often (33.3 % of ballots each)."
    )
    assert sentence("en", "poll", rows(0, 0, blank=2)) == "No answer was chosen."


def test_nothing_to_sum_up_while_counting_or_without_ballots():
    assert headlines.for_results(None, "poll") == []
    assert headlines.for_results({"counting": True}, "referendum") == []
    assert (
        headlines.for_results({"ballots": 0, "questions": [{"text": "Q", "rows": rows(0, 0)}], "live": True}, "poll")
        == []
    )


# ---------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------


def html_of(client, address):
    response = client.get(address)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def published_referendum():
    """2 yes, 1 no, 1 blank vote: counted and published."""
    referendum = make_referendum(options=2, state=State.OPEN)
    _question, (yes, no) = question_and_options(referendum)
    voters = people(4, Segment.CITIZEN, verified=True)
    for voter, option in zip(voters, (yes, yes, no, None), strict=True):
        vote_referendum(voter, referendum, option)
    return count(close(referendum))


def test_the_referendum_results_page_opens_with_the_sentence(client, lang, published_referendum):
    html = html_of(client, results_url(lang, published_referendum))
    with translation.override(lang):
        expected = (
            headlines.for_results(
                {"ballots": 4, "questions": [{"text": "", "rows": rows(2, 1, blank=1)}]}, "referendum"
            )[0]["sentence"]
            .replace("“A”", "")
            .replace("«A»", "")
        )
    headline = re.search(r'<div class="results-headline[^"]*">(.*?)</div>', html, re.S)
    assert headline, "no headline"
    text = re.sub(r"<[^>]+>", "", headline.group(1)).strip()
    option = published_referendum.questions.get().options.get(position=1)
    assert option.text_ar if lang == "ar" else option.text_en in text
    assert text.replace(f"“{option.text_en}”", "").replace(f"«{option.text_ar}»", "") == expected
    assert html.index('class="results-headline') < html.index('id="results-title"'), (
        "the sentence comes before the chart"
    )


def test_the_digest_is_in_the_for_auditors_disclosure(client, lang, published_referendum):
    html = html_of(client, results_url(lang, published_referendum))
    digest = Result.objects.get(item=published_referendum).ballots_digest
    disclosure = re.search(r'<details class="my-3" id="for-auditors">(.*?)</details>', html, re.S)
    assert disclosure, "no For auditors disclosure"
    assert t(lang, "For auditors") in disclosure.group(1)
    assert digest in disclosure.group(1)
    assert html.count(digest) == 1, "the digest is shown once, in the disclosure"
    assert "verify_referendum.py" in disclosure.group(1)


def test_a_closed_poll_has_its_sentence_and_its_digest_for_auditors(client, lang):
    poll = make_poll(options=2, state=State.OPEN)
    _question, (first, second) = question_and_options(poll)
    vote(person(), poll, [first])
    vote(person(), poll, [first])
    vote(person(), poll, [second])
    count(close(poll))
    html = html_of(client, results_url(lang, poll))
    expected = {
        "en": "The most chosen answer is “Option 1” (66.7 % of ballots).",
        "ar": "الإجابة الأكثر اختيارًا هي «الخيار 1» (66.7٪ من بطاقات الاقتراع).",
    }[lang]
    assert f'<p class="lead fw-bold mb-0">{expected}</p>' in html
    digest = Result.objects.get(item=poll).ballots_digest
    disclosure = re.search(r'<details class="my-3" id="for-auditors">(.*?)</details>', html, re.S)
    assert disclosure and digest in disclosure.group(1)
    assert 'id="breakdown-later"' not in html
    assert 'id="breakdown-title"' in html


def test_an_open_polls_results_page_says_when_the_breakdown_appears(client, lang):
    poll = make_poll(live_results=True, options=2, state=State.OPEN)
    _question, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    html = html_of(client, results_url(lang, poll))
    assert 'id="breakdown-title"' not in html  # no breakdown while open ...
    assert (
        t(
            lang,
            "These are the results so far. The breakdown by group (segment and persona) appears here once the poll has closed and the votes are counted.",
        )
        in html
    )  # ... and the page says when it comes
    assert 'id="for-auditors"' not in html
    assert html.index('class="results-headline') < html.index('id="results-title"')


def test_the_poll_page_has_the_sentence_above_its_live_chart(client, lang):
    poll = make_poll(live_results=True, options=2, state=State.OPEN)
    _question, (first, second) = question_and_options(poll)
    vote(person(), poll, [second])
    html = html_of(client, f"/{lang}/polls/{poll.slug}/")
    expected = {
        "en": "So far, the most chosen answer is “Option 2” (100.0 % of ballots).",
        "ar": "حتى الآن، الإجابة الأكثر اختيارًا هي «الخيار 2» (100.0٪ من بطاقات الاقتراع).",
    }[lang]
    assert f'<p class="lead fw-bold mb-0">{expected}</p>' in html
    assert html.index('class="results-headline') < html.index('id="results-title"')
