"""The database goes away while the portal is serving: a 503 page in the page's language with
Retry-After, never a 500; and when the database is back, the portal recovers by itself.

In-process tests make every query fail (connection.execute_wrapper), in both languages. The
restart test starts a PostgreSQL cluster of our own (tests/faults/services.py: initdb and pg_ctl
in a temporary folder, a free loopback port, trust auth), copies the test database into it, runs
gunicorn against it with persistent connections, stops the cluster while requests keep coming,
starts it again, and never restarts gunicorn. The machine's PostgreSQL is only read (pg_dump).
"""

import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory
from django.utils import translation

from hukoomi_portal.resilience import RETRY_AFTER_SECONDS
from hukoomi_portal.views import server_error
from tests.builders.items import make_poll
from tests.ops.helpers import free_port, start, stop

from .services import private_cluster

TITLES = {"ar": "الخدمة غير متاحة مؤقتًا", "en": "Service temporarily unavailable"}
START_SECONDS = 60
RECOVERY_SECONDS = 30
REQUEST_TIMEOUT = 10


def fail_every_query(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


def assert_unavailable_page(status, headers, body, lang):
    assert status == 503, (status, body[:500])
    assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "no-store" in headers["Cache-Control"]
    assert TITLES[lang] in body, body[:1000]
    assert f'lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}"' in body
    other = "en" if lang == "ar" else "ar"
    assert TITLES[other] not in body


@pytest.mark.django_db
def test_a_view_whose_queries_fail_answers_503_in_the_page_language(client, lang):
    poll = make_poll(questions=1, options=2)
    client.raise_request_exception = False
    with connection.execute_wrapper(fail_every_query):
        for path in (f"/{lang}/participate/", f"/{lang}/polls/{poll.slug}/", f"/{lang}/"):
            response = client.get(path)
            assert_unavailable_page(response.status_code, response.headers, response.content.decode(), lang)
    assert client.get(f"/{lang}/participate/").status_code == 200  # and back at once


def test_an_outage_outside_a_view_is_a_503_too(lang):
    """handler500 sees the exception being handled: a database outage there (a middleware, the session
    saved on the way out) is the same 503 page."""
    request = RequestFactory().get(f"/{lang}/participate/")
    with translation.override(lang):
        try:
            raise OperationalError("the database system is shutting down")
        except OperationalError:
            response = server_error(request)
    assert_unavailable_page(response.status_code, response.headers, response.content.decode(), lang)


def test_any_other_error_stays_a_500(lang):
    request = RequestFactory().get(f"/{lang}/participate/")
    with translation.override(lang):
        try:
            raise ValueError("a bug")
        except ValueError:
            response = server_error(request)
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


# ---------------------------------------------------------------------------
# A real restart
# ---------------------------------------------------------------------------


def fetch(base, path, lang):
    request = urllib.request.Request(base + path, headers={"Accept-Language": lang})  # noqa: S310 (loopback)
    try:
        response = urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT)  # noqa: S310 (loopback)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        return response.status, response.headers, response.read().decode("utf-8", "replace")


def wait_for(base, server, status, deadline_seconds, lang="en"):
    deadline = time.monotonic() + deadline_seconds
    last = None
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited:\n" + server.log_path.read_text(errors="replace")[-3000:]
        try:
            last = fetch(base, f"/{lang}/participate/", lang)
            if last[0] == status:
                return last
        except OSError as error:
            last = error
        time.sleep(0.2)
    raise AssertionError(f"no {status} within {deadline_seconds}s; last answer: {last!r}")


def copy_test_database(cluster, name):
    """pg_dump of this test's database (pytest-django's test_<name>) into the private cluster."""
    db = connection.settings_dict
    cluster.psql("-d", "postgres", "-c", f'CREATE DATABASE "{name}"')
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    dump = subprocess.run(  # noqa: S603 (fixed command)
        [
            f"{cluster.bin}/pg_dump",
            "-h",
            db.get("HOST") or "127.0.0.1",
            "-p",
            str(db.get("PORT") or 5432),
            "-U",
            db.get("USER") or "postgres",
            "--no-owner",
            "--no-privileges",
            db["NAME"],
        ],
        check=True,
        capture_output=True,
        timeout=60,
        env=env,
    )
    cluster.psql("-d", name, "-q", input=dump.stdout)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_restarts_under_gunicorn_503_then_recovery_by_itself(tmp_path):
    poll = make_poll(questions=1, options=2)
    with private_cluster() as cluster:
        copy_test_database(cluster, "portal")
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "hukoomi_portal.test_settings",
            "DATABASE_URL": cluster.url("portal"),
            # Persistent connections: each worker holds one that the restart breaks under it.
            "DATABASE_CONN_MAX_AGE": "600",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_TIMEOUT": "30",
        }
        log_path = tmp_path / "gunicorn.log"
        server = start([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env, log_path)
        server.log_path = log_path
        base = f"http://127.0.0.1:{port}"
        answers = []
        stop_traffic = threading.Event()

        def traffic():
            """Requests in flight the whole time: every answer is a 200 or a 503, never a 500 or a reset."""
            paths = [f"/ar/polls/{poll.slug}/", f"/en/polls/{poll.slug}/", "/ar/participate/", "/en/participate/"]
            n = 0
            while not stop_traffic.is_set():
                path = paths[n % len(paths)]
                n += 1
                try:
                    answers.append((path, fetch(base, path, path[1:3])[0]))
                except OSError as error:
                    answers.append((path, repr(error)))

        try:
            wait_for(base, server, 200, START_SECONDS)
            for _ in range(6):  # every worker opens its persistent connection
                assert fetch(base, "/en/participate/", "en")[0] == 200
            worker = threading.Thread(target=traffic, daemon=True)
            worker.start()
            try:
                cluster.stop()  # fast shutdown: open connections are terminated under the workers
                for lang in ("ar", "en"):
                    assert_unavailable_page(*fetch(base, f"/{lang}/polls/{poll.slug}/", lang), lang)
                # Keep the database down until the traffic too has been answered during the outage (its
                # request may have been queued behind ours); if it never gets a 503, the assertion below says so.
                deadline = time.monotonic() + REQUEST_TIMEOUT
                while not any(status == 503 for _path, status in list(answers)) and time.monotonic() < deadline:
                    time.sleep(0.05)
                cluster.start()
                recovered = wait_for(base, server, 200, RECOVERY_SECONDS)
                assert poll.title_en in fetch(base, f"/en/polls/{poll.slug}/", "en")[2]
            finally:
                stop_traffic.set()
                worker.join(REQUEST_TIMEOUT + 5)
            assert server.poll() is None, "gunicorn must not have to be restarted"
        finally:
            stop(server)
    log = log_path.read_text(errors="replace")
    assert recovered[0] == 200
    statuses = {status for _path, status in answers}
    assert statuses <= {200, 503}, (sorted(statuses, key=str), log[-3000:])
    assert 503 in statuses and 200 in statuses, statuses
