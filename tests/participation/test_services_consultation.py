"""Consultations through the services: comments, agree/disagree, moderation and the outcome."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from accounts.models import Segment
from participation import errors
from participation.models import AuditEntry, Comment, SectionReaction, State
from participation.rules import Barrier
from participation.services import consultation as consultation_service
from participation.services import lifecycle, moderation
from tests.builders.items import make_consultation, make_poll
from tests.builders.users import MODERATORS, make_staff
from tests.factories import EntityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def consultation():
    return make_consultation(sections=3)


def section(consultation, number):
    return consultation.sections.get(number=number)


# ---------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------


def test_a_comment_on_the_whole_draft_waits_for_moderation(consultation, citizen):
    comment = consultation_service.add_comment(citizen, consultation, "  The timetable is too short.  ")
    assert (comment.item, comment.section, comment.author) == (consultation, None, citizen)
    assert comment.body == "The timetable is too short."
    assert comment.status == Comment.Status.PENDING


def test_a_comment_on_a_section_appears_at_once_when_moderation_comes_after(citizen):
    consultation = make_consultation(moderate_before_publishing=False)
    comment = consultation_service.add_comment(
        citizen, consultation, "Section 2 should mention cyclists.", section(consultation, 2)
    )
    assert comment.section.number == 2
    assert comment.status == Comment.Status.PUBLISHED


def test_a_section_of_another_consultation_is_refused(consultation, citizen):
    elsewhere = section(make_consultation(), 1)
    with pytest.raises(errors.InvalidComment):
        consultation_service.add_comment(citizen, consultation, "Misplaced", elsewhere)
    assert Comment.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   \n ",
        "x" * 2001,
        "<script>alert(1)</script>",
        "Read <b>this</b>",
        "< a href='https://example.com'>link</a>",
        "<!-- hidden -->",
        "</p>",
    ],
    ids=["empty", "blank", "too-long", "script", "bold", "spaced-tag", "html-comment", "closing-tag"],
)
def test_bad_comments_are_refused_with_a_message_and_nothing_is_written(consultation, citizen, body):
    with pytest.raises(errors.InvalidComment) as error:
        consultation_service.add_comment(citizen, consultation, body)
    assert error.value.status == 400
    assert str(error.value.message)
    assert Comment.objects.count() == 0


def test_a_comment_of_exactly_2000_characters_and_plain_comparisons_are_accepted(consultation, citizen):
    consultation_service.add_comment(citizen, consultation, "y" * 2000)
    consultation_service.add_comment(citizen, consultation, "Fares rise 5% > inflation; 3 < 4 & that's fine")
    assert Comment.objects.count() == 2


def test_the_length_limit_message_gives_both_numbers(consultation, citizen):
    with pytest.raises(errors.InvalidComment) as error:
        consultation_service.add_comment(citizen, consultation, "z" * 2345)
    assert "2000" in str(error.value.message)
    assert "2345" in str(error.value.message)


@pytest.mark.parametrize(
    ("person", "barrier"),
    [("anonymous", Barrier.NOT_LOGGED_IN), ("visitor", Barrier.WRONG_SEGMENT), ("no segment", Barrier.NO_SEGMENT)],
)
def test_people_outside_the_audience_cannot_comment(consultation, person, barrier):
    user = {
        "anonymous": AnonymousUser,
        "visitor": lambda: UserFactory(segment=Segment.VISITOR),
        "no segment": lambda: UserFactory(segment="", identity_number=""),
    }[person]()
    with pytest.raises(errors.Refused) as error:
        consultation_service.add_comment(user, consultation, "Let me in")
    assert error.value.barrier == barrier
    assert Comment.objects.count() == 0


def test_comments_are_taken_only_while_open(citizen):
    draft = make_consultation(state=State.DRAFT)
    upcoming = make_consultation(opens_at=draft.opens_at + timedelta(days=5))
    finished = make_consultation()
    for item, barrier in [(draft, Barrier.DRAFT), (upcoming, Barrier.NOT_YET_OPEN)]:
        with pytest.raises(errors.Refused) as error:
            consultation_service.add_comment(citizen, item, "Too early")
        assert error.value.barrier == barrier
    with time_machine.travel(finished.closes_at, tick=False), pytest.raises(errors.Refused) as error:
        consultation_service.add_comment(citizen, finished, "Too late")
    assert error.value.barrier == Barrier.CLOSED
    assert Comment.objects.count() == 0


def test_comments_are_taken_on_consultations_only(citizen):
    with pytest.raises(errors.InvalidComment):
        consultation_service.add_comment(citizen, make_poll(), "Not here")
    assert Comment.objects.count() == 0


def test_several_comments_by_one_person_are_fine(consultation, citizen):
    consultation_service.add_comment(citizen, consultation, "First thought")
    consultation_service.add_comment(citizen, consultation, "Second thought", section(consultation, 1))
    assert Comment.objects.filter(author=citizen).count() == 2


# ---------------------------------------------------------------------------
# Agree / disagree
# ---------------------------------------------------------------------------


def test_agreeing_then_disagreeing_keeps_one_answer_per_person_and_section(consultation, citizen):
    first = section(consultation, 1)
    consultation_service.react_to_section(citizen, first, True)
    consultation_service.react_to_section(citizen, first, False)
    consultation_service.react_to_section(citizen, section(consultation, 2), True)
    assert SectionReaction.objects.filter(user=citizen).count() == 2
    assert SectionReaction.objects.get(section=first).agrees is False


def test_reactions_are_refused_after_closing(consultation, citizen):
    with (
        time_machine.travel(consultation.closes_at + timedelta(minutes=1), tick=False),
        pytest.raises(errors.Refused),
    ):
        consultation_service.react_to_section(citizen, section(consultation, 1), True)
    assert SectionReaction.objects.count() == 0


def test_reactions_need_the_audience(consultation):
    with pytest.raises(errors.Refused):
        consultation_service.react_to_section(UserFactory(segment=Segment.VISITOR), section(consultation, 1), True)
    assert SectionReaction.objects.count() == 0


# ---------------------------------------------------------------------------
# Moderation
# ---------------------------------------------------------------------------


@pytest.fixture
def moderator(consultation):
    """A moderator of the consultation's ministry: moderating asks participation.moderate_comment."""
    return make_staff(MODERATORS, consultation.entity)


def test_approving_publishes_and_records_who_and_when(consultation, citizen, moderator):
    comment = consultation_service.add_comment(citizen, consultation, "Approve me")
    moderation.moderate_comment(moderator, comment, approve=True)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.moderated_by == moderator
    assert comment.moderated_at is not None
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.MODERATE).get()
    assert (entry.actor, entry.details["status"]) == (moderator, "published")


def test_a_moderator_of_another_ministry_is_refused_and_nothing_is_written(consultation, citizen):
    comment = consultation_service.add_comment(citizen, consultation, "Not yours")
    elsewhere = make_staff(MODERATORS, EntityFactory())
    with pytest.raises(errors.NotPermitted):
        moderation.moderate_comment(elsewhere, comment, approve=True)
    comment.refresh_from_db()
    assert comment.moderated_by is None
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.MODERATE).exists()


def test_hiding_needs_a_reason(consultation, citizen, moderator):
    comment = consultation_service.add_comment(citizen, consultation, "Hide me")
    with pytest.raises(errors.InvalidComment):
        moderation.moderate_comment(moderator, comment, approve=False, reason="  ")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING
    moderation.moderate_comment(moderator, comment, approve=False, reason="Personal data of a third person")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    assert comment.moderation_reason == "Personal data of a third person"


def test_a_published_comment_can_be_hidden_afterwards(citizen):
    consultation = make_consultation(moderate_before_publishing=False)
    comment = consultation_service.add_comment(citizen, consultation, "Shown at once")
    moderation.moderate_comment(make_staff(MODERATORS, consultation.entity), comment, approve=False, reason="Off topic")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN


# ---------------------------------------------------------------------------
# Outcome
# ---------------------------------------------------------------------------


def with_outcome(consultation, **overrides):
    fields = {
        "outcome_heard_ar": "سمعنا طلبات كثيرة",
        "outcome_heard_en": "We heard many requests",
        "outcome_changed_ar": "غيّرنا القسم الثاني",
        "outcome_changed_en": "We changed section 2",
        **overrides,
    }
    for name, value in fields.items():
        setattr(consultation, name, value)
    consultation.save()
    return consultation


def test_the_outcome_is_published_after_closing(consultation):
    with_outcome(consultation)
    moment = consultation.closes_at + timedelta(weeks=3)
    with time_machine.travel(moment, tick=False):
        lifecycle.publish_results(None, consultation)
    consultation.refresh_from_db()
    assert consultation.state == State.PUBLISHED
    assert consultation.outcome_published_at == moment
    assert not consultation.outcome_overdue(moment + timedelta(weeks=20))


def test_the_outcome_cannot_be_published_before_closing(consultation):
    with_outcome(consultation)
    with pytest.raises(errors.LifecycleError):
        lifecycle.publish_results(None, consultation)
    consultation.refresh_from_db()
    assert consultation.outcome_published_at is None


@pytest.mark.parametrize(
    "missing", ["outcome_heard_ar", "outcome_heard_en", "outcome_changed_ar", "outcome_changed_en"]
)
def test_the_outcome_needs_what_we_heard_and_changed_in_both_languages(consultation, missing):
    with_outcome(consultation, **{missing: " "})
    with (
        time_machine.travel(consultation.closes_at + timedelta(days=1), tick=False),
        pytest.raises(errors.LifecycleError),
    ):
        lifecycle.publish_results(None, consultation)
    consultation.refresh_from_db()
    assert consultation.outcome_published_at is None
    assert consultation.state == State.SCHEDULED
