"""`make run`'s worker: Celery with embedded beat on the embedded filesystem broker, nothing else.

The worker is started with the command ops/devserver.py uses, under the development settings
(debug on, no broker URL given: the filesystem broker in a folder of its own) on a SQLite file.
Nobody sends it anything: beat finds the poll past its closing time, the worker closes it,
the tally goes through the broker to the tally queue, and the results e-mail through the email
queue. Runs on any machine with python3: no Redis, no PostgreSQL.
"""

import os
import sqlite3
import subprocess
import sys
import time

from django.conf import settings

from ops.devserver import worker_command
from tests.ops.helpers import start, stop

WAIT_SECONDS = 90

SETUP = """
import django
django.setup()
from accounts.models import Segment
from participation.models import State
from tests.builders.items import close, make_poll, question_and_options, vote
from tests.builders.users import person
poll = make_poll(options=2, state=State.OPEN, slug="embedded-broker-poll")
_question, (first, _second) = question_and_options(poll)
voter = person(Segment.CITIZEN, notify_results=True, email="embedded.voter@example.qa")
vote(voter, poll, [first])
close(poll)
"""


def development_env(tmp_path):
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "hukoomi_portal.settings",
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "true",
        "PORTAL_BROKER_DIR": str(tmp_path / "broker"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
        "PORTAL_BEAT_SECONDS": "1",
    }


def run(env, *args):
    result = subprocess.run(  # noqa: S603 (fixed commands, our own interpreter)
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def published(database):
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT i.state, r.ballots, (SELECT COUNT(*) FROM participation_notification n WHERE n.item_id = i.id) "
            "FROM participation_item i LEFT JOIN participation_result r ON r.item_id = i.id WHERE i.slug = ?",
            ("embedded-broker-poll",),
        ).fetchone()
    return row


def test_a_worker_with_beat_on_the_filesystem_broker_closes_tallies_and_publishes(tmp_path):
    env = development_env(tmp_path)
    run(env, "manage.py", "migrate", "--noinput", "-v0")
    run(env, "-c", SETUP)
    database = tmp_path / "dev.sqlite3"
    assert published(database)[:2] == ("open", None)

    worker = start(worker_command(tmp_path / "broker"), env, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        row = published(database)
        while time.monotonic() < deadline and worker.poll() is None and row != ("published", 1, 1):
            time.sleep(0.25)
            row = published(database)
    finally:
        stop(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")

    assert row == ("published", 1, 1), f"state, ballots, notifications = {row}\n{log}"
    # Each step went through the broker as its own message, to its own queue.
    for task in ("participation.open_and_close_due", "participation.tally_item", "participation.send_notifications"):
        assert f"Task {task}[" in log and "succeeded" in log, log
    assert "filesystem://" in log, log
