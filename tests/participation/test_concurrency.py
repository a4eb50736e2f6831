"""Two ballots by the same person at the same moment, on PostgreSQL: exactly one is kept, the other is AlreadyVoted.

SQLite serialises writers and ignores row locks, so these run on PostgreSQL only
(the `postgres` marker skips them elsewhere). Each thread has its own database
connection, which it closes when done.
"""

import threading
import time

import pytest
from django.db import connection

from participation import errors
from participation.models import (
    PollAnswer,
    PollBallot,
    ReferendumParticipation,
    State,
)
from participation.services import lifecycle, voting
from tests.builders.items import make_poll, make_referendum, sealed_ballots, single_choices
from tests.factories import VerifiedUserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 2
TIMEOUT = 20
PAUSE = 0.3


def race(*calls):
    """Run the calls at once (after a barrier); return what each returned or raised."""
    barrier = threading.Barrier(len(calls), timeout=TIMEOUT)
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # collected and asserted on by the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a ballot is still waiting: a lock was never released"
    return outcomes


def test_two_simultaneous_poll_ballots_by_one_person_leave_exactly_one(postgres_only):
    voter = VerifiedUserFactory()
    poll = make_poll(questions=2, options=3)
    first, second = single_choices(poll, 0), single_choices(poll, 1)
    outcomes = race(
        lambda: voting.cast_poll_ballot(voter, poll, first),
        lambda: voting.cast_poll_ballot(voter, poll, second),
    )
    kept = [o for o in outcomes if isinstance(o, PollBallot)]
    refused = [o for o in outcomes if isinstance(o, errors.AlreadyVoted)]
    assert (len(kept), len(refused)) == (1, 1), outcomes
    assert PollBallot.objects.filter(voter=voter, item=poll).count() == 1
    ballot = PollBallot.objects.get()
    assert ballot.pk == kept[0].pk
    kept_choices = first if outcomes[0] is kept[0] else second
    assert set(ballot.answers.values_list("option_id", flat=True)) == {int(v[0]) for v in kept_choices.values()}
    assert PollAnswer.objects.count() == 2  # the refused ballot left no half-written answers


def test_two_simultaneous_referendum_ballots_by_one_person_leave_exactly_one(postgres_only):
    voter = VerifiedUserFactory()
    referendum = make_referendum()
    yes, no = referendum.questions.get().options.all()
    outcomes = race(
        lambda: voting.cast_referendum_ballot(voter, referendum, yes.pk),
        lambda: voting.cast_referendum_ballot(voter, referendum, no.pk),
    )
    receipts = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, errors.AlreadyVoted)]
    assert (len(receipts), len(refused)) == (1, 1), outcomes
    assert ReferendumParticipation.objects.filter(voter=voter).count() == 1
    assert [ballot.receipt for ballot in sealed_ballots()] == receipts


def test_many_people_voting_at_once_are_all_counted(postgres_only):
    poll = make_poll(questions=1, options=2)
    voters = [VerifiedUserFactory() for _ in range(6)]
    choices = single_choices(poll)
    outcomes = race(*[lambda voter=voter: voting.cast_poll_ballot(voter, poll, choices) for voter in voters])
    assert all(isinstance(o, PollBallot) for o in outcomes), outcomes
    assert PollBallot.objects.filter(item=poll).count() == 6


def test_a_ballot_that_arrives_while_an_item_is_being_closed_is_refused(postgres_only, monkeypatch):
    """close_item holds the item row FOR UPDATE; the ballot's FOR KEY SHARE waits, then sees the item closed."""
    poll = make_poll(questions=1, options=2)
    voter = VerifiedUserFactory()
    choices = single_choices(poll)
    closing = threading.Event()
    original = lifecycle._audit_state

    def slow_audit(item, *args, **kwargs):
        original(item, *args, **kwargs)
        closing.set()
        time.sleep(PAUSE)  # still inside close_item's transaction: the ballot must wait

    monkeypatch.setattr(lifecycle, "_audit_state", slow_audit)

    def vote():
        assert closing.wait(TIMEOUT)
        return voting.cast_poll_ballot(voter, poll, choices)

    closed, ballot = race(lambda: lifecycle.close_item(poll.pk), vote)
    assert closed is True
    assert isinstance(ballot, errors.Refused), ballot
    assert not PollBallot.objects.exists()


def test_a_close_that_waited_for_a_ballot_records_its_closing_time_after_that_ballot(postgres_only, monkeypatch):
    """The ballot holds the row first; close_item waits for it, so the recorded closes_at must not precede it."""
    poll = make_poll(questions=1, options=2)
    voter = VerifiedUserFactory()
    choices = single_choices(poll)
    locked = threading.Event()
    original = voting.lock_open_item

    def slow_lock(item):
        fresh = original(item)
        locked.set()
        time.sleep(PAUSE)  # the close starts now and has to wait for this ballot's transaction
        return fresh

    monkeypatch.setattr(voting, "lock_open_item", slow_lock)

    def close():
        assert locked.wait(TIMEOUT)
        return lifecycle.close_item(poll.pk)

    closed, ballot = race(close, lambda: voting.cast_poll_ballot(voter, poll, choices))
    assert closed is True
    assert isinstance(ballot, PollBallot), ballot
    poll.refresh_from_db()
    # Published too once the tally the close nudged has run (eagerly in the suite, on a worker with a broker).
    assert poll.state in (State.CLOSED, State.PUBLISHED)
    assert ballot.cast_at <= poll.closes_at, "the ballot appears to have been cast after the item closed"
