"""voting.cast_poll_ballot and voting.cast_referendum_ballot: whole ballots or nothing, never twice."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.models import Persona, Segment
from participation import errors
from participation.models import PollAnswer, PollBallot, Question, ReferendumBallot, ReferendumParticipation, State
from participation.rules import Barrier
from participation.services import lifecycle, voting
from tests.builders import actions
from tests.builders.items import add_question, make_poll, make_referendum, sealed_ballots, single_choices
from tests.factories import PollFactory, UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

TICK = timedelta(microseconds=1)


def nothing_written():
    return (
        PollBallot.objects.count() == 0
        and PollAnswer.objects.count() == 0
        and ReferendumParticipation.objects.count() == 0
        and ReferendumBallot.objects.count() == 0
    )


@pytest.fixture
def poll():
    """Two questions: single choice with "no opinion"; multiple choice, 2 to 3 of 5."""
    poll = make_poll(questions=0, state=State.DRAFT)
    add_question(poll, 3, allow_abstain=True)
    add_question(poll, 5, kind=Question.Kind.MULTIPLE, min_choices=2, max_choices=3)
    actions.schedule(poll)
    return poll


def ids(question, *indexes):
    options = list(question.options.all())
    return [str(options[i].pk) for i in indexes]


def ballot(poll, first=(0,), second=(0, 1)):
    q1, q2 = poll.questions.all()
    return {q1.pk: first if first == ["abstain"] else ids(q1, *first), q2.pk: ids(q2, *second)}


# ---------------------------------------------------------------------------
# Polls: what is written
# ---------------------------------------------------------------------------


def test_a_poll_ballot_is_written_whole_with_the_voters_segment_and_personas(poll):
    parent = UserFactory(segment=Segment.RESIDENT, personas=[Persona.PARENT, Persona.EMPLOYEE])
    q1, q2 = poll.questions.all()
    written = voting.cast_poll_ballot(parent, poll, ballot(poll, (2,), (0, 3, 4)))
    assert written.voter == parent
    assert (written.segment, written.is_parent, written.is_employee, written.is_student) == (
        "resident",
        True,
        True,
        False,
    )
    answers = {(a.question_id, a.option_id) for a in written.answers.all()}
    assert answers == {(q1.pk, int(ids(q1, 2)[0]))} | {(q2.pk, int(i)) for i in ids(q2, 0, 3, 4)}


def test_no_opinion_is_an_answer_without_an_option(poll, citizen):
    q1, _q2 = poll.questions.all()
    voting.cast_poll_ballot(citizen, poll, {**ballot(poll), q1.pk: ["abstain"]})
    assert PollAnswer.objects.get(question=q1).option is None


def test_choices_may_be_keyed_by_question_id_as_text(poll, citizen):
    q1, q2 = poll.questions.all()
    voting.cast_poll_ballot(citizen, poll, {str(q1.pk): ids(q1, 0), str(q2.pk): ids(q2, 1, 2)})
    assert PollAnswer.objects.count() == 3


# ---------------------------------------------------------------------------
# Polls: bad input is refused and nothing is written
# ---------------------------------------------------------------------------


def bad_ballots(poll, other_poll):
    q1, q2 = poll.questions.all()
    stranger = other_poll.questions.get()
    good = ballot(poll)
    return {
        "unknown option id": {**good, q1.pk: ["999999"]},
        "non-numeric option id": {**good, q1.pk: ["1 OR 1=1"]},
        "option of the other question": {**good, q1.pk: ids(q2, 0)},
        "option of another poll": {**good, q1.pk: [str(stranger.options.first().pk)]},
        "question of another poll": {**good, stranger.pk: [str(stranger.options.first().pk)]},
        "two options in a single-choice question": {**good, q1.pk: ids(q1, 0, 1)},
        "too many": {**good, q2.pk: ids(q2, 0, 1, 2, 3)},
        "too few": {**good, q2.pk: ids(q2, 0)},
        "the same option twice": {**good, q2.pk: ids(q2, 0, 0)},
        "no opinion and an option": {**good, q1.pk: ["abstain", *ids(q1, 0)]},
        "no opinion where not offered": {**good, q2.pk: ["abstain"]},
        "a question left empty": {q2.pk: ids(q2, 0, 1)},
        "empty ballot": {},
        "empty values": {q1.pk: [""], q2.pk: ["", ""]},
    }


BAD = [
    "unknown option id",
    "non-numeric option id",
    "option of the other question",
    "option of another poll",
    "question of another poll",
    "two options in a single-choice question",
    "too many",
    "too few",
    "the same option twice",
    "no opinion and an option",
    "no opinion where not offered",
    "a question left empty",
    "empty ballot",
    "empty values",
]


@pytest.mark.parametrize("case", BAD)
def test_a_bad_poll_ballot_is_refused_and_nothing_is_written(poll, citizen, case):
    choices = bad_ballots(poll, make_poll(questions=1))[case]
    with pytest.raises(errors.InvalidBallot) as error:
        voting.cast_poll_ballot(citizen, poll, choices)
    assert error.value.status == 400
    assert str(error.value.message)
    assert nothing_written()


def test_a_poll_without_questions_takes_no_ballot(citizen):
    poll = PollFactory(state="scheduled")
    with pytest.raises(errors.InvalidBallot):
        voting.cast_poll_ballot(citizen, poll, {})
    assert nothing_written()


def test_a_poll_ballot_on_a_referendum_is_refused(citizen):
    referendum = make_referendum()
    with pytest.raises(errors.InvalidBallot):
        voting.cast_poll_ballot(citizen, referendum, single_choices(referendum))
    assert nothing_written()


# ---------------------------------------------------------------------------
# Polls: once per person, only while open, only for its audience
# ---------------------------------------------------------------------------


def test_a_second_poll_ballot_is_refused_and_the_first_kept(poll, citizen):
    first = voting.cast_poll_ballot(citizen, poll, ballot(poll, (0,), (0, 1)))
    with pytest.raises(errors.AlreadyVoted) as error:
        voting.cast_poll_ballot(citizen, poll, ballot(poll, (1,), (2, 3)))
    assert error.value.status == 409
    assert error.value.message == Barrier.ALREADY_TOOK_PART.message
    assert list(PollBallot.objects.all()) == [first]
    assert PollAnswer.objects.count() == 3


def test_other_people_still_vote_after_someone_voted(poll, citizen):
    voting.cast_poll_ballot(citizen, poll, ballot(poll))
    voting.cast_poll_ballot(UserFactory(), poll, ballot(poll))
    assert PollBallot.objects.count() == 2


def test_a_ballot_after_closes_at_is_refused_even_if_no_job_closed_the_poll(poll, citizen):
    with time_machine.travel(poll.closes_at, tick=False):
        with pytest.raises(errors.Refused) as error:
            voting.cast_poll_ballot(citizen, poll, ballot(poll))
        assert error.value.barrier == Barrier.CLOSED
        assert error.value.status == 403
    poll.refresh_from_db()
    assert poll.state == "scheduled"  # nothing ran; the clock alone refused the ballot
    assert nothing_written()


def test_a_ballot_just_before_closes_at_counts(poll, citizen):
    with time_machine.travel(poll.closes_at - TICK, tick=False):
        voting.cast_poll_ballot(citizen, poll, ballot(poll))
    assert PollBallot.objects.count() == 1


def test_a_ballot_before_opens_at_is_refused(citizen):
    poll = make_poll(opens_at=timezone.now() + timedelta(days=3))
    with pytest.raises(errors.Refused) as error:
        voting.cast_poll_ballot(citizen, poll, single_choices(poll))
    assert error.value.barrier == Barrier.NOT_YET_OPEN
    assert nothing_written()


def test_a_ballot_on_a_draft_is_refused(citizen):
    draft = make_poll(state=State.DRAFT)
    with pytest.raises(errors.Refused) as error:
        voting.cast_poll_ballot(citizen, draft, single_choices(draft))
    assert error.value.barrier == Barrier.DRAFT
    assert nothing_written()


def test_a_ballot_with_a_stale_copy_of_a_poll_closed_meanwhile_is_refused(poll, citizen):
    stale = type(poll).objects.get(pk=poll.pk)
    assert lifecycle.close_item(poll.pk)
    with pytest.raises(errors.Refused) as error:
        voting.cast_poll_ballot(citizen, stale, ballot(stale))
    assert error.value.barrier == Barrier.CLOSED
    assert nothing_written()


@pytest.mark.parametrize(
    ("person", "audience", "barrier"),
    [
        ("anonymous", {}, Barrier.NOT_LOGGED_IN),
        ("visitor", {}, Barrier.WRONG_SEGMENT),
        ("citizen", {"only_students": True, "for_visitors": True}, Barrier.WRONG_PERSONA),
        ("citizen", {"requires_verified_identity": True}, Barrier.NOT_VERIFIED),
    ],
)
def test_people_outside_the_audience_are_refused(person, audience, barrier):
    user = {
        "anonymous": AnonymousUser,
        "visitor": lambda: UserFactory(segment=Segment.VISITOR),
        "citizen": UserFactory,
    }[person]()
    poll = make_poll(**audience)
    with pytest.raises(errors.Refused) as error:
        voting.cast_poll_ballot(user, poll, single_choices(poll))
    assert error.value.barrier == barrier
    assert nothing_written()


# ---------------------------------------------------------------------------
# Referendums
# ---------------------------------------------------------------------------


@pytest.fixture
def referendum():
    return make_referendum()


def yes(referendum):
    return referendum.questions.get().options.get(position=1)


def test_a_referendum_ballot_writes_who_apart_from_what_and_returns_the_receipt(referendum, citizen):
    moment = referendum.opens_at + timedelta(hours=30)
    with time_machine.travel(moment, tick=False):
        receipt = voting.cast_referendum_ballot(citizen, referendum, yes(referendum).pk)
    participation = ReferendumParticipation.objects.get()
    assert (participation.item, participation.voter, participation.segment) == (referendum, citizen, "citizen")
    assert participation.voted_on == timezone.localtime(moment).date()
    assert not ReferendumBallot.objects.exists()  # sealed until the tally
    (written,) = sealed_ballots(referendum)
    assert (written.option_id, written.receipt, written.segment) == (yes(referendum).pk, receipt, "citizen")


def test_a_blank_vote_has_no_option(referendum, citizen):
    receipt = voting.cast_referendum_ballot(citizen, referendum, "abstain")
    assert [(b.receipt, b.option_id) for b in sealed_ballots(referendum)] == [(receipt, None)]


def test_a_blank_vote_is_refused_where_not_offered(citizen):
    referendum = make_referendum(allow_abstain=False)
    with pytest.raises(errors.InvalidBallot):
        voting.cast_referendum_ballot(citizen, referendum, "abstain")
    assert nothing_written()


@pytest.mark.parametrize(
    "choice",
    ["", None, "999999", "yes", "-1", "1.0", "9" * 30, "other referendum", "poll option"],
)
def test_a_bad_referendum_choice_is_refused_and_nothing_is_written(referendum, citizen, choice):
    if choice == "other referendum":
        choice = yes(make_referendum()).pk
    elif choice == "poll option":
        choice = make_poll().questions.get().options.first().pk
    with pytest.raises(errors.InvalidBallot) as error:
        voting.cast_referendum_ballot(citizen, referendum, choice)
    assert error.value.status == 400
    assert nothing_written()


def test_a_second_referendum_ballot_is_refused_and_nothing_more_is_written(referendum, citizen):
    voting.cast_referendum_ballot(citizen, referendum, yes(referendum).pk)
    with pytest.raises(errors.AlreadyVoted):
        voting.cast_referendum_ballot(citizen, referendum, "abstain")
    assert ReferendumParticipation.objects.count() == 1
    assert [b.option_id for b in sealed_ballots(referendum)] == [yes(referendum).pk]


def test_the_check_step_refuses_someone_who_already_voted(referendum, citizen):
    """The "check your answer" step asks the service, not the page, whether this person has voted."""
    voting.cast_referendum_ballot(citizen, referendum, yes(referendum).pk)
    with pytest.raises(errors.AlreadyVoted):
        voting.check_referendum_choice(citizen, referendum, "abstain")


def test_an_unverified_citizen_cannot_vote_in_a_referendum(referendum, unverified_citizen):
    with pytest.raises(errors.Refused) as error:
        voting.cast_referendum_ballot(unverified_citizen, referendum, yes(referendum).pk)
    assert error.value.barrier == Barrier.NOT_VERIFIED
    assert nothing_written()


def test_a_referendum_ballot_after_closes_at_is_refused_without_any_job(referendum, citizen):
    with (
        time_machine.travel(referendum.closes_at + timedelta(seconds=1), tick=False),
        pytest.raises(errors.Refused) as error,
    ):
        voting.cast_referendum_ballot(citizen, referendum, yes(referendum).pk)
    assert error.value.barrier == Barrier.CLOSED
    assert nothing_written()


def test_a_referendum_ballot_on_a_poll_is_refused(citizen):
    poll = make_poll()
    with pytest.raises(errors.InvalidBallot):
        voting.cast_referendum_ballot(citizen, poll, poll.questions.get().options.first().pk)
    assert nothing_written()


def test_receipts_differ_between_voters(referendum):
    receipts = {voting.cast_referendum_ballot(VerifiedUserFactory(), referendum, "abstain") for _ in range(20)}
    assert len(receipts) == 20
