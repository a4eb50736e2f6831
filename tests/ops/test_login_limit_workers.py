"""allauth's login limit (5 failed attempts per 5 minutes per address) holds across three gunicorn workers.

gunicorn runs the production settings (debug off) with the shared Redis cache, as `make serve`
does; a locally kept count would let each worker count alone (15 attempts with 3 workers, issue 10).
Every response names the worker that served it (tests/ops/pid_wsgi.py), so the test shows that
the attempts were spread over the workers and still only five were let through to the password check.

Needs PostgreSQL (gunicorn must see the test database) and Redis.
"""

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import UserFactory
from tests.ops.helpers import free_port, shared_database_url, start, stop

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="gunicorn needs the shared test database: DATABASE_URL=postgres://..."),
    pytest.mark.redis,
]

WORKERS = 3
LIMIT = 5
START_SECONDS = 60
PROJECT = settings.BASE_DIR
TOO_MANY = "Too many failed login attempts"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(base, path, cookies, data=None):
    headers = {"Accept-Language": "en"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(base + path, data=body, headers=headers)  # noqa: S310 (loopback)
    try:
        response = urllib.request.build_opener(NoRedirect).open(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return response.status, response.headers, response.read().decode("utf-8", "replace")


def attempt(base, email, password):
    """One sign-in attempt from a fresh browser: (worker pid, status, refused by the limit)."""
    cookies = {}
    _status, _headers, page = fetch(base, "/en/accounts/login/", cookies)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    status, headers, page = fetch(
        base, "/en/accounts/login/", cookies, {"csrfmiddlewaretoken": token, "login": email, "password": password}
    )
    return headers["X-Worker-Pid"], status, TOO_MANY in page


def wait_until_up(base, server, deadline):
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited at start-up"
        try:
            if fetch(base, "/healthz", {})[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("gunicorn did not answer in time")


@pytest.mark.django_db(transaction=True)
def test_the_login_limit_holds_across_three_gunicorn_workers(redis_url, tmp_path, password):
    import redis

    person = UserFactory()
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "hukoomi_portal.settings",  # production settings, not the suite's
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "PORTAL_BALLOT_BOX_KEY": os.environ.get("PORTAL_BALLOT_BOX_KEY", secrets.token_urlsafe(32)),
        "PORTAL_AUDIT_KEY": os.environ.get("PORTAL_AUDIT_KEY", secrets.token_urlsafe(32)),
        "DATABASE_URL": shared_database_url(),
        "CELERY_BROKER_URL": redis_url,
        "REDIS_URL": redis_url,
        "EMAIL_HOST": "mail.invalid",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(WORKERS),
        # Each worker is replaced after 3 requests: the attempts are served by several processes whatever the
        # kernel's choice of worker (deterministic), and a worker that restarts has forgotten anything it kept.
        "GUNICORN_MAX_REQUESTS": "3",
        "GUNICORN_MAX_REQUESTS_JITTER": "0",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tests.ops.pid_wsgi:application"]
    # With debug off, static files come from the collected manifest, as in production.
    subprocess.run(  # noqa: S603 (fixed command, our own interpreter)
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=PROJECT, env=env, check=True, timeout=300
    )
    server = start(command, env, tmp_path / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, time.monotonic() + START_SECONDS)
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
