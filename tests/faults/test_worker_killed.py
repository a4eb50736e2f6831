"""A worker killed with SIGKILL in the middle of a tally: after redelivery, exactly one complete result.

A real Celery worker (prefork, one child) on Redis runs the tally of a closed referendum. The
child stops inside the tally's transaction, after its Result row is inserted and the sealed ballot
box opened, before the commit (tests/faults/pausing_worker.py), and the test kills it with SIGKILL.
PostgreSQL rolls the transaction back; the task is acknowledged late and rejected on worker loss
(participation/tasks.py RETRY), so the broker hands it out again, and the next child counts once.

Needs PostgreSQL (the worker must see the test database) and Redis (PORTAL_TEST_REDIS_URL, a
database this test may empty).
"""

import os
import signal
import sys
import time

import pytest

from participation.models import AuditEntry, Result, State
from tests.answers import digest_of_lines, referendum_line
from tests.builders.items import close, make_referendum, question_and_options, vote_referendum
from tests.builders.users import person
from tests.ops.helpers import shared_database_url, start, stop

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

WAIT_SECONDS = 60
VOTERS = 3


def wait(condition, what, worker, log_path):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        assert worker.poll() is None, f"the worker exited:\n{log_path.read_text(errors='replace')[-3000:]}"
        time.sleep(0.1)
    raise AssertionError(f"{what} within {WAIT_SECONDS}s:\n{log_path.read_text(errors='replace')[-3000:]}")


@pytest.mark.django_db(transaction=True)
def test_a_tally_killed_mid_transaction_is_redelivered_and_counted_once(redis_url, tmp_path):
    import redis
    from celery import Celery

    referendum = make_referendum(options=2, state=State.OPEN)
    _question, (yes, no) = question_and_options(referendum)
    receipts = [vote_referendum(person(verified=True), referendum, option) for option in (yes, yes, no)]
    close(referendum)

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    marker = tmp_path / "paused.pid"
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hukoomi_portal.test_settings",
        "CELERY_BROKER_URL": redis_url,
        "DATABASE_URL": shared_database_url(),
        "FAULTS_PAUSE_FILE": str(marker),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "tests.faults.pausing_worker",
        "--pool=prefork",
        "--concurrency=1",
        "-Q",
        "tally",
        "--loglevel=INFO",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"faults-{os.getpid()}@%h",
    ]
    worker = start(command, env, log_path)
    try:
        sender = Celery("faults-sender", broker=redis_url, set_as_current=False)  # the project app stays current
        try:
            sender.send_task("participation.tally_item", args=[referendum.pk], queue="tally")
        finally:
            sender.close()

        wait(
            lambda: marker.exists() and marker.read_text().strip(),
            "the tally did not reach its pause",
            worker,
            log_path,
        )
        os.kill(int(marker.read_text()), signal.SIGKILL)  # the child, inside the tally's transaction
        assert not Result.objects.filter(item=referendum).exists()

        wait(
            lambda: Result.objects.filter(item=referendum).exists(), "no result after the redelivery", worker, log_path
        )
    finally:
        stop(worker)
    log = log_path.read_text(errors="replace")

    assert "signal 9" in log or "SIGKILL" in log, log  # the first child really died mid-task
    result = Result.objects.get(item=referendum)
    assert result.ballots == VOTERS
    yes_row, no_row = (row for row in result.counts["questions"][0]["options"] if not row.get("abstain"))
    assert (yes_row["votes"], no_row["votes"]) == (2, 1)
    assert result.ballots_digest == digest_of_lines(
        [referendum_line(receipt, option.position) for receipt, option in zip(receipts, (yes, yes, no), strict=True)]
    )
    assert AuditEntry.objects.filter(action=AuditEntry.Action.TALLY, object_id=str(referendum.pk)).count() == 1
