"""allauth's login limit (5 failed attempts per 5 minutes per address) holds across three gunicorn workers.

gunicorn runs the production settings (debug off) with the shared Redis cache, as `make serve`
does; a locally kept count would let each worker count alone (15 attempts with 3 workers, issue 10).
Every response names the worker that served it (tests/ops/pid_wsgi.py), so the test shows that
the attempts were spread over the workers and still only five were let through to the password check.

Needs PostgreSQL (gunicorn must see the test database) and Redis.
"""

import re
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import UserFactory
from tests.ops.helpers import fetch, free_port, server_environment, start, stop, wait_until_up

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="gunicorn needs the shared test database: DATABASE_URL=postgres://..."
    ),
    pytest.mark.redis,
]

WORKERS = 3
LIMIT = 5
START_SECONDS = 60
PROJECT = settings.BASE_DIR
TOO_MANY = "Too many failed login attempts"


def attempt(base, email, password):
    """One sign-in attempt from a fresh browser: (worker pid, status, refused by the limit)."""
    cookies = {}
    _status, _headers, page = fetch(base, "/en/accounts/login/", cookies)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    status, headers, page = fetch(
        base, "/en/accounts/login/", cookies, {"csrfmiddlewaretoken": token, "login": email, "password": password}
    )
    return headers["X-Worker-Pid"], status, TOO_MANY in page


@pytest.mark.django_db(transaction=True)
def test_the_login_limit_holds_across_three_gunicorn_workers(redis_url, tmp_path, password):
    import redis

    person = UserFactory()
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    port = free_port()
    env = server_environment(
        port,
        redis_url,
        tmp_path / "static",
        WEB_CONCURRENCY=str(WORKERS),
        # Each worker is replaced after 3 requests: the attempts are served by several processes whatever the
        # kernel's choice of worker (deterministic), and a worker that restarts has forgotten anything it kept.
        GUNICORN_MAX_REQUESTS="3",
        GUNICORN_MAX_REQUESTS_JITTER="0",
    )
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tests.ops.pid_wsgi:application"]
    # With debug off, static files come from the collected manifest, as in production.
    subprocess.run(  # noqa: S603 (fixed command, our own interpreter)
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=PROJECT,
        env=env,
        check=True,
        timeout=300,
    )
    server = start(command, env, tmp_path / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, tmp_path / "gunicorn.log", time.monotonic() + START_SECONDS)
        # 10 attempts stay under the per-address limit (10 per minute), so only the per-login limit refuses.
        wrong = [attempt(base, person.email, "not-" + password) for _ in range(LIMIT + 4)]
        right = attempt(base, person.email, password)
    finally:
        stop(server)
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")

    attempts = [*wrong, right]
    assert all(status in (200, 302) for _pid, status, _refused in attempts), log
    assert [refused for _pid, _status, refused in wrong] == [False] * LIMIT + [True] * 4, attempts
    # Even the right password is refused once the limit is reached: it is never checked.
    assert right[1] == 200 and right[2], right
    # The attempts really were served by different worker processes, each of which alone would have let them through.
    assert len({pid for pid, _status, _refused in attempts}) >= 2, attempts
