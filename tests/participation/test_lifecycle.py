"""Draft, scheduled, open, closed, results published: scheduling checks, the clock, closing and publishing."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from participation import errors, tasks
from participation.models import Item, Question, Result, State
from participation.services import counting, lifecycle, voting
from tests.builders.items import add_question, make_consultation, make_poll, make_referendum, single_choices
from tests.factories import ConsultationFactory, PollFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

DOHA = ZoneInfo("Asia/Qatar")
OPENS = datetime(2026, 4, 1, 8, 0, tzinfo=DOHA)
CLOSES = datetime(2026, 4, 20, 20, 0, tzinfo=DOHA)
DURING = OPENS + timedelta(days=2)
AFTER = CLOSES + timedelta(minutes=5)


def state_of(item):
    return Item.objects.values_list("state", flat=True).get(pk=item.pk)


def schedule_refused(item, lang="en"):
    """The refusal's message, as a member of staff working in `lang` reads it."""
    with translation.override(lang), pytest.raises(errors.LifecycleError) as error:
        lifecycle.schedule_item(None, item)
    assert state_of(item) == State.DRAFT
    with translation.override(lang):
        return str(error.value.message)


def text(lang, msgid, **params):
    with translation.override(lang):
        return translation.gettext(msgid) % params if params else translation.gettext(msgid)


# ---------------------------------------------------------------------------
# Scheduling
# ---------------------------------------------------------------------------


def test_a_complete_draft_is_scheduled():
    poll = make_poll(state=State.DRAFT, opens_at=OPENS, closes_at=CLOSES)
    lifecycle.schedule_item(None, poll)
    assert state_of(poll) == State.SCHEDULED == poll.state


@pytest.mark.parametrize("field", ["title_ar", "title_en", "summary_ar", "summary_en", "body_ar", "body_en"])
def test_both_languages_are_required_before_scheduling(field):
    poll = make_poll(state=State.DRAFT, **{field: "   " if field.startswith("body") else ""})
    message = schedule_refused(poll)
    assert text("en", "Fill in the title, summary and body in both Arabic and English.") in message


def test_only_drafts_are_scheduled():
    poll = make_poll()
    with pytest.raises(errors.LifecycleError):
        lifecycle.schedule_item(None, poll)
    assert state_of(poll) == State.SCHEDULED


@pytest.mark.parametrize(("options", "ok"), [(1, False), (2, True), (20, True), (21, False)])
def test_a_poll_question_needs_2_to_20_options(options, ok):
    poll = make_poll(state=State.DRAFT, options=options)
    if ok:
        lifecycle.schedule_item(None, poll)
        assert state_of(poll) == State.SCHEDULED
    else:
        message = schedule_refused(poll)
        assert "20" in message
        assert str(options) in message


def test_a_poll_needs_a_question_and_selections_it_can_satisfy():
    empty = PollFactory()
    assert text("en", "Add at least one question.") in schedule_refused(empty)
    greedy = PollFactory()
    add_question(greedy, 3, kind=Question.Kind.MULTIPLE, min_choices=1, max_choices=5)
    assert "allows more selections than it has options" in schedule_refused(greedy)


@pytest.mark.parametrize(("options", "ok"), [(2, True), (5, True), (6, False), (1, False)])
def test_a_referendum_has_yes_no_or_up_to_5_options(options, ok):
    referendum = make_referendum(options=options, state=State.DRAFT)
    if ok:
        lifecycle.schedule_item(None, referendum)
        assert state_of(referendum) == State.SCHEDULED
    else:
        assert "5" in schedule_refused(referendum)


def test_a_referendum_asks_exactly_one_question():
    referendum = make_referendum(state=State.DRAFT)
    add_question(referendum, 2)
    assert text("en", "A referendum asks exactly one question.") in schedule_refused(referendum)


def test_a_consultation_needs_a_section():
    assert text("en", "Add at least one section to the draft.") in schedule_refused(ConsultationFactory())
    make_consultation(sections=1)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_problem_is_listed_at_once_in_the_readers_language(lang):
    poll = PollFactory(title_en="")
    add_question(poll, 1)
    message = schedule_refused(poll, lang)
    assert text(lang, "Fill in the title, summary and body in both Arabic and English.") in message
    with translation.override(lang):
        question = poll.questions.get().text
    assert question in message


# ---------------------------------------------------------------------------
# The clock, and the jobs that record it
# ---------------------------------------------------------------------------


def test_a_scheduled_item_opens_and_closes_by_the_clock_alone():
    poll = make_poll(opens_at=OPENS, closes_at=CLOSES)
    with time_machine.travel(OPENS - timedelta(seconds=1), tick=False):
        assert list(Item.objects.upcoming()) == [poll]
    with time_machine.travel(DURING, tick=False):
        assert list(Item.objects.open()) == [poll]
    with time_machine.travel(AFTER, tick=False):
        assert list(Item.objects.closed()) == [poll]
    assert state_of(poll) == State.SCHEDULED


def test_open_due_items_records_each_opening_once():
    poll = make_poll(opens_at=OPENS, closes_at=CLOSES)
    later = make_poll(opens_at=DURING + timedelta(days=1), closes_at=CLOSES)
    draft = make_poll(state=State.DRAFT, opens_at=OPENS, closes_at=CLOSES)
    assert lifecycle.open_due_items(DURING) == [poll.pk]
    assert lifecycle.open_due_items(DURING) == []
    assert (state_of(poll), state_of(later), state_of(draft)) == (State.OPEN, State.SCHEDULED, State.DRAFT)


def test_close_due_items_closes_each_item_once():
    poll = make_poll(opens_at=OPENS, closes_at=CLOSES)
    running = make_poll(opens_at=OPENS, closes_at=AFTER + timedelta(days=1))
    assert lifecycle.close_due_items(AFTER) == [poll.pk]
    assert lifecycle.close_due_items(AFTER) == []
    assert (state_of(poll), state_of(running)) == (State.CLOSED, State.SCHEDULED)


def test_close_item_closes_now_for_exactly_one_caller():
    poll = make_poll(opens_at=OPENS, closes_at=CLOSES)
    assert lifecycle.close_item(poll.pk, DURING) is True
    assert lifecycle.close_item(poll.pk, DURING) is False
    poll.refresh_from_db()
    assert (poll.state, poll.closes_at) == (State.CLOSED, DURING)


def test_close_now_refuses_items_not_yet_open_or_already_closed():
    upcoming = make_poll(opens_at=OPENS, closes_at=CLOSES)
    with time_machine.travel(OPENS - timedelta(hours=1), tick=False), pytest.raises(errors.LifecycleError):
        lifecycle.close_item_now(None, upcoming)
    assert state_of(upcoming) == State.SCHEDULED
    with time_machine.travel(DURING, tick=False):
        assert lifecycle.close_item_now(None, upcoming) is True
        with pytest.raises(errors.LifecycleError):
            lifecycle.close_item_now(None, Item.objects.get(pk=upcoming.pk))


def test_close_now_at_the_very_moment_an_item_opens_does_not_break_the_database():
    """closes_at = opens_at breaks item_closes_after_opening: a 500 in the admin instead of a message."""
    poll = make_poll(opens_at=OPENS, closes_at=CLOSES)
    # Open by the clock, but closing now would leave no time open: refused with a message, nothing written.
    with time_machine.travel(OPENS, tick=False), pytest.raises(errors.LifecycleError) as refusal:
        lifecycle.close_item_now(None, poll)
    assert state_of(poll) == State.SCHEDULED
    # The page says it is open at this instant: the refusal does not say "not opened yet".
    for lang in ("ar", "en"):
        with translation.override(lang):
            shown = str(refusal.value.message)
            assert shown == translation.gettext("This item has only just opened or has just been closed. Try again in a moment.")
            assert shown != translation.gettext("This item has not opened yet, so it cannot be closed.")


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def voted_poll(voters=3):
    poll = make_poll(questions=1, options=2, opens_at=OPENS, closes_at=CLOSES)
    with time_machine.travel(DURING, tick=False):
        for index in range(voters):
            voting.cast_poll_ballot(VerifiedUserFactory(), poll, single_choices(poll, index % 2))
    return poll


def test_results_cannot_be_published_before_closing():
    poll = voted_poll()
    with time_machine.travel(DURING, tick=False), pytest.raises(errors.LifecycleError):
        lifecycle.publish_results(None, poll)
    assert state_of(poll) == State.SCHEDULED
    assert not Result.objects.exists()


def test_publishing_counts_the_ballots_once_and_only_once():
    poll = voted_poll(voters=3)
    with time_machine.travel(AFTER, tick=False):
        counting.tally_and_publish(poll.pk)
        with pytest.raises(errors.LifecycleError):
            lifecycle.publish_results(None, Item.objects.get(pk=poll.pk))
    assert state_of(poll) == State.PUBLISHED
    result = Result.objects.get(item=poll)
    votes = [option["votes"] for option in result.counts["questions"][0]["options"]]
    assert (result.ballots, votes) == (3, [2, 1])


def test_referendum_results_wait_for_a_ministry_admin_when_asked():
    referendum = make_referendum(opens_at=OPENS, closes_at=CLOSES, results_need_approval=True)
    with time_machine.travel(AFTER, tick=False):
        counting.tally_and_publish(referendum.pk)
        assert state_of(referendum) == State.CLOSED
        lifecycle.publish_results(None, Item.objects.get(pk=referendum.pk))
    assert state_of(referendum) == State.PUBLISHED


def test_referendum_results_are_published_when_counted_otherwise():
    referendum = make_referendum(opens_at=OPENS, closes_at=CLOSES)
    with time_machine.travel(AFTER, tick=False):
        counting.tally_and_publish(referendum.pk)
    assert state_of(referendum) == State.PUBLISHED


def test_the_minute_job_closes_counts_and_publishes_a_poll(django_capture_on_commit_callbacks, mailoutbox):
    poll = voted_poll(voters=2)
    with time_machine.travel(AFTER, tick=False), django_capture_on_commit_callbacks(execute=True):
        outcome = tasks.open_and_close_due()
    assert outcome["closed"] == [poll.pk]
    assert state_of(poll) == State.PUBLISHED
    assert Result.objects.get(item=poll).ballots == 2
    assert len(mailoutbox) == 2  # the voters hear about the results


def test_publishing_never_counts_a_result_that_is_not_stored():
    """Publishing is a request's action (the admin's button): it must not count; the worker does."""
    poll = voted_poll(voters=2)
    with time_machine.travel(AFTER, tick=False), pytest.raises(errors.LifecycleError):
        lifecycle.publish_results(None, Item.objects.get(pk=poll.pk))
    assert not Result.objects.exists()
    assert state_of(poll) != State.PUBLISHED
