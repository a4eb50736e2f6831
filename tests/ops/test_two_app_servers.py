"""Two app servers behind one load balancer: what they share (PostgreSQL and Redis) must be all there is.

Two gunicorn processes on two ports run the production settings (debug off) against the shared test
database and one Redis, as two machines behind a load balancer would. A browser that is sent to either
one at random must not be able to tell, and an attacker who spreads requests over both must gain nothing:

- a session opened on one server is signed in on the other, and signing out on one ends it on both;
- allauth's login limit and the feedback throttle count the attempts made on both servers together;
- one person posting the same vote to both servers at once leaves one ballot.

The requests alternate between the two ports, so each test is served by both servers by construction.
Needs PostgreSQL and Redis.
"""

import re
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from participation import feedback
from participation.models import PollBallot
from tests.builders.items import make_poll, single_choices
from tests.factories import UserFactory, VerifiedUserFactory
from tests.ops import helpers
from tests.ops.helpers import free_port, server_environment, start, stop, wait_until_up

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the servers need the shared test database: DATABASE_URL=postgres://...",
    ),
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

START_SECONDS = 90
LOGIN_LIMIT = 5  # allauth: 5 failed attempts per 5 minutes per login (settings.ACCOUNT_RATE_LIMITS)
TOO_MANY = "Too many failed login attempts"
PUBLIC_HOST = "e-participation.example.qa"


def fetch(base, path, cookies, data=None, headers=None):
    # A load balancer passes the public Host to every server (allauth's login limit is kept per site).
    return helpers.fetch(base, path, cookies, data, {"Host": PUBLIC_HOST, **(headers or {})})


def csrf_token(base, path, cookies):
    _status, _headers, page = fetch(base, path, cookies)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def sign_in(base, cookies, email, password):
    token = csrf_token(base, "/en/accounts/login/", cookies)
    return fetch(
        base, "/en/accounts/login/", cookies, {"csrfmiddlewaretoken": token, "login": email, "password": password}
    )


def production_user(factory, password):
    """A user whose password the production settings can check (the suite hashes with MD5 for speed)."""
    person = factory()
    person.password = PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt())
    person.save(update_fields=["password"])
    return person


@pytest.fixture
def two_servers(redis_url, tmp_path):
    """Two gunicorn servers (two workers each) on the test database and one Redis: their base URLs."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # no rate-limit count left over from another test
    client.close()
    ports = [free_port(), free_port()]
    static_root = tmp_path / "static"
    environments = [
        server_environment(
            port, redis_url, static_root, DJANGO_ALLOWED_HOSTS=f"{PUBLIC_HOST},127.0.0.1", WEB_CONCURRENCY="2"
        )
        for port in ports
    ]
    subprocess.run(  # noqa: S603 (fixed command, our own interpreter)
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=settings.BASE_DIR,
        env=environments[0],
        check=True,
        timeout=300,
    )
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tests.ops.pid_wsgi:application"]
    servers, logs = [], []
    try:
        for index, environment in enumerate(environments):
            logs.append(tmp_path / f"server-{index}.log")
            servers.append(start(command, environment, logs[-1]))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + START_SECONDS
        for base, server, log_path in zip(bases, servers, logs, strict=True):
            wait_until_up(base, server, log_path, deadline)
        yield bases
    finally:
        for server in servers:
            stop(server)


def test_a_session_opened_on_one_server_is_signed_in_on_the_other(two_servers, password):
    first, second = two_servers
    person = production_user(UserFactory, password)
    cookies = {}
    status, headers, page = sign_in(first, cookies, person.email, password)
    assert status == 302, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))[-1500:]
    status, _headers, page = fetch(second, "/en/profile/", cookies)
    assert status == 200 and person.email in page, (status, page[:500])

    token = csrf_token(second, "/en/accounts/logout/", cookies)
    status, _headers, _page = fetch(second, "/en/accounts/logout/", cookies, {"csrfmiddlewaretoken": token})
    assert status == 302
    status, headers, _page = fetch(first, "/en/profile/", cookies)
    assert status == 302 and "/accounts/login/" in headers["Location"], (status, dict(headers))


def test_the_login_limit_counts_attempts_on_both_servers(two_servers, password):
    person = production_user(UserFactory, password)
    answers = []
    for attempt in range(LOGIN_LIMIT + 2):
        base = two_servers[attempt % 2]
        status, headers, page = sign_in(base, {}, person.email, "not-" + password)
        answers.append((base, status, TOO_MANY in page))
    # Each server saw at most three wrong passwords, under the limit alone; together they saw seven.
    assert [refused for _base, _status, refused in answers] == [False] * LOGIN_LIMIT + [True] * 2, answers
    status, _headers, page = sign_in(two_servers[1], {}, person.email, password)
    assert status == 200 and TOO_MANY in page  # the right password is not even checked


def test_the_feedback_throttle_counts_answers_on_both_servers(two_servers):
    # The client window is fixed (participation.feedback.CLIENT_WINDOW_SECONDS from the epoch) and the servers
    # run on the real clock: with less than a minute of the window left, wait for the next one, so that the
    # answers (a few seconds of requests) all fall in one window.
    window = feedback.CLIENT_WINDOW_SECONDS
    left = window - time.time() % window
    if left < 60:
        time.sleep(left + 0.5)
    statuses = []
    for answer in range(feedback.CLIENT_MAX_ANSWERS + 2):
        base = two_servers[answer % 2]
        token = secrets.token_hex(16)  # a new browser every time: only the per-client count can refuse it
        status, _headers, _page = fetch(
            base,
            "/en/feedback/",
            {"csrftoken": token},
            {"csrfmiddlewaretoken": token, "path": "/en/", "answer": "yes", "website": ""},
            headers={"Accept": "application/json"},
        )
        statuses.append(status)
    assert statuses[: feedback.CLIENT_MAX_ANSWERS] == [200] * feedback.CLIENT_MAX_ANSWERS, statuses
    assert statuses[feedback.CLIENT_MAX_ANSWERS :] == [429, 429], statuses


def test_one_person_voting_on_both_servers_at_once_leaves_one_ballot(two_servers, password):
    poll = make_poll(questions=1, options=2)
    voter = production_user(VerifiedUserFactory, password)
    cookies = {}
    assert sign_in(two_servers[0], cookies, voter.email, password)[0] == 302
    path = f"/en/polls/{poll.slug}/"
    tokens = {base: csrf_token(base, path, dict(cookies)) for base in two_servers}
    choices = {f"question-{q}": v for q, v in single_choices(poll).items()}

    def vote(n):
        base = two_servers[n % 2]
        return base, fetch(base, path, dict(cookies), {"csrfmiddlewaretoken": tokens[base], **choices})[:2]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(vote, range(16)))
    counted = [(base, status) for base, (status, _headers) in answers if status == 302]
    assert len(counted) == 1, answers
    assert PollBallot.objects.filter(item=poll, voter=voter).count() == 1
    # Whichever server counted it, the other one says so.
    other = two_servers[1] if counted[0][0] == two_servers[0] else two_servers[0]
    status, _headers, page = fetch(other, path, dict(cookies))
    assert status == 200 and "You have already taken part" in page
