"""The outbox: with the broker down nothing answers 500 and nothing is lost; the sweep then does it all, once.

"Broker down" is Celery pointed at a closed port (redis://127.0.0.1:1/0), not eager, with short timeouts
and no publish retries, so every .delay() fails at once, as it does in production. "Broker back" is the
suite's eager mode: a .delay() runs the task here. The sweep hands out a message only when it is
RETRY_AFTER old, so the tests move the clock (time-machine) rather than sleep.

Tests that go through the admin are transactional: on_commit callbacks (the nudges) must run inside the
request, after its commit, as they do in production.
"""

import contextlib
import logging
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from kombu import pools

from accounts.models import Segment
from hukoomi_portal.celery import app
from participation import tasks
from participation.models import Item, Notification, OutboxMessage, Result, State
from participation.services import counting, lifecycle, outbox
from participation.services import notifications as notification_service
from participation.services.counting import tally
from tests.builders.items import close, make_poll, make_referendum, question_and_options, vote, vote_referendum
from tests.builders.users import person
from tests.factories import SuperUserFactory

LANGS = ("ar", "en")
CLOSED_PORT = "redis://127.0.0.1:1/0"


def _reset_broker_pools():
    """Celery and kombu cache broker connections and producers; drop them all so that the next .delay()
    connects to the broker URL set now."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


BROKER_DOWN = {
    "task_always_eager": False,
    "broker_url": CLOSED_PORT,
    "broker_connection_timeout": 0.5,
    "broker_connection_retry": False,
    "task_publish_retry": False,
    "broker_transport_options": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "max_retries": 0},
}


@contextlib.contextmanager
def broker_down():
    before = {key: app.conf.get(key) for key in BROKER_DOWN}
    app.conf.update(BROKER_DOWN)
    _reset_broker_pools()
    try:
        yield
    finally:
        app.conf.update(before)
        _reset_broker_pools()


def later(minutes=3):
    """The clock a few minutes on: past RETRY_AFTER, so the sweep hands out what is owed."""
    assert timedelta(minutes=minutes) > outbox.RETRY_AFTER
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def pending(item, kind):
    return OutboxMessage.objects.filter(item=item, kind=kind, done_at__isnull=True).exists()


def mails_to(user):
    return sum(1 for message in mail.outbox if message.to == [user.email])


def sweep_by_beat(minutes=3):
    with later(minutes):
        return tasks.open_and_close_due()


def run_action(client, model, action, item, lang):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    return client.post(
        reverse(f"admin:participation_{model}_changelist"),
        {"action": action, "_selected_action": [item.pk]},
        follow=True,
    )


def assert_said(response, lang, singular, plural):
    with translation.override(lang):
        text = translation.ngettext(singular, plural, 1) % {"count": 1}
    assert text in response.content.decode()


# ---------------------------------------------------------------------------
# Recording: in the change's transaction, once per item and kind
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_message_is_recorded_once_per_item_and_kind():
    poll = make_poll(options=2, state=State.OPEN)
    with transaction.atomic():
        outbox.record(poll.pk, outbox.TALLY)
        outbox.record(poll.pk, outbox.TALLY)
        outbox.record(poll.pk, outbox.RESULTS)
    assert OutboxMessage.objects.filter(item=poll).count() == 2
    with pytest.raises(IntegrityError, match="outbox_once_per_item_and_kind|UNIQUE"), transaction.atomic():
        OutboxMessage.objects.create(item=poll, kind=outbox.TALLY)


@pytest.mark.django_db
def test_recording_outside_a_transaction_is_refused():
    """Outside the change's transaction the row could commit without the change, or the change without it."""
    poll = make_poll(options=2, state=State.OPEN)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transaction.get_connection(), "in_atomic_block", False)
        with pytest.raises(RuntimeError):
            outbox.record(poll.pk, outbox.TALLY)


@pytest.mark.django_db
def test_the_change_and_its_message_roll_back_together():
    poll = make_poll(options=2, state=State.OPEN)
    close(poll)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert lifecycle.close_due_items() == [poll.pk]
        raise RuntimeError("the transaction fails after the close")
    assert Item.objects.get(pk=poll.pk).state == State.OPEN
    assert not OutboxMessage.objects.filter(item=poll).exists()


# ---------------------------------------------------------------------------
# Broker down: answers, and owes the work; broker back: the sweep does it, once
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.django_db(transaction=True)
def test_close_now_with_the_broker_down_answers_then_the_sweep_tallies_and_mails_once(client, lang, caplog):
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    voters = [person(Segment.CITIZEN, notify_results=True) for _ in range(3)]
    for voter in voters:
        vote(voter, poll, [first])
    client.force_login(SuperUserFactory())

    with broker_down(), caplog.at_level(logging.WARNING, logger="participation.services.outbox"):
        response = run_action(client, "poll", "close_now", poll, lang)

    assert response.status_code == 200
    assert_said(response, lang, "%(count)d item has been closed.", "%(count)d items have been closed.")
    assert Item.objects.get(pk=poll.pk).state == State.CLOSED
    assert pending(poll, outbox.TALLY)
    assert "broker unavailable" in caplog.text
    assert not Result.objects.filter(item=poll).exists()
    assert mail.outbox == []

    outcome = sweep_by_beat()  # the broker is back (eager): beat's sweep hands the tally out
    assert outcome["swept"][outbox.TALLY] == 1
    assert Item.objects.get(pk=poll.pk).state == State.PUBLISHED
    assert Result.objects.get(item=poll).ballots == 3
    assert [mails_to(voter) for voter in voters] == [1, 1, 1]
    assert not OutboxMessage.objects.filter(done_at__isnull=True).exists()

    again = sweep_by_beat(minutes=10)
    assert again["swept"] == {outbox.TALLY: 0, outbox.OPENED: 0, outbox.RESULTS: 0}
    assert len(mail.outbox) == 3


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.django_db(transaction=True)
def test_publishing_with_the_broker_down_answers_then_the_sweep_mails_each_voter_once(client, lang):
    referendum = make_referendum(results_need_approval=True, options=2, state=State.OPEN)
    _q, (yes, no) = question_and_options(referendum)
    voters = [person(Segment.CITIZEN, verified=True, notify_results=True) for _ in range(3)]
    for voter, option in zip(voters, (yes, no, yes), strict=True):
        vote_referendum(voter, referendum, option)
    close(referendum)
    tally(referendum.pk)  # counted, waiting for the ministry admin's approval
    client.force_login(SuperUserFactory())

    with broker_down():
        response = run_action(client, "referendum", "publish", referendum, lang)

    assert response.status_code == 200
    assert_said(
        response,
        lang,
        "Results or outcome published for %(count)d item.",
        "Results or outcome published for %(count)d items.",
    )
    assert Item.objects.get(pk=referendum.pk).state == State.PUBLISHED
    assert pending(referendum, outbox.RESULTS)
    assert not Notification.objects.filter(item=referendum).exists()
    assert mail.outbox == []

    assert sweep_by_beat()["swept"][outbox.RESULTS] == 1
    assert [mails_to(voter) for voter in voters] == [1, 1, 1]
    assert Notification.objects.filter(item=referendum, kind=Notification.Kind.RESULTS).count() == 3
    assert not pending(referendum, outbox.RESULTS)

    sweep_by_beat(minutes=10)
    assert len(mail.outbox) == 3


@pytest.mark.django_db(transaction=True)
def test_the_beat_job_with_the_broker_down_opens_closes_and_owes_then_the_sweep_does_it_all_once():
    now = timezone.now()
    to_open = make_poll(state=State.SCHEDULED, opens_at=now - timedelta(minutes=1), options=2)
    to_close = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(to_close)
    voter = person(Segment.CITIZEN, notify_results=True, notify_new_items=False)
    vote(voter, to_close, [option])
    close(to_close)
    audience = [person(Segment.CITIZEN, notify_new_items=True) for _ in range(2)]

    with broker_down():
        outcome = tasks.open_and_close_due()  # what the worker runs when beat sends it

    assert (outcome["opened"], outcome["closed"]) == ([to_open.pk], [to_close.pk])
    assert pending(to_open, outbox.OPENED)
    assert pending(to_close, outbox.TALLY)
    assert mail.outbox == []

    swept = sweep_by_beat()["swept"]
    assert (swept[outbox.TALLY], swept[outbox.OPENED]) == (1, 1)
    assert Item.objects.get(pk=to_close.pk).state == State.PUBLISHED
    opened = [m for m in mail.outbox if m.to != [voter.email]]
    assert sorted(m.to[0] for m in opened) == sorted(p.email for p in audience)  # "now open", once each
    assert mails_to(voter) == 1  # "results", once
    assert not OutboxMessage.objects.filter(done_at__isnull=True).exists()

    sent = len(mail.outbox)
    sweep_by_beat(minutes=10)
    assert len(mail.outbox) == sent


@pytest.mark.django_db(transaction=True)
def test_the_close_due_command_does_the_owed_work_itself_with_the_broker_down():
    """Cron needs no worker: the command tallies and mails in its own process, once."""
    poll = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(poll)
    voter = person(Segment.CITIZEN, notify_results=True)
    vote(voter, poll, [option])
    close(poll)

    with broker_down():
        call_command("close_due", verbosity=0)
        assert Item.objects.get(pk=poll.pk).state == State.PUBLISHED
        assert mails_to(voter) == 1
        assert not OutboxMessage.objects.filter(done_at__isnull=True).exists()

        call_command("close_due", verbosity=0)
    assert mails_to(voter) == 1


@pytest.mark.django_db
def test_a_closed_item_with_no_result_and_no_message_is_adopted_by_the_sweep():
    """Items closed before the outbox existed, or by hand, are still counted."""
    poll = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(poll)
    vote(person(Segment.CITIZEN), poll, [option])
    close(poll)
    Item.objects.filter(pk=poll.pk).update(state=State.CLOSED)

    swept = tasks.open_and_close_due()["swept"]

    assert swept[outbox.TALLY] == 1
    assert Result.objects.get(item=poll).ballots == 1
    assert not pending(poll, outbox.TALLY)


# ---------------------------------------------------------------------------
# Crashes between sending and marking
# ---------------------------------------------------------------------------


class Crash(Exception):
    """The worker dies (SIGKILL, lost connection): the transaction it was in never commits."""


@pytest.fixture
def published_poll_owing_results():
    """A published poll whose "results" mailing is owed and not yet sent, and its three voters."""
    poll = make_poll(options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(poll)
    voters = [person(Segment.CITIZEN, notify_results=True) for _ in range(3)]
    for voter in voters:
        vote(voter, poll, [option])
    close(poll)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outbox, "nudge", lambda *args: None)  # the broker never took the nudge
        counting.tally_and_publish(poll.pk)
    assert pending(poll, outbox.RESULTS)
    return poll, voters


@pytest.mark.django_db
def test_a_crash_while_sending_loses_no_mail(published_poll_owing_results, monkeypatch):
    poll, voters = published_poll_owing_results

    class DeadConnection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_messages(self, messages):
            raise Crash("the SMTP connection died before the server took the mail")

    with monkeypatch.context() as patch:
        patch.setattr(notification_service, "get_connection", DeadConnection)
        with pytest.raises(Crash):
            sweep_by_beat()
    assert mail.outbox == []
    assert not Notification.objects.filter(item=poll).exists()
    assert pending(poll, outbox.RESULTS)

    sweep_by_beat(minutes=6)  # RETRY_AFTER after the crashed attempt
    assert [mails_to(voter) for voter in voters] == [1, 1, 1]
    assert not pending(poll, outbox.RESULTS)


@pytest.mark.django_db
def test_a_crash_after_sending_before_the_claim_commits_sends_again_rather_than_lose(
    published_poll_owing_results, monkeypatch
):
    """At least once: the server took the mail, the worker died before its transaction committed."""
    poll, voters = published_poll_owing_results
    real = notification_service.get_connection

    class DiesAfterSending:
        def __enter__(self):
            self.connection = real()
            return self

        def __exit__(self, *exc):
            return False

        def send_messages(self, messages):
            self.connection.send_messages(messages)
            raise Crash("the worker died after the server took the mail")

    with monkeypatch.context() as patch:
        patch.setattr(notification_service, "get_connection", DiesAfterSending)
        with pytest.raises(Crash):
            sweep_by_beat()
    assert not Notification.objects.filter(item=poll).exists()  # the claims rolled back with the crash
    assert pending(poll, outbox.RESULTS)

    sweep_by_beat(minutes=6)
    assert [mails_to(voter) for voter in voters] == [2, 2, 2]
    assert not pending(poll, outbox.RESULTS)


@pytest.mark.django_db
def test_a_crash_after_the_claims_commit_before_the_message_is_marked_sends_nothing_twice(
    published_poll_owing_results, monkeypatch
):
    poll, voters = published_poll_owing_results

    def crash(*args, **kwargs):
        raise Crash("the worker died before marking the mailing done")

    with monkeypatch.context() as patch:
        patch.setattr(tasks, "finish_mailing", crash)
        with pytest.raises(Crash):
            sweep_by_beat()
    assert [mails_to(voter) for voter in voters] == [1, 1, 1]
    assert pending(poll, outbox.RESULTS)

    swept = sweep_by_beat(minutes=6)["swept"]
    assert swept[outbox.RESULTS] == 1
    assert [mails_to(voter) for voter in voters] == [1, 1, 1]
    assert not pending(poll, outbox.RESULTS)


@pytest.mark.django_db
def test_a_handed_out_message_is_left_alone_until_retry_after():
    poll = make_poll(options=2, state=State.OPEN)
    with transaction.atomic():
        outbox.record(poll.pk, outbox.RESULTS)
    handed = []
    send = lambda kind, item_id: handed.append((kind, item_id)) or True  # noqa: E731
    assert outbox.sweep(send=send)[outbox.RESULTS] == 0  # just recorded: its nudge is on the way
    outbox.mark_attempt(poll.pk, outbox.RESULTS, timezone.now() + timedelta(minutes=3))
    assert outbox.sweep(now=timezone.now() + timedelta(minutes=4), send=send)[outbox.RESULTS] == 0
    assert outbox.sweep(now=timezone.now() + timedelta(minutes=6), send=send)[outbox.RESULTS] == 1
    assert handed == [(outbox.RESULTS, poll.pk)]


@pytest.mark.django_db
def test_an_opened_mailing_owed_after_the_item_closed_is_dropped():
    poll = make_poll(options=2, state=State.OPEN)
    person(Segment.CITIZEN, notify_new_items=True)
    with transaction.atomic():
        outbox.record(poll.pk, outbox.OPENED)
    close(poll)
    sweep_by_beat()
    assert mail.outbox == []
    assert not pending(poll, outbox.OPENED)
