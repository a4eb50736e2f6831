"""`manage.py close_due [--dry-run]` and `manage.py tally <poll|referendum> <slug>`."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Segment
from participation.models import Item, Result, State
from tests.answers import digest_of_lines, poll_line, referendum_line
from tests.builders.items import (
    close,
    make_poll,
    make_referendum,
    question_and_options,
    set_state,
    vote,
    vote_referendum,
)
from tests.builders.users import person

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def due():
    """A poll past its closing time (one ballot), a scheduled poll due to open, and a poll still open."""
    to_close = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(to_close)
    vote(person(Segment.RESIDENT), to_close, [option])
    close(to_close)
    to_open = make_poll(state=State.SCHEDULED, opens_at=timezone.now() - timedelta(minutes=2), options=2)
    still_open = make_poll(options=2, state=State.OPEN)
    return to_close, to_open, still_open


def snapshot():
    return dict(Item.objects.values_list("slug", "state")), list(Result.objects.values_list("pk", flat=True))


def test_close_due_dry_run_lists_and_changes_nothing(due):
    to_close, to_open, still_open = due
    before = snapshot()

    out = run("close_due", "--dry-run")

    assert snapshot() == before
    assert f"would update poll {to_close.slug} (open -> closed)" in out
    assert f"would update poll {to_open.slug} (scheduled -> open)" in out
    assert still_open.slug not in out


def test_close_due_opens_closes_and_tallies(due):
    to_close, to_open, still_open = due

    out = run("close_due")

    states = dict(Item.objects.values_list("pk", "state"))
    assert states[to_close.pk] == State.PUBLISHED
    assert states[to_open.pk] == State.OPEN
    assert states[still_open.pk] == State.OPEN
    result = Result.objects.get(item=to_close)
    assert result.ballots == 1
    assert result.ballots_digest == digest_of_lines([poll_line(1, 1, "resident")])
    assert not Result.objects.filter(item__in=[to_open, still_open]).exists()
    assert "opened 1, closed 1" in out


def test_close_due_twice_does_nothing_the_second_time(due):
    run("close_due")
    before = snapshot()
    out = run("close_due")
    assert snapshot() == before
    assert "opened 0, closed 0" in out
    assert run("close_due", "--dry-run") == ""


def test_close_due_tallies_what_it_closed_even_when_queued_tallies_are_lost(due, monkeypatch):
    """With a broker, close_due queues tallies and also counts here: the result exists when the command ends."""
    from participation import tasks

    monkeypatch.setattr(tasks.tally_item, "delay", lambda item_id: None)  # the queued copy never runs
    to_close, *_ = due
    run("close_due")
    assert Result.objects.filter(item=to_close).exists()


def test_tally_command_prints_the_result_and_its_digest():
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, second) = question_and_options(poll)
    vote(person(Segment.CITIZEN), poll, [first])
    vote(person(Segment.RESIDENT), poll, [second])
    person(Segment.CITIZEN)
    close(poll)
    expected = digest_of_lines([poll_line(1, 1, "citizen"), poll_line(1, 2, "resident")])

    out = run("tally", "poll", poll.slug)

    result = Result.objects.get(item=poll)
    assert result.ballots_digest == expected
    assert f"poll {poll.slug}: 2 ballots of 3 eligible" in out
    assert f"digest {expected}" in out
    assert result.tallied_at.isoformat() in out
    poll.refresh_from_db()
    assert poll.state == State.PUBLISHED


def test_tally_command_twice_prints_the_same_result():
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    close(poll)
    first_out = run("tally", "poll", poll.slug)
    second_out = run("tally", "poll", poll.slug)
    assert first_out == second_out
    assert Result.objects.filter(item=poll).count() == 1


def test_tally_command_for_a_referendum():
    referendum = make_referendum(results_need_approval=True, options=2, state=State.OPEN)
    _q, (yes, _no) = question_and_options(referendum)
    receipt = vote_referendum(person(verified=True), referendum, yes)
    close(referendum)
    out = run("tally", "referendum", referendum.slug)
    assert f"digest {digest_of_lines([referendum_line(receipt, 1)])}" in out
    referendum.refresh_from_db()
    assert referendum.state == State.CLOSED  # waits for the ministry admin


def test_tally_command_refuses_an_open_item():
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    with pytest.raises(CommandError, match="not closed yet"):
        run("tally", "poll", poll.slug)
    assert not Result.objects.filter(item=poll).exists()
    poll.refresh_from_db()
    assert poll.state == State.OPEN


def test_tally_command_refuses_a_scheduled_item():
    poll = make_poll(state=State.SCHEDULED, opens_at=timezone.now() + timedelta(days=1), options=2)
    with pytest.raises(CommandError):
        run("tally", "poll", poll.slug)
    assert not Result.objects.filter(item=poll).exists()


@pytest.mark.parametrize(("kind", "slug"), [("poll", "no-such-poll"), ("referendum", "no-such-referendum")])
def test_tally_command_refuses_an_unknown_slug(kind, slug):
    with pytest.raises(CommandError, match=slug):
        run("tally", kind, slug)


def test_tally_command_refuses_a_slug_of_the_other_type():
    referendum = make_referendum(options=2, state=State.OPEN)
    close(referendum)
    with pytest.raises(CommandError, match="No poll"):
        run("tally", "poll", referendum.slug)
    assert not Result.objects.filter(item=referendum).exists()


def test_tally_command_refuses_an_unknown_type():
    with pytest.raises(CommandError):
        run("tally", "consultation", "anything")


def test_tally_command_on_an_item_already_published_changes_nothing():
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    close(poll)
    run("tally", "poll", poll.slug)
    set_state(poll, State.PUBLISHED)
    result = Result.objects.get(item=poll)
    out = run("tally", "poll", poll.slug)
    assert f"digest {result.ballots_digest}" in out
    assert Result.objects.filter(item=poll).count() == 1
