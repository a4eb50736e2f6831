"""Pages and the vote run a fixed number of SQL queries, whatever the number of items, questions, options and ballots.

Each page is measured twice, with one small item and with 25 items of 5
questions and 10 options (or 25 sections, 5 referendum options, many comments
and receipts), against the same bound. The bounds are today's counts plus a
headroom of 2: one extra query per item, question or option would break them.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from participation.models import PollAnswer, PollBallot
from participation.services import consultation as consultation_service
from participation.services import counting, voting
from tests.builders.items import make_consultation, make_poll, make_referendum, single_choices
from tests.factories import VerifiedUserFactory

from .conftest import page, url

pytestmark = pytest.mark.django_db

SIZES = {
    "small": {"items": 1, "questions": 1, "options": 2, "sections": 1, "referendum_options": 2, "voters": 1},
    "large": {"items": 25, "questions": 5, "options": 10, "sections": 25, "referendum_options": 5, "voters": 4},
}
HEADROOM = 2
BOUNDS = {
    # page: (signed out, signed in)
    "home": (1, 5),
    "vote": (None, 8),
    "list": (3, 9),
    "closed list": (3, 9),
    "poll": (6, 11),
    "poll results": (6, 10),
    "referendum": (4, 9),
    "referendum results": (6, 10),
    "receipts": (5, 9),
    "consultation": (4, 10),
}


@pytest.fixture(params=["small", "large"])
def size(request):
    return SIZES[request.param]


@pytest.fixture(params=["signed out", "signed in"])
def viewer(request, client):
    """The client, signed in as a verified citizen or not; returns (client, user or None, bound index)."""
    if request.param == "signed out":
        return client, None, 0
    user = VerifiedUserFactory()
    client.force_login(user)
    return client, user, 1


def get_within_bound(client, address, name, index, django_assert_max_num_queries, **params):
    with django_assert_max_num_queries(BOUNDS[name][index] + HEADROOM):
        response = client.get(address, params)
    assert response.status_code == 200
    return response


def voters(size):
    return [VerifiedUserFactory() for _ in range(size["voters"])]


def polls(size, **kwargs):
    return [make_poll(questions=size["questions"], options=size["options"], **kwargs) for _ in range(size["items"])]


def test_the_list_page(lang, size, viewer, django_assert_max_num_queries):
    client, user, index = viewer
    items = polls(size, for_visitors=True)
    make_referendum(options=size["referendum_options"])
    make_consultation(sections=size["sections"])
    if user:
        voting.cast_poll_ballot(user, items[0], single_choices(items[0]))
    response = get_within_bound(client, url(lang, "list"), "list", index, django_assert_max_num_queries)
    assert page(response).count("<article") == min(10, size["items"] + 2)


def test_the_closed_list_page(lang, size, viewer, django_assert_max_num_queries):
    client, _user, index = viewer
    now = timezone.now()
    items = polls(size, opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=2))
    for item in items[:3]:
        counting.tally_and_publish(item.pk)
    response = get_within_bound(
        client, url(lang, "list"), "closed list", index, django_assert_max_num_queries, tab="closed"
    )
    assert page(response).count("<article") == min(10, size["items"])


def test_the_poll_page_with_live_results(lang, size, viewer, django_assert_max_num_queries):
    client, user, index = viewer
    poll = make_poll(questions=size["questions"], options=size["options"], live_results=True, for_visitors=True)
    for voter in voters(size):
        voting.cast_poll_ballot(voter, poll, single_choices(poll))
    response = get_within_bound(
        client, url(lang, "poll_detail", slug=poll.slug), "poll", index, django_assert_max_num_queries
    )
    assert 'id="results-title"' in page(response)
    if user:
        assert page(response).count('class="form-check-input"') == size["questions"] * size["options"]


def test_the_poll_results_page(lang, size, viewer, django_assert_max_num_queries):
    client, _user, index = viewer
    poll = make_poll(questions=size["questions"], options=size["options"])
    for voter in voters(size):
        voting.cast_poll_ballot(voter, poll, single_choices(poll))
    with time_machine.travel(poll.closes_at + timedelta(hours=1), tick=False):
        counting.tally_and_publish(poll.pk)
        response = get_within_bound(
            client, url(lang, "poll_results", slug=poll.slug), "poll results", index, django_assert_max_num_queries
        )
    assert page(response).count("<figure") == size["questions"]


def test_the_referendum_page(lang, size, viewer, django_assert_max_num_queries):
    client, user, index = viewer
    referendum = make_referendum(options=size["referendum_options"])
    for voter in voters(size):
        voting.cast_referendum_ballot(voter, referendum, "abstain")
    response = get_within_bound(
        client, url(lang, "referendum_detail", slug=referendum.slug), "referendum", index, django_assert_max_num_queries
    )
    if user:
        assert page(response).count('name="choice"') == size["referendum_options"] + 1


def published_referendum(size):
    referendum = make_referendum(options=size["referendum_options"])
    for voter in voters(size):
        voting.cast_referendum_ballot(voter, referendum, referendum.questions.get().options.first().pk)
    moment = referendum.closes_at + timedelta(hours=1)
    with time_machine.travel(moment, tick=False):
        counting.tally_and_publish(referendum.pk)
    return referendum, moment


def test_the_referendum_results_page(lang, size, viewer, django_assert_max_num_queries):
    client, _user, index = viewer
    referendum, moment = published_referendum(size)
    with time_machine.travel(moment, tick=False):
        get_within_bound(
            client,
            url(lang, "referendum_results", slug=referendum.slug),
            "referendum results",
            index,
            django_assert_max_num_queries,
        )


def test_the_receipt_list(lang, size, viewer, django_assert_max_num_queries):
    client, _user, index = viewer
    referendum, moment = published_referendum(size)
    with time_machine.travel(moment, tick=False):
        response = get_within_bound(
            client,
            url(lang, "referendum_receipts", slug=referendum.slug),
            "receipts",
            index,
            django_assert_max_num_queries,
            code="ABCD-EFGH",
        )
    assert page(response).count('class="col-md-4 receipt-code small"') == size["voters"]


def test_the_consultation_page(lang, size, viewer, django_assert_max_num_queries):
    client, user, index = viewer
    consultation = make_consultation(sections=size["sections"], moderate_before_publishing=False)
    people = voters(size)
    for section in consultation.sections.all():
        for person in people:
            consultation_service.add_comment(person, consultation, f"About {section.number}", section)
            consultation_service.react_to_section(person, section, section.number % 2 == 0)
    consultation_service.add_comment(people[0], consultation, "On the whole draft")
    if user:
        consultation_service.react_to_section(user, consultation.sections.first(), True)
    response = get_within_bound(
        client,
        url(lang, "consultation_detail", slug=consultation.slug),
        "consultation",
        index,
        django_assert_max_num_queries,
    )
    assert page(response).count('class="border-start border-3 ps-3 mb-3"') == size["sections"] * size["voters"] + 1


def test_the_home_page(lang, size, viewer, django_assert_max_num_queries):
    client, user, index = viewer
    items = polls(size, for_visitors=True)
    make_referendum(options=size["referendum_options"])
    for voter in voters(size):
        voting.cast_poll_ballot(voter, items[0], single_choices(items[0]))
    if user:
        voting.cast_poll_ballot(user, items[0], single_choices(items[0]))
    response = get_within_bound(client, f"/{lang}/", "home", index, django_assert_max_num_queries)
    assert page(response).count("<article") == min(6, size["items"] + 1)


def test_the_vote(lang, size, client, django_assert_max_num_queries):
    """A first ballot, with the item's questions not yet cached: the worst case of a vote."""
    poll = make_poll(questions=size["questions"], options=size["options"], for_visitors=True)
    polls(size)
    for voter in voters(size):
        voting.cast_poll_ballot(voter, poll, single_choices(poll))
    user = VerifiedUserFactory()
    client.force_login(user)
    form = {f"question-{question}": options for question, options in single_choices(poll).items()}
    with django_assert_max_num_queries(BOUNDS["vote"][1] + HEADROOM):
        response = client.post(url(lang, "poll_detail", slug=poll.slug), form)
    assert response.status_code == 302
    ballot = PollBallot.objects.get(item=poll, voter=user)
    assert PollAnswer.objects.filter(ballot=ballot).count() == size["questions"]
