"""No English sentence on the portal's Arabic pages, for a visitor and for a signed-in citizen.

tests/test_i18n.py looks for a few known interface strings; this reads the whole visible text of each page and
fails on any run of two or more Latin words ("Sign in", "Take part", "This password is too short"), which is
what an untranslated message looks like. A single Latin token (an e-mail address, a file name) is allowed. Text that is
English on purpose is marked so (lang="en", dir="ltr", <code>, <pre>, <kbd>, <samp>) and is left out.
"""

import re

import pytest

from accounts.models import Segment
from participation.models import Poll, State
from tests.builders.items import close, count, make_consultation, make_poll, make_referendum, question_and_options, vote
from tests.builders.items import make_poll as make_counted_poll
from tests.builders.users import people
from tests.factories import VerifiedUserFactory
from tests.test_i18n import visible_text

pytestmark = pytest.mark.django_db

LATIN_WORDS = re.compile(r"[A-Za-z][A-Za-z’'.-]*(?:[ ,]+[A-Za-z][A-Za-z’'.-]*)+")
MARKED_AS_OTHER_LANGUAGE = re.compile(
    r'(?is)<(code|pre|kbd|samp)\b.*?</\1>|<(\w+)\b[^>]*\b(?:lang="en"|dir="ltr")[^>]*>.*?</\2>'
)


def arabic_text(html):
    return visible_text(MARKED_AS_OTHER_LANGUAGE.sub(" ", html))


@pytest.fixture
def pages():
    poll, referendum, consultation = make_poll(), make_referendum(), make_consultation()
    counted = make_counted_poll(options=2, state=State.OPEN)
    _question, (first, _second) = question_and_options(counted)
    for voter in people(3, Segment.CITIZEN):
        vote(voter, counted, [first])
    close(counted)
    count(counted)
    counted = Poll.objects.get(pk=counted.pk)
    return [
        "/ar/",
        "/ar/participate/",
        "/ar/participate/?tab=upcoming",
        "/ar/participate/?tab=closed",
        "/ar/about/",
        "/ar/policy/",
        f"/ar/polls/{poll.slug}/",
        f"/ar/referendums/{referendum.slug}/",
        f"/ar/consultations/{consultation.slug}/",
        f"/ar/polls/{counted.slug}/results/",
        "/ar/audit/checkpoint/",
        "/ar/you-said-we-did/",
        f"/ar/you-said-we-did/{consultation.entity.slug}/",
        "/ar/data/",
        "/ar/api/",
    ]


@pytest.mark.parametrize("who", ["visitor", "citizen"])
def test_arabic_pages_have_no_english_sentence(client, pages, who):
    if who == "citizen":
        client.force_login(VerifiedUserFactory(segment=Segment.CITIZEN, full_name="نورة الكواري"))
    found = {}
    for path in pages:
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        sentences = LATIN_WORDS.findall(arabic_text(response.content.decode()))
        if sentences:
            found[path] = sentences
    assert found == {}


def test_the_check_sees_an_english_sentence_and_spares_marked_text():
    html = (
        "<main><p>نص عربي</p><p>This password is too short.</p>"
        '<code>python3 verify_referendum.py ballots.csv</code><a lang="en" href="/en/">English version here</a></main>'
    )
    assert LATIN_WORDS.findall(arabic_text(html)) == ["This password is too short."]
    assert LATIN_WORDS.findall(arabic_text("<p>سجّل Sign in الآن</p><p>noura@example.qa</p>")) == ["Sign in"]


def test_the_counted_poll_says_its_ballots_in_arabic(client, pages):
    results = next(path for path in pages if path.endswith("/results/"))
    assert "3 بطاقات اقتراع محتسبة" in arabic_text(client.get(results).content.decode())
