"""Processes for the operations tests: a free port, the test database's URL, the production environment,
start, wait and stop, and a request without a browser."""

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shared_database_url():
    """The URL of the database this test runs on (pytest-django's test_<name>), for another process."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


# One set of keys per test run, so that every server a test starts shares them, as a deployment shares one
# environment file.
SECRET_KEY = secrets.token_urlsafe(50)
BALLOT_BOX_KEY = os.environ.get("PORTAL_BALLOT_BOX_KEY", secrets.token_urlsafe(32))
AUDIT_KEY = os.environ.get("PORTAL_AUDIT_KEY", secrets.token_urlsafe(32))


def server_environment(port, redis_url, static_root, **overrides):
    """The environment of a gunicorn server on `port` with the production settings (debug off)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "hukoomi_portal.settings",  # production settings, not the suite's
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "PORTAL_BALLOT_BOX_KEY": BALLOT_BOX_KEY,
        "PORTAL_AUDIT_KEY": AUDIT_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": shared_database_url(),
        "CELERY_BROKER_URL": redis_url,
        "REDIS_URL": redis_url,
        "EMAIL_HOST": "mail.invalid",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "DJANGO_STATIC_ROOT": str(static_root),
        **overrides,
    }


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(base, path, cookies, data=None, headers=None):
    """One request with a cookie jar (a dict) that takes the answer's cookies: (status, headers, text)."""
    sent = {"Accept-Language": "en", **(headers or {})}
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    request = urllib.request.Request(base + path, data=body, headers=sent)  # noqa: S310 (loopback)
    try:
        response = urllib.request.build_opener(NoRedirect).open(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, response.read().decode("utf-8", "replace")


def wait_until_up(base, server, log_path, deadline):
    """Wait for the server's health check to answer; fail with the end of its log if it exits or is late."""
    while time.monotonic() < deadline:
        assert server.poll() is None, log_path.read_text(errors="replace")[-3000:]
        try:
            if fetch(base, "/healthz", {})[0] == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    raise AssertionError(f"{base} did not answer in time:\n" + log_path.read_text(errors="replace")[-3000:])


def start(command, env, log_path):
    """Start a process in its own process group (so that its children stop with it), logging to a file."""
    log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
    process = subprocess.Popen(  # noqa: S603 (fixed commands, our own interpreter)
        command, cwd=str(settings.BASE_DIR), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    process.log = log
    return process


def stop(process, timeout=20):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    process.log.close()
