"""The poll page in both languages: every state a person can be in, voting, bad ballots, results."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Persona, Segment
from participation.models import PollAnswer, PollBallot, Question, State
from participation.rules import Barrier
from participation.services import counting, voting
from tests.builders import actions
from tests.builders.items import add_question, make_poll, single_choices
from tests.builders.users import MINISTRY_STAFF, make_staff
from tests.factories import UserFactory, VerifiedUserFactory

from .conftest import assert_not_shown, assert_page_language, assert_shown, page, t, tn, url

pytestmark = pytest.mark.django_db

BALLOT_FORM = '<form method="post" class="ballot"'


@pytest.fixture
def poll(entity):
    """Question 1: single choice with "no opinion"; question 2: choose 2 or 3 of 4."""
    poll = make_poll(questions=0, state=State.DRAFT, entity=entity)
    add_question(poll, 3, allow_abstain=True)
    add_question(poll, 4, kind=Question.Kind.MULTIPLE, min_choices=2, max_choices=3)
    actions.schedule(poll)
    return poll


def detail(client, lang, poll, data=None):
    address = url(lang, "poll_detail", slug=poll.slug)
    return client.post(address, data) if data is not None else client.get(address)


def options(question, *indexes):
    ids = list(question.options.values_list("pk", flat=True))
    return [str(ids[i]) for i in indexes]


def form_data(poll, first=(0,), second=(0, 1)):
    q1, q2 = poll.questions.all()
    return {f"question-{q1.pk}": options(q1, *first), f"question-{q2.pk}": options(q2, *second)}


def qtext(question, lang):
    return getattr(question, f"text_{lang}")


def assert_barrier(response, lang, barrier):
    assert response.status_code == 200
    assert_page_language(response, lang)
    assert_shown(response, t(lang, barrier.message))
    assert BALLOT_FORM not in page(response)


# ---------------------------------------------------------------------------
# What each person sees
# ---------------------------------------------------------------------------


def test_someone_signed_out_sees_the_poll_and_a_sign_in_link_back_to_it(client, lang, poll):
    response = detail(client, lang, poll)
    assert_barrier(response, lang, Barrier.NOT_LOGGED_IN)
    assert_shown(response, poll.title_en if lang == "en" else poll.title_ar)
    assert f'href="/{lang}/accounts/login/?next=/{lang}/polls/{poll.slug}/"' in page(response)


def test_an_eligible_person_sees_one_form_with_every_question_and_option(client, lang, poll, citizen):
    client.force_login(citizen)
    response = detail(client, lang, poll)
    assert response.status_code == 200
    assert_page_language(response, lang)
    body = page(response)
    assert body.count(BALLOT_FORM) == 1
    for question in poll.questions.all():
        assert qtext(question, lang) in body
        for option in question.options.all():
            assert f'value="{option.pk}"' in body
            assert getattr(option, f"text_{lang}") in body
    assert body.count('value="abstain"') == 1
    assert 'type="checkbox"' in body  # the multiple-choice question
    assert_not_shown(response, t(lang, Barrier.NOT_LOGGED_IN.message))


def test_a_visitor_is_told_the_poll_is_not_for_them_and_who_it_is_for(client, lang, poll):
    client.force_login(UserFactory(segment=Segment.VISITOR))
    response = detail(client, lang, poll)
    assert_barrier(response, lang, Barrier.WRONG_SEGMENT)
    assert_shown(response, t(lang, Segment.CITIZEN.label))
    assert_shown(response, t(lang, Segment.RESIDENT.label))


def test_a_poll_for_parents_tells_others_why_not(client, lang):
    poll = make_poll(only_parents=True)
    client.force_login(UserFactory(personas=[Persona.EMPLOYEE]))
    response = detail(client, lang, poll)
    assert_barrier(response, lang, Barrier.WRONG_PERSONA)
    assert_shown(response, t(lang, Persona.PARENT.label))


def test_an_unverified_person_is_told_to_get_verified(client, lang, unverified_citizen):
    poll = make_poll(requires_verified_identity=True)
    client.force_login(unverified_citizen)
    assert_barrier(detail(client, lang, poll), lang, Barrier.NOT_VERIFIED)


def valid_choices(poll):
    q1, q2 = poll.questions.all()
    return {q1.pk: options(q1, 0), q2.pk: options(q2, 0, 1)}


def test_someone_who_voted_is_thanked_instead_of_shown_the_form(client, lang, poll, citizen):
    voting.cast_poll_ballot(citizen, poll, valid_choices(poll))
    client.force_login(citizen)
    assert_barrier(detail(client, lang, poll), lang, Barrier.ALREADY_TOOK_PART)


def test_a_poll_not_yet_open(client, lang, citizen):
    poll = make_poll(opens_at=timezone.now() + timedelta(days=2))
    client.force_login(citizen)
    response = detail(client, lang, poll)
    assert_barrier(response, lang, Barrier.NOT_YET_OPEN)
    assert f'<time datetime="{timezone.localtime(poll.opens_at).strftime("%Y-%m-%dT%H:%M:%S%z")}">' in page(response)


def test_a_poll_past_its_closing_time_is_closed_without_any_job(client, lang, poll, citizen):
    client.force_login(citizen)
    with time_machine.travel(poll.closes_at + timedelta(seconds=1), tick=False):
        response = detail(client, lang, poll)
    assert_barrier(response, lang, Barrier.CLOSED)


@pytest.mark.parametrize("who", ["anonymous", "citizen", "staff of another entity"])
def test_a_draft_is_404_to_the_public(client, lang, other_entity, who):
    draft = make_poll(state=State.DRAFT)
    if who == "citizen":
        client.force_login(VerifiedUserFactory())
    elif who == "staff of another entity":
        client.force_login(make_staff(MINISTRY_STAFF, other_entity))
    assert detail(client, lang, draft).status_code == 404
    assert client.get(url(lang, "poll_results", slug=draft.slug)).status_code == 404
    assert client.get(url(lang, "poll_thanks", slug=draft.slug)).status_code == 404


def test_staff_of_the_entity_preview_their_draft(client, lang, entity):
    draft = make_poll(state=State.DRAFT, entity=entity)
    # Whoever reads the draft in the admin (participation/permissions.py, view_item): here its ministry's staff.
    client.force_login(make_staff(MINISTRY_STAFF, entity))
    response = detail(client, lang, draft)
    assert response.status_code == 200
    assert_shown(response, t(lang, "Preview: this draft is not public yet."))
    assert_shown(response, t(lang, Barrier.DRAFT.message))
    assert BALLOT_FORM not in page(response)


def test_an_unknown_poll_is_404(client, lang):
    assert client.get(url(lang, "poll_detail", slug="no-such-poll")).status_code == 404


# ---------------------------------------------------------------------------
# Voting
# ---------------------------------------------------------------------------


def test_voting_is_one_step_then_a_confirmation_page(client, lang, poll, citizen):
    client.force_login(citizen)
    response = detail(client, lang, poll, form_data(poll, (2,), (1, 3)))
    assert response.status_code == 302
    assert response["Location"] == url(lang, "poll_thanks", slug=poll.slug)
    ballot = PollBallot.objects.get(voter=citizen, item=poll)
    q1, q2 = poll.questions.all()
    assert sorted(ballot.answers.values_list("option_id", flat=True)) == sorted(
        int(i) for i in options(q1, 2) + options(q2, 1, 3)
    )
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert_page_language(thanks, lang)
    assert_shown(thanks, t(lang, "Your vote has been counted"))
    assert_shown(thanks, getattr(poll, f"title_{lang}"))


def test_the_confirmation_page_needs_a_ballot(client, lang, poll, citizen):
    client.force_login(citizen)
    response = client.get(url(lang, "poll_thanks", slug=poll.slug))
    assert response.status_code == 302
    assert response["Location"] == url(lang, "poll_detail", slug=poll.slug)


def test_voting_again_gets_a_friendly_409_and_nothing_changes(client, lang, poll, citizen):
    client.force_login(citizen)
    detail(client, lang, poll, form_data(poll, (0,), (0, 1)))
    response = detail(client, lang, poll, form_data(poll, (1,), (2, 3)))
    assert response.status_code == 409
    assert_page_language(response, lang)
    assert_shown(response, t(lang, "Your vote was not counted"))
    assert_shown(response, t(lang, Barrier.ALREADY_TOOK_PART.message))
    assert PollBallot.objects.count() == 1
    q1 = poll.questions.first()
    assert PollAnswer.objects.get(question=q1).option_id == int(options(q1, 0)[0])


def at_least(lang, count, question):
    return tn(
        lang,
        "Choose at least %(count)d option for “%(question)s”.",
        "Choose at least %(count)d options for “%(question)s”.",
        count,
        question=qtext(question, lang),
    )


def at_most(lang, count, question):
    return tn(
        lang,
        "Choose at most %(count)d option for “%(question)s”.",
        "Choose at most %(count)d options for “%(question)s”.",
        count,
        question=qtext(question, lang),
    )


def bad_form(poll, case, lang):
    """(form data, expected message in `lang`, or None if only the heading is checked)."""
    q1, q2 = poll.questions.all()
    good = form_data(poll)
    stranger = make_poll().questions.get()
    cases = {
        "tampered option id": (
            {**good, f"question-{q1.pk}": ["987654"]},
            t(lang, "Your ballot contains an option that is not part of “%(question)s”.", question=qtext(q1, lang)),
        ),
        "option of another question": (
            {**good, f"question-{q1.pk}": options(q2, 0)},
            t(lang, "Your ballot contains an option that is not part of “%(question)s”.", question=qtext(q1, lang)),
        ),
        "option of another poll": (
            {**good, f"question-{q1.pk}": [str(stranger.options.first().pk)]},
            t(lang, "Your ballot contains an option that is not part of “%(question)s”.", question=qtext(q1, lang)),
        ),
        "question of another poll": (
            {**good, f"question-{stranger.pk}": [str(stranger.options.first().pk)]},
            t(lang, "Your ballot contains a question that is not part of this poll."),
        ),
        "too many": (
            {**good, f"question-{q2.pk}": options(q2, 0, 1, 2, 3)},
            at_most(lang, 3, q2),
        ),
        "too few": (
            {**good, f"question-{q2.pk}": options(q2, 0)},
            at_least(lang, 2, q2),
        ),
        "two answers to a single-choice question": (
            {**good, f"question-{q1.pk}": options(q1, 0, 1)},
            at_most(lang, 1, q1),
        ),
        "no opinion where not offered": (
            {**good, f"question-{q2.pk}": ["abstain"]},
            t(lang, "“No opinion” is not offered for “%(question)s”.", question=qtext(q2, lang)),
        ),
        "empty ballot": (
            {},
            at_least(lang, 1, q1),
        ),
        "garbage": ({f"question-{q1.pk}": ["<script>"], "question-x": ["1"]}, None),
    }
    return cases[case]


@pytest.mark.parametrize(
    "case",
    [
        "tampered option id",
        "option of another question",
        "option of another poll",
        "question of another poll",
        "too many",
        "too few",
        "two answers to a single-choice question",
        "no opinion where not offered",
        "empty ballot",
        "garbage",
    ],
)
def test_a_bad_ballot_is_a_400_with_a_clear_message_and_nothing_is_written(client, lang, poll, citizen, case):
    data, message = bad_form(poll, case, lang)
    client.force_login(citizen)
    response = detail(client, lang, poll, data)
    assert response.status_code == 400
    assert_page_language(response, lang)
    assert_shown(response, t(lang, "Your vote was not counted"))
    if message:
        assert_shown(response, message)
    assert PollBallot.objects.count() == 0
    assert PollAnswer.objects.count() == 0
    assert page(response).count(BALLOT_FORM) == 1  # the person can correct the ballot


def test_a_refused_ballot_keeps_what_was_chosen(client, lang, poll, citizen):
    client.force_login(citizen)
    q1, q2 = poll.questions.all()
    data = {**form_data(poll, (1,)), f"question-{q2.pk}": options(q2, 0, 1, 2, 3)}
    body = page(detail(client, lang, poll, data))
    assert f'id="option-{options(q1, 1)[0]}" value="{options(q1, 1)[0]}" checked' in body
    assert f'id="option-{options(q1, 0)[0]}" value="{options(q1, 0)[0]}">' in body


def test_a_ballot_after_closing_time_is_refused_without_any_job(client, lang, poll, citizen):
    client.force_login(citizen)
    with time_machine.travel(poll.closes_at, tick=False):
        response = detail(client, lang, poll, form_data(poll))
    assert response.status_code == 403
    assert_shown(response, t(lang, Barrier.CLOSED.message))
    assert PollBallot.objects.count() == 0


def test_a_ballot_on_a_draft_is_404_and_nothing_is_written(client, lang, citizen):
    draft = make_poll(state=State.DRAFT)
    client.force_login(citizen)
    response = detail(client, lang, draft, single_choices_form(draft))
    assert response.status_code == 404
    assert PollBallot.objects.count() == 0


def single_choices_form(poll):
    return {f"question-{q}": v for q, v in single_choices(poll).items()}


@pytest.mark.parametrize(
    ("who", "barrier"),
    [("anonymous", Barrier.NOT_LOGGED_IN), ("visitor", Barrier.WRONG_SEGMENT), ("unverified", Barrier.NOT_VERIFIED)],
)
def test_a_ballot_from_someone_who_may_not_vote_is_a_403(client, lang, who, barrier):
    poll = make_poll(requires_verified_identity=True)
    if who == "visitor":
        client.force_login(VerifiedUserFactory(segment=Segment.VISITOR))
    elif who == "unverified":
        client.force_login(UserFactory())
    response = detail(client, lang, poll, single_choices_form(poll))
    assert response.status_code == 403
    assert_page_language(response, lang)
    assert_shown(response, t(lang, barrier.message))
    assert PollBallot.objects.count() == 0


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def vote(poll, n):
    for index in range(n):
        voting.cast_poll_ballot(VerifiedUserFactory(), poll, single_choices(poll, index % 2))


def test_live_results_are_shown_while_open_when_the_poll_says_so(client, lang):
    poll = make_poll(options=2, live_results=True)
    vote(poll, 3)
    response = detail(client, lang, poll)
    assert_shown(response, t(lang, "Results so far"))
    assert 'id="results-title"' in page(response)
    assert "66.7%" in page(response)


def test_other_polls_show_no_results_until_closed(client, lang):
    poll = make_poll(options=2)
    vote(poll, 3)
    response = detail(client, lang, poll)
    assert 'id="results-title"' not in page(response)
    results = client.get(url(lang, "poll_results", slug=poll.slug))
    assert results.status_code == 200
    assert_shown(results, t(lang, "Results are shown after the item closes."))
    assert "66.7%" not in page(results)
    with time_machine.travel(poll.closes_at + timedelta(minutes=1), tick=False):
        counting.tally_and_publish(poll.pk)  # the worker, at the close
        closed = client.get(url(lang, "poll_results", slug=poll.slug))
    assert closed.status_code == 200
    assert_page_language(closed, lang)
    assert "66.7%" in page(closed)
    assert "33.3%" in page(closed)


def test_my_participation_lists_the_poll(client, lang, poll, citizen):
    voting.cast_poll_ballot(citizen, poll, valid_choices(poll))
    client.force_login(citizen)
    response = client.get(url(lang, "accounts:profile"))
    assert response.status_code == 200
    assert_page_language(response, lang)
    assert_shown(response, t(lang, "Voted in the poll"))
    assert f'href="{url(lang, "poll_detail", slug=poll.slug)}"' in page(response)


def test_titles_questions_and_options_are_escaped(client, lang, citizen):
    poll = make_poll(
        questions=0,
        state=State.DRAFT,
        title_ar="<i>عنوان</i>",
        title_en="<i>Title</i>",
        body_en="Line one <script>alert('body')</script>",
        body_ar="<script>alert('body')</script>",
    )
    question = add_question(poll, 2, text_ar="<b>سؤال</b>", text_en="<b>Question</b>")
    question.options.filter(position=1).update(text_ar="<u>نعم</u>", text_en="<u>Yes</u>")
    actions.schedule(poll)
    client.force_login(citizen)
    body = page(detail(client, lang, poll))
    for raw in ("<i>", "<b>", "<u>", "<script>alert"):
        assert raw not in body
    assert "&lt;b&gt;" in body
    assert "&lt;u&gt;" in body
    assert "&lt;script&gt;alert(&#x27;body&#x27;)&lt;/script&gt;" in body
