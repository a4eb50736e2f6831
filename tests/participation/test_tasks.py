"""Celery tasks in eager mode (no broker): options, routes, the schedule, and each task run once, twice and retried."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import DatabaseError, OperationalError, connection
from django.utils import timezone

from accounts.models import Segment
from hukoomi_portal.celery import app
from participation import tasks
from participation.models import Item, Notification, Result, State
from participation.services import counting, lifecycle, outbox
from tests.builders.items import close, make_poll, make_referendum, question_and_options, vote, vote_referendum
from tests.builders.users import people, person

pytestmark = pytest.mark.django_db

ALL_TASKS = [
    tasks.open_and_close_due,
    tasks.tally_item,
    tasks.notify_item_opened,
    tasks.notify_results,
    tasks.send_notifications,
]


def run_on_commit(callbacks_fixture):
    """Tasks queue follow-ups with transaction.on_commit; the test transaction never commits, so run them."""
    return callbacks_fixture(execute=True)


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


def test_without_a_broker_tasks_run_eagerly_in_process():
    assert settings.CELERY_BROKER_URL is None, "run the suite without CELERY_BROKER_URL"
    assert app.conf.task_always_eager is True
    assert app.conf.task_eager_propagates is True
    assert type(tasks.open_and_close_due.delay()).__name__ == "EagerResult"  # ran here, no broker message


@pytest.mark.parametrize("task", ALL_TASKS, ids=lambda t: t.name)
def test_every_task_is_acknowledged_late_and_retried_with_backoff_on_database_errors(task):
    assert task.name.startswith("participation.")
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert DatabaseError in task.autoretry_for
    assert issubclass(OperationalError, tuple(task.autoretry_for))
    assert task.retry_backoff
    assert task.retry_backoff_max >= task.retry_backoff
    assert task.max_retries and task.max_retries > 0


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("participation.open_and_close_due", "celery"),
        ("participation.tally_item", "tally"),
        ("participation.notify_item_opened", "email"),
        ("participation.notify_results", "email"),
        ("participation.send_notifications", "email"),
    ],
)
def test_tallies_and_e_mail_have_their_own_queues(task, queue):
    assert task in app.tasks
    route = app.amqp.router.route({}, task)
    assert route["queue"].name == queue


def test_the_beat_schedule_opens_and_closes_due_items_every_minute():
    schedule = app.conf.beat_schedule
    entries = [entry for entry in schedule.values() if entry["task"] == "participation.open_and_close_due"]
    assert len(entries) == 1
    every = entries[0]["schedule"]
    seconds = every.total_seconds() if isinstance(every, timedelta) else getattr(every, "seconds", every)
    assert float(seconds) == 60.0


# ---------------------------------------------------------------------------
# open_and_close_due
# ---------------------------------------------------------------------------


@pytest.fixture
def due_items():
    """One scheduled poll due to open, one open poll past closing, one referendum awaiting approval, one future poll."""
    now = timezone.now()
    to_open = make_poll(state=State.SCHEDULED, opens_at=now - timedelta(minutes=1), options=2)
    to_close = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(to_close)
    voter = person(Segment.CITIZEN)
    vote(voter, to_close, [option])
    close(to_close)
    referendum = make_referendum(results_need_approval=True, options=2, state=State.OPEN)
    _q, (yes, _no) = question_and_options(referendum)
    vote_referendum(person(Segment.CITIZEN, verified=True), referendum, yes)
    close(referendum)
    future = make_poll(state=State.SCHEDULED, opens_at=now + timedelta(days=1), options=2)
    return {"to_open": to_open, "to_close": to_close, "referendum": referendum, "future": future, "voter": voter}


def test_open_and_close_due_opens_closes_and_tallies(due_items, django_capture_on_commit_callbacks, mailoutbox):
    opted_in = person(Segment.RESIDENT, notify_new_items=True)
    with run_on_commit(django_capture_on_commit_callbacks):
        outcome = tasks.open_and_close_due.delay().get()

    assert outcome["opened"] == [due_items["to_open"].pk]
    assert sorted(outcome["closed"]) == sorted([due_items["to_close"].pk, due_items["referendum"].pk])
    states = dict(Item.objects.values_list("pk", "state"))
    assert states[due_items["to_open"].pk] == State.OPEN
    assert states[due_items["to_close"].pk] == State.PUBLISHED  # closed, tallied, published
    assert states[due_items["referendum"].pk] == State.CLOSED  # tallied, waiting for a ministry admin
    assert states[due_items["future"].pk] == State.SCHEDULED
    assert Result.objects.get(item=due_items["to_close"]).ballots == 1
    assert Result.objects.get(item=due_items["referendum"]).ballots == 1
    assert not Result.objects.filter(item=due_items["future"]).exists()
    # Follow-ups: "now open" to the opted-in resident, "results published" to the poll's voter.
    assert sorted(m.to[0] for m in mailoutbox) == sorted([opted_in.email, due_items["voter"].email])


def test_open_and_close_due_twice_changes_nothing_the_second_time(
    due_items, django_capture_on_commit_callbacks, mailoutbox
):
    person(Segment.CITIZEN, notify_new_items=True)
    with run_on_commit(django_capture_on_commit_callbacks):
        tasks.open_and_close_due.delay().get()
    states = dict(Item.objects.values_list("pk", "state"))
    results = dict(Result.objects.values_list("item_id", "pk"))
    mails = len(mailoutbox)
    assert mails == 2

    with run_on_commit(django_capture_on_commit_callbacks) as callbacks:
        outcome = tasks.open_and_close_due.delay().get()

    assert outcome == {"opened": [], "closed": [], "swept": {"tally": 0, "opened": 0, "results": 0}, "wake_at": None}
    assert callbacks == []  # nothing queued
    assert dict(Item.objects.values_list("pk", "state")) == states
    assert dict(Result.objects.values_list("item_id", "pk")) == results
    assert len(mailoutbox) == mails


def test_an_item_closed_without_ballots_is_still_tallied(django_capture_on_commit_callbacks):
    poll = make_poll(options=2, state=State.OPEN)
    close(poll)
    with run_on_commit(django_capture_on_commit_callbacks):
        outcome = tasks.open_and_close_due.delay().get()
    assert outcome["closed"] == [poll.pk]
    result = Result.objects.get(item=poll)
    assert result.ballots == 0
    poll.refresh_from_db()
    assert poll.state == State.PUBLISHED


def test_a_scheduled_item_whose_whole_window_passed_is_closed_not_opened(
    django_capture_on_commit_callbacks, mailoutbox
):
    person(Segment.CITIZEN, notify_new_items=True)
    poll = make_poll(state=State.SCHEDULED, options=2)
    close(poll)
    with run_on_commit(django_capture_on_commit_callbacks):
        outcome = tasks.open_and_close_due.delay().get()
    assert (outcome["opened"], outcome["closed"]) == ([], [poll.pk])
    assert Result.objects.filter(item=poll).exists()
    assert mailoutbox == []  # it never opened: no "now open" e-mail


def test_open_and_close_due_queues_exactly_one_tally_per_closed_item(
    due_items, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    # Queued by name (services/outbox.py): each close nudges its own tally once, and beat adds none.
    monkeypatch.setattr(outbox, "queue", lambda name, item_id: queued.append(item_id) if name == "participation.tally_item" else None)
    with run_on_commit(django_capture_on_commit_callbacks):
        tasks.open_and_close_due.delay().get()
    assert sorted(queued) == sorted([due_items["to_close"].pk, due_items["referendum"].pk])


# ---------------------------------------------------------------------------
# tally_item
# ---------------------------------------------------------------------------


def test_tally_item_tallies_and_publishes_once(django_capture_on_commit_callbacks, mailoutbox):
    poll = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(poll)
    voter = person()
    vote(voter, poll, [option])
    close(poll)
    with run_on_commit(django_capture_on_commit_callbacks):
        first = tasks.tally_item.delay(poll.pk).get()
    with run_on_commit(django_capture_on_commit_callbacks):
        second = tasks.tally_item.delay(poll.pk).get()
    assert first == second == Result.objects.get(item=poll).pk
    poll.refresh_from_db()
    assert poll.state == State.PUBLISHED
    assert [m.to for m in mailoutbox] == [[voter.email]]  # the results e-mail went once


def test_tally_item_on_an_open_item_does_nothing():
    poll = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(poll)
    vote(person(), poll, [option])
    assert tasks.tally_item.delay(poll.pk).get() is None
    poll.refresh_from_db()
    assert poll.state == State.OPEN
    assert not Result.objects.filter(item=poll).exists()


def test_tally_item_leaves_a_referendum_needing_approval_unpublished():
    referendum = make_referendum(results_need_approval=True, options=2, state=State.OPEN)
    _q, (yes, _no) = question_and_options(referendum)
    vote_referendum(person(verified=True), referendum, yes)
    close(referendum)
    pk = tasks.tally_item.delay(referendum.pk).get()
    assert Result.objects.get(pk=pk).item_id == referendum.pk
    referendum.refresh_from_db()
    assert referendum.state == State.CLOSED


def test_tally_item_does_not_republish_what_an_admin_already_published(django_capture_on_commit_callbacks):
    referendum = make_referendum(results_need_approval=True, options=2, state=State.OPEN)
    _q, (yes, _no) = question_and_options(referendum)
    vote_referendum(person(verified=True), referendum, yes)
    close(referendum)
    with run_on_commit(django_capture_on_commit_callbacks):
        tasks.tally_item.delay(referendum.pk).get()
        lifecycle.publish_results(None, Item.objects.get(pk=referendum.pk))
    with run_on_commit(django_capture_on_commit_callbacks) as callbacks:
        pk = tasks.tally_item.delay(referendum.pk).get()
    assert pk == Result.objects.get(item=referendum).pk
    assert callbacks == []  # no second "results published" mailing


@pytest.fixture
def eager_retries():
    """Let eager tasks retry as a worker would: with task_eager_propagates, Celery re-raises Retry instead."""
    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


def test_tally_item_retries_with_backoff_after_a_database_error(monkeypatch, eager_retries):
    poll = make_poll(options=2, state=State.OPEN)
    close(poll)
    real = counting.tally_and_publish
    calls, countdowns = [], []

    def flaky(item_id, now=None):
        calls.append(item_id)
        if len(calls) == 1:
            raise OperationalError("could not serialize access")
        return real(item_id, now)

    task_class = type(tasks.tally_item._get_current_object())
    real_retry = task_class.retry

    def spy_retry(self, *args, **kwargs):
        countdowns.append(kwargs.get("countdown"))
        return real_retry(self, *args, **kwargs)

    monkeypatch.setattr(counting, "tally_and_publish", flaky)
    monkeypatch.setattr(task_class, "retry", spy_retry)
    outcome = tasks.tally_item.delay(poll.pk)
    assert outcome.successful(), outcome.traceback
    assert outcome.get() == Result.objects.get(item=poll).pk
    assert calls == [poll.pk, poll.pk]
    # One retry, scheduled with a backoff countdown (full jitter: between 0 and retry_backoff seconds).
    assert len(countdowns) == 1
    assert countdowns[0] is not None
    assert 0 <= countdowns[0] <= tasks.tally_item.retry_backoff


def test_tally_item_gives_up_after_max_retries(monkeypatch, eager_retries):
    calls = []

    def broken(item_id, now=None):
        calls.append(item_id)
        raise OperationalError("the database is down")

    monkeypatch.setattr(counting, "tally_and_publish", broken)
    outcome = tasks.tally_item.delay(12345)
    assert outcome.failed()
    assert isinstance(outcome.result, OperationalError)
    assert len(calls) == tasks.tally_item.max_retries + 1


def test_other_errors_are_not_retried(monkeypatch, eager_retries):
    calls = []

    def wrong(item_id, now=None):
        calls.append(item_id)
        raise ValueError("a bug, not a passing database problem")

    monkeypatch.setattr(counting, "tally_and_publish", wrong)
    outcome = tasks.tally_item.delay(12345)
    assert outcome.failed()
    assert calls == [12345]


# ---------------------------------------------------------------------------
# Notification tasks
# ---------------------------------------------------------------------------


def test_notify_item_opened_mails_opted_in_eligible_people_once(mailoutbox):
    poll = make_poll(for_citizens=True, for_residents=False, only_parents=True, options=2, state=State.OPEN)
    wanted = person(Segment.CITIZEN, personas=["parent"], notify_new_items=True)
    person(Segment.CITIZEN, personas=["parent"], notify_new_items=False)  # did not opt in
    person(Segment.CITIZEN, personas=["employee"], notify_new_items=True)  # not a parent
    person(Segment.RESIDENT, personas=["parent"], notify_new_items=True)  # not in the audience
    person(Segment.CITIZEN, personas=["parent"], notify_new_items=True, is_active=False)  # inactive

    tasks.notify_item_opened.delay(poll.pk).get()
    tasks.notify_item_opened.delay(poll.pk).get()

    assert [m.to for m in mailoutbox] == [[wanted.email]]
    assert Notification.objects.filter(item=poll, kind=Notification.Kind.OPENED).count() == 1


def test_notify_results_mails_participants_who_want_results_once(mailoutbox):
    poll = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(poll)
    wanted = person()
    silent = person(notify_results=False)
    bystander = person()
    for voter in (wanted, silent):
        vote(voter, poll, [option])
    close(poll)
    assert bystander.notify_results
    tasks.notify_results.delay(poll.pk).get()
    tasks.notify_results.delay(poll.pk).get()
    assert [m.to for m in mailoutbox] == [[wanted.email]]


def test_notify_results_of_a_referendum_reaches_participants_without_revealing_choices(mailoutbox):
    referendum = make_referendum(options=2, state=State.OPEN)
    _q, (yes, no) = question_and_options(referendum)
    a, b = people(2, verified=True)
    vote_referendum(a, referendum, yes)
    vote_referendum(b, referendum, no)
    close(referendum)
    tasks.notify_results.delay(referendum.pk).get()
    assert sorted(m.to[0] for m in mailoutbox) == sorted([a.email, b.email])
    for message in mailoutbox:
        for option in (yes, no):
            assert option.text_ar not in message.body
            assert option.text_en not in message.body


def test_send_notifications_twice_sends_nothing_the_second_time(mailoutbox):
    poll = make_poll(options=2, state=State.OPEN)
    users = people(3, notify_new_items=True)
    ids = [u.pk for u in users]
    assert tasks.send_notifications.delay(poll.pk, "opened", ids).get() == 3
    assert tasks.send_notifications.delay(poll.pk, "opened", ids).get() == 0
    assert len(mailoutbox) == 3
    assert Notification.objects.filter(item=poll).count() == 3


# ---------------------------------------------------------------------------
# Two copies at once (PostgreSQL: separate connections, real row locks)
# ---------------------------------------------------------------------------


def eager_value(eager_result):
    """The value of an eager run. (EagerResult.get() refuses to run while another thread is inside a task.)"""
    assert eager_result.successful(), eager_result.traceback
    return eager_result.result


def _twice_at_once(target):
    barrier = threading.Barrier(2, timeout=20)
    outcomes, errors = [], []

    def copy():
        try:
            barrier.wait()
            outcomes.append(target())
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=copy) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a copy is stuck"
    assert not errors, errors
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_copies_of_open_and_close_due_at_once_end_as_one_would(mailoutbox):
    now = timezone.now()
    to_open = [make_poll(state=State.SCHEDULED, opens_at=now - timedelta(minutes=1), options=2) for _ in range(3)]
    to_close = []
    voters = []
    for _ in range(3):
        # Not for residents (the audience is frozen once open, so set from the start): the listener hears of openings only.
        poll = make_poll(for_residents=False, options=2, state=State.OPEN)
        _q, (option, _other) = question_and_options(poll)
        voter = person()
        vote(voter, poll, [option])
        voters.append(voter)
        to_close.append(close(poll))
    listener = person(Segment.RESIDENT, notify_new_items=True)

    outcomes = _twice_at_once(lambda: eager_value(tasks.open_and_close_due.apply()))

    opened = [pk for outcome in outcomes for pk in outcome["opened"]]
    closed = [pk for outcome in outcomes for pk in outcome["closed"]]
    assert sorted(opened) == sorted(p.pk for p in to_open)  # each opened by exactly one copy
    assert sorted(closed) == sorted(p.pk for p in to_close)  # each closed by exactly one copy
    for poll in to_close:
        assert Result.objects.filter(item=poll).count() == 1
        assert Item.objects.get(pk=poll.pk).state == State.PUBLISHED
    assert Item.objects.filter(pk__in=[p.pk for p in to_open], state=State.OPEN).count() == 3
    # One "now open" e-mail per opened poll to the listener, one "results" e-mail per voter.
    recipients = sorted(m.to[0] for m in mailoutbox)
    assert recipients == sorted([listener.email] * 3 + [v.email for v in voters])


# ---------------------------------------------------------------------------
# The wake at the next close (results within a minute of the close, issue 11)
# ---------------------------------------------------------------------------


@pytest.fixture
def not_eager(monkeypatch):
    """What a real worker does: apply_async queues instead of running at once (recorded, not sent)."""
    sent = []
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setattr(tasks.open_and_close_due, "apply_async", lambda *args, **kwargs: sent.append(kwargs))
    return sent


def test_beat_wakes_the_job_at_the_moment_of_a_close_before_its_next_run(not_eager):
    now = timezone.now()
    soon = now + tasks.beat_interval() / 2
    referendum = make_referendum(closes_at=soon, options=2, state=State.OPEN)
    make_poll(
        closes_at=soon + timedelta(seconds=5), options=2, state=State.OPEN
    )  # a later close: the woken job's own run sees to it
    assert tasks.wake_at_next_close(now) == referendum.closes_at.isoformat()
    assert not_eager == [{"eta": referendum.closes_at}]


def test_no_wake_for_a_close_after_beats_next_run_or_for_a_consultation(not_eager):
    now = timezone.now()
    make_referendum(closes_at=now + tasks.beat_interval() + timedelta(seconds=1), options=2, state=State.OPEN)
    make_poll(state=State.DRAFT, closes_at=now + timedelta(seconds=10), options=2)
    assert tasks.wake_at_next_close(now) is None
    assert not_eager == []


def test_a_broker_that_is_down_leaves_the_close_to_beat(not_eager, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.open_and_close_due, "apply_async", down)
    make_referendum(closes_at=timezone.now() + timedelta(seconds=10), options=2, state=State.OPEN)
    assert tasks.wake_at_next_close() is None
