"""A real Celery worker, on the Redis broker, closes and tallies an item whose closing time has passed.

Needs PostgreSQL (the worker is another process and must see the test database) and Redis
(127.0.0.1:6379, database 15, or PORTAL_TEST_REDIS_URL). Without Redis the test is skipped, or fails
when PORTAL_REQUIRE_SERVICES=1.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Segment
from participation.models import Item, Notification, Result, State
from tests.answers import digest_of_lines, poll_line
from tests.builders.items import make_poll, question_and_options, vote
from tests.builders.users import person
from tests.ops.helpers import shared_database_url

SHARED_DATABASE_REASON = "the worker needs a database it can share: run with DATABASE_URL=postgres://..."
WAIT_SECONDS = 60
CLOSES_IN_SECONDS = 3

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason=SHARED_DATABASE_REASON),
    pytest.mark.redis,
]


def purge(broker_url):
    import redis

    client = redis.Redis.from_url(broker_url)
    try:
        client.flushdb()
    finally:
        client.close()


def start_worker(broker_url, log_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hukoomi_portal.test_settings",
        "CELERY_BROKER_URL": broker_url,
        "DATABASE_URL": shared_database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "hukoomi_portal",
        "worker",
        "--pool=solo",
        "-Q",
        "celery,tally,email",
        "--loglevel=INFO",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"lifecycle-test-{os.getpid()}@%h",
    ]
    log = open(log_path, "w")  # noqa: SIM115  (closed in stop_worker)
    process = subprocess.Popen(  # noqa: S603  (fixed command, our own interpreter)
        command, cwd=str(Path(settings.BASE_DIR)), env=env, stdout=log, stderr=subprocess.STDOUT
    )
    process.log = log
    return process


def stop_worker(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    process.log.close()


def send(broker_url, task_name):
    """Send through the broker from a separate, isolated Celery app (the project's app stays eager)."""
    from celery import Celery

    # set_as_current=False: otherwise shared tasks would go on using this app (and its broker) after the test.
    sender = Celery("lifecycle-test-sender", broker=broker_url, set_as_current=False)
    try:
        sender.send_task(task_name, queue="celery")
    finally:
        sender.close()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_closes_and_tallies_an_item_past_its_closing_time(redis_url, tmp_path):
    now = timezone.now()
    poll = make_poll(
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(seconds=CLOSES_IN_SECONDS),
        options=2,
        state=State.OPEN,
    )
    _q, (first, _second) = question_and_options(poll)
    voter = person(Segment.CITIZEN, notify_results=True)
    vote(voter, poll, [first])  # while it is open
    assert Item.objects.get(pk=poll.pk).state == State.OPEN

    purge(redis_url)
    log_path = tmp_path / "worker.log"
    worker = start_worker(redis_url, log_path)
    try:
        # Time passes: the closing time goes by with nobody touching the item.
        time.sleep(max(0.0, (poll.closes_at - timezone.now()).total_seconds()) + 0.5)
        assert Item.objects.get(pk=poll.pk).state == State.OPEN
        assert not Result.objects.filter(item=poll).exists()

        send(redis_url, "participation.open_and_close_due")  # what beat sends every minute

        deadline = time.monotonic() + WAIT_SECONDS
        published = False
        while time.monotonic() < deadline and worker.poll() is None:
            if (
                Item.objects.filter(pk=poll.pk, state=State.PUBLISHED).exists()
                and Result.objects.filter(item=poll).exists()
            ):
                published = True
                break
            time.sleep(0.25)
        # The "results published" e-mail goes through the email queue just after.
        while published and time.monotonic() < deadline and not Notification.objects.filter(item=poll).exists():
            time.sleep(0.25)
    finally:
        stop_worker(worker)
    output = log_path.read_text(errors="replace")

    assert published, f"the worker did not close and tally {poll.slug} within {WAIT_SECONDS}s:\n{output}"
    result = Result.objects.get(item=poll)
    assert result.ballots == 1
    assert result.tallied_at >= poll.closes_at
    assert result.ballots_digest == digest_of_lines([poll_line(1, 1, "citizen")])
    assert Notification.objects.filter(item=poll, user=voter, kind=Notification.Kind.RESULTS).exists(), output
    assert "participation.tally_item" in output, output


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_does_the_work_owed_while_the_broker_was_down(redis_url, tmp_path):
    """The admin closed the poll while the broker was down: only the outbox row remembers the tally.
    Beat's next job, on a real worker, sweeps it: counted, published, each voter e-mailed once."""
    from participation.models import OutboxMessage
    from participation.services import lifecycle, outbox

    now = timezone.now()
    poll = make_poll(opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1), options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    voter = person(Segment.CITIZEN, notify_results=True)
    vote(voter, poll, [first])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outbox, "send_now", lambda kind, item_id: False)  # the broker refused the nudge
        lifecycle.close_item_now(None, Item.objects.get(pk=poll.pk))
    # Recorded a while ago: the sweep hands out only what is RETRY_AFTER old.
    OutboxMessage.objects.filter(item=poll).update(created_at=now - outbox.RETRY_AFTER - timedelta(minutes=1))
    assert not Result.objects.filter(item=poll).exists()

    purge(redis_url)
    log_path = tmp_path / "worker.log"
    worker = start_worker(redis_url, log_path)
    try:
        send(redis_url, "participation.open_and_close_due")
        deadline = time.monotonic() + WAIT_SECONDS
        done = False
        while time.monotonic() < deadline and worker.poll() is None:
            if (
                not OutboxMessage.objects.filter(done_at__isnull=True).exists()
                and Notification.objects.filter(item=poll).exists()
            ):
                done = True
                break
            time.sleep(0.25)
    finally:
        stop_worker(worker)
    output = log_path.read_text(errors="replace")

    assert done, f"the worker did not do the owed work within {WAIT_SECONDS}s:\n{output}"
    assert Item.objects.get(pk=poll.pk).state == State.PUBLISHED
    assert Result.objects.get(item=poll).ballots == 1
    assert Notification.objects.filter(item=poll, user=voter, kind=Notification.Kind.RESULTS).count() == 1
    assert set(OutboxMessage.objects.filter(item=poll).values_list("kind", flat=True)) == {outbox.TALLY, outbox.RESULTS}
