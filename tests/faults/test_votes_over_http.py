"""Votes over HTTP, at once, through gunicorn on the shared PostgreSQL test database.

- 200 distinct voters at the same moment: 200 ballots, each answered with the redirect to thanks.
- 20 parallel votes by one person: 1 ballot, and exactly one answer that says it was counted.
The service-level races (two ballots by one person, a ballot racing the close) are in
tests/participation/test_concurrency.py; these add the whole request path: sessions, CSRF,
several web processes and their own database connections.
"""

import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from participation.models import PollBallot
from tests.builders.items import make_poll, single_choices
from tests.factories import VerifiedUserFactory
from tests.ops.helpers import fetch, free_port, shared_database_url, start, stop, wait_until_up

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START_SECONDS = 60
THREADS = 40


def signed_in_session(user):
    """A database session signed in as `user`, as django.contrib.auth.login would leave it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def post_vote(base, path, session_key, choices):
    token = secrets.token_hex(16)  # any 32-character token: the cookie and the field must match
    cookies = {"sessionid": session_key, "csrftoken": token}
    status, headers, _page = fetch(base, path, cookies, {"csrfmiddlewaretoken": token, **choices})
    return status, headers.get("Location", "")


@pytest.fixture
def portal(tmp_path):
    """gunicorn with four sync workers on the test database; its base URL."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "hukoomi_portal.test_settings",
        "DATABASE_URL": shared_database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "4",
    }
    log_path = tmp_path / "gunicorn.log"
    server = start([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, log_path, time.monotonic() + START_SECONDS)
        yield base
    finally:
        stop(server)


def form(poll):
    return {f"question-{q}": v for q, v in single_choices(poll).items()}


def test_200_distinct_voters_at_once_leave_200_ballots(portal):
    poll = make_poll(questions=1, options=2)
    sessions = [signed_in_session(VerifiedUserFactory()) for _ in range(200)]
    path = f"/en/polls/{poll.slug}/"
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(lambda key: post_vote(portal, path, key, form(poll)), sessions))
    assert all(answer == (302, f"/en/polls/{poll.slug}/thanks/") for answer in answers), answers
    assert PollBallot.objects.filter(item=poll).count() == 200


def test_20_parallel_votes_by_one_person_leave_one_ballot(portal):
    poll = make_poll(questions=1, options=2)
    voter = VerifiedUserFactory()
    session_key = signed_in_session(voter)
    path = f"/ar/polls/{poll.slug}/"
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _n: post_vote(portal, path, session_key, form(poll)), range(20)))
    counted = [answer for answer in answers if answer[0] == 302]
    assert len(counted) == 1, answers
    assert all(400 <= status < 500 or status == 200 for status, _location in answers if status != 302), answers
    assert PollBallot.objects.filter(item=poll, voter=voter).count() == 1
