"""The operator's smoke test: the portal installed from requirements.txt alone, run as production runs it.

Run it with the Python of a virtual environment built from requirements.txt and nothing else
(CI does, `make smoke` does): standard library and the app, no test tools. It

1. writes a production .env (debug off, fresh keys, Redis broker and cache, an SMTP host) in a
   temporary folder, re-creates an empty PostgreSQL database, migrates and collects static files;
2. starts what an operator starts: gunicorn from gunicorn.conf.py, a Celery worker, Celery beat
   (every PORTAL_BEAT_SECONDS, shortened here), and a tiny SMTP server of its own standing in for
   the mail relay;
3. creates a poll that closes in a few seconds and a voter, signs the voter in and votes over HTTP
   (login form, CSRF cookie and token, behind an HTTPS proxy as deployed);
4. waits, without touching anything, for beat and the worker to close the poll by the clock,
   tally it and publish it, and for the results e-mail to reach the SMTP server;
5. reads the results page over HTTP in both languages and checks the stored ballots digest;
6. stops everything it started, also on failure, and prints the logs of what failed.

Bounded in time (SMOKE_TIMEOUT seconds, 300 by default). Loopback only.

Environment (defaults in brackets):
  SMOKE_DATABASE_URL  [postgres://postgres@127.0.0.1:5432/hukoomi_smoke]  dropped and re-created
  SMOKE_BROKER_URL    [redis://127.0.0.1:6379/13]  flushed
  SMOKE_CACHE_URL     [redis://127.0.0.1:6379/14]  flushed
  SMOKE_TIMEOUT       [300]
"""

import html
import http.cookies
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent

DATABASE_URL = os.environ.get("SMOKE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hukoomi_smoke")
BROKER_URL = os.environ.get("SMOKE_BROKER_URL", "redis://127.0.0.1:6379/13")
CACHE_URL = os.environ.get("SMOKE_CACHE_URL", "redis://127.0.0.1:6379/14")
TIMEOUT = int(os.environ.get("SMOKE_TIMEOUT", "300"))
BEAT_SECONDS = 2
CLOSES_IN_SECONDS = 8
VOTER_EMAIL = "smoke.voter@example.qa"
VOTER_PASSWORD = "Smoke-Test-Password-" + secrets.token_hex(8)


class SmokeFailure(Exception):
    pass


def step(message):
    print(f"smoke: {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# A tiny SMTP server: the mail relay of a real deployment, reduced to what Django's SMTP backend says
# ---------------------------------------------------------------------------


class SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 smoke ESMTP")
        recipients, in_data, lines = [], False, []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if in_data:
                if line == ".":
                    self.server.messages.append({"to": recipients, "data": "\n".join(lines)})
                    recipients, in_data, lines = [], False, []
                    self.reply("250 queued")
                else:
                    lines.append(line[1:] if line.startswith("..") else line)
                continue
            verb = line[:4].upper()
            if verb in {"EHLO", "HELO"}:
                self.reply("250 smoke")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                in_data = True
                self.reply("354 go ahead")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RSET, NOOP
                self.reply("250 ok")


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SMTPHandler)
        self.messages = []


# ---------------------------------------------------------------------------
# HTTP: a browser reduced to cookies, CSRF and no redirects followed silently
# ---------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Talks to gunicorn as the TLS-terminating proxy would forward (X-Forwarded-Proto: https)."""

    def __init__(self, base):
        self.base = base
        self.origin = "https://" + urllib.parse.urlsplit(base).netloc
        self.cookies = {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, path, data=None):
        headers = {"X-Forwarded-Proto": "https", "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers.update({"Origin": self.origin, "Referer": self.origin + path,
                            "Content-Type": "application/x-www-form-urlencoded"})
        req = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310 (our loopback server)
        try:
            response = self.opener.open(req, timeout=30)
        except urllib.error.HTTPError as error:  # 3xx (not followed) and 4xx/5xx
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, response.read().decode("utf-8", "replace")

    def csrf_token(self, page):
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not match:
            raise SmokeFailure("no CSRF token in the form")
        return match.group(1)


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------


class Processes:
    """Every process the smoke test starts, each in its own process group, all stopped in stop_all()."""

    def __init__(self, folder, env):
        self.folder, self.env, self.started = folder, env, []

    def start(self, name, command):
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 (closed in stop_all)
        process = subprocess.Popen(  # noqa: S603 (fixed commands from this venv)
            command, cwd=PROJECT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append((name, process, log))
        return process

    def check_alive(self):
        for name, process, _log in self.started:
            if process.poll() is not None:
                raise SmokeFailure(f"{name} exited with status {process.returncode}")

    def stop_all(self):
        for _name, process, _log in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process, log in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                step(f"{name} did not stop on SIGTERM; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            log.close()

    def logs(self):
        return {name: (self.folder / f"{name}.log").read_text(errors="replace") for name, _p, _l in self.started}


def run(env, *args, timeout=180):
    result = subprocess.run(  # noqa: S603 (fixed commands from this venv)
        [PYTHON, *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise SmokeFailure(f"{' '.join(args[:3])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def django(env, code, timeout=120):
    """Run code with the app's models (as `manage.py shell` would) and return the JSON it prints last."""
    out = run(env, "-c", "import django, json\ndjango.setup()\n" + code, timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])


def recreate_database(url):
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise SmokeFailure(f"refusing to drop a database named {name!r}")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(*urls):
    import redis

    for url in urls:
        client = redis.Redis.from_url(url, socket_connect_timeout=5)
        try:
            client.flushdb()
        finally:
            client.close()


def wait_for(what, predicate, deadline, processes, interval=0.5):
    while time.monotonic() < deadline:
        processes.check_alive()
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SmokeFailure(f"timed out waiting for {what}")


# ---------------------------------------------------------------------------
# The scenario
# ---------------------------------------------------------------------------

CREATE_POLL = """
from datetime import timedelta
from allauth.account.models import EmailAddress
from django.utils import timezone
from accounts.models import User
from participation.models import Entity, Option, Poll, Question, State

now = timezone.now()
voter = User.objects.create_user(
    {email!r}, {password!r}, full_name="Smoke Voter", segment="citizen", identity_number="30163499999",
    notify_results=True, preferred_language="en",
)
EmailAddress.objects.create(user=voter, email=voter.email, verified=True, primary=True)
entity = Entity.objects.create(name_ar="وزارة الفحص", name_en="Ministry of Smoke Tests", slug="smoke-ministry")
poll = Poll.objects.create(
    entity=entity, slug="smoke-poll", state=State.DRAFT,
    title_ar="استطلاع الفحص", title_en="Smoke poll",
    summary_ar="ملخص.", summary_en="Summary.", body_ar="نص.", body_en="Text.",
    opens_at=now - timedelta(minutes=5), closes_at=now + timedelta(seconds={closes_in}),
)
question = Question.objects.create(item=poll, position=1, text_ar="هل؟", text_en="Smoke question?")
options = [
    Option.objects.create(question=question, position=p, text_ar=f"خيار {{p}}", text_en=label)
    for p, label in ((1, "Smoke answer yes"), (2, "Smoke answer no"))
]
# Questions go in while it is a draft: once an item has opened, the database refuses them (content is frozen).
Poll.objects.filter(pk=poll.pk).update(state=State.OPEN)
print(json.dumps({{"slug": poll.slug, "question": question.pk, "options": [o.pk for o in options],
                  "closes_at": poll.closes_at.isoformat()}}))
"""

STATE = """
from participation.models import Item, Result
item = Item.objects.get(slug="smoke-poll")
result = Result.objects.filter(item=item).first()
print(json.dumps({"state": item.state, "ballots": result.ballots if result else None,
                  "digest": result.ballots_digest if result else None}))
"""


def write_env_file(folder, port, smtp_port):
    values = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_BALLOT_BOX_KEY": secrets.token_urlsafe(32),
        "PORTAL_AUDIT_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "REDIS_URL": CACHE_URL,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "false",
        "PORTAL_BASE_URL": f"https://127.0.0.1:{port}",
        "DJANGO_STATIC_ROOT": str(folder / "static"),
    }
    path = folder / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


def scenario(folder, processes, smtp, port, deadline):
    env = processes.env
    step(f"database {DATABASE_URL}: re-created; Redis {BROKER_URL} (broker) and {CACHE_URL} (cache): flushed")
    recreate_database(DATABASE_URL)
    flush_redis(BROKER_URL, CACHE_URL)
    run(env, "manage.py", "check", "--deploy", "--fail-level", "ERROR")
    run(env, "manage.py", "migrate", "--noinput", "-v0")
    run(env, "manage.py", "collectstatic", "--noinput", "-v0")

    step("starting gunicorn (gunicorn.conf.py), a worker and beat")
    processes.start("gunicorn", [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"])
    processes.start("worker", [str(BIN / "celery"), "-A", "hukoomi_portal", "worker", "-Q", "celery,tally,email",
                               "-c", "2", "-l", "INFO", "-n", f"smoke-{os.getpid()}@%h"])
    processes.start("beat", [str(BIN / "celery"), "-A", "hukoomi_portal", "beat", "-l", "INFO",
                             "-s", str(folder / "celerybeat-schedule")])
    browser = Browser(f"http://127.0.0.1:{port}")

    def healthy():
        try:
            status, _h, body = browser.request("/healthz")
        except OSError:
            return None
        return status == 200 and json.loads(body) == {"status": "ok", "database": "ok", "broker": "ok"}

    wait_for("/healthz to answer ok with the broker ok", healthy, deadline, processes)

    step("signing the voter in over HTTP")
    status, _h, page = browser.request("/en/accounts/login/")
    if status != 200:
        raise SmokeFailure(f"login page answered {status}")
    poll = django(env, CREATE_POLL.format(email=VOTER_EMAIL, password=VOTER_PASSWORD, closes_in=CLOSES_IN_SECONDS))
    status, headers, _page = browser.request(
        "/en/accounts/login/",
        {"csrfmiddlewaretoken": browser.csrf_token(page), "login": VOTER_EMAIL, "password": VOTER_PASSWORD},
    )
    if status != 302:
        raise SmokeFailure(f"sign-in answered {status}, not a redirect")

    step("voting over HTTP")
    path = f"/en/polls/{poll['slug']}/"
    status, _h, page = browser.request(path)
    if status != 200 or f'name="question-{poll["question"]}"' not in page:
        raise SmokeFailure(f"the poll page answered {status} without the ballot form")
    status, headers, page = browser.request(
        path, {"csrfmiddlewaretoken": browser.csrf_token(page), f"question-{poll['question']}": poll["options"][0]}
    )
    if status != 302 or not headers.get("Location", "").endswith(f"/en/polls/{poll['slug']}/thanks/"):
        raise SmokeFailure(f"the vote answered {status} ({headers.get('Location')}):\n{page[:2000]}")

    step(f"waiting for beat and the worker to close the poll at {poll['closes_at']}, tally and publish it")
    state = {}

    def published():
        state.update(django(env, STATE))
        return state["state"] == "published" and state["ballots"] is not None

    wait_for("the poll to be closed, tallied and published by the worker", published, deadline, processes, interval=1)
    if state["ballots"] != 1:
        raise SmokeFailure(f"the stored result counts {state['ballots']} ballots, not 1")

    step("reading the results over HTTP in both languages")
    for lang in ("en", "ar"):
        status, _h, page = browser.request(f"/{lang}/polls/{poll['slug']}/results/")
        text = html.unescape(page)
        if status != 200 or state["digest"] not in text:
            raise SmokeFailure(f"/{lang}/ results answered {status} without the stored digest {state['digest']}")
        expected = "Smoke answer yes" if lang == "en" else "خيار 1"
        if expected not in text:
            raise SmokeFailure(f"/{lang}/ results do not show the option {expected!r}")

    step("waiting for the results e-mail at the SMTP server")

    def mailed():
        return [m for m in smtp.messages if VOTER_EMAIL in m["to"]]

    wait_for("the results e-mail to the voter", mailed, deadline, processes)
    processes.check_alive()


def main():
    folder = Path(tempfile.mkdtemp(prefix="hukoomi-smoke-"))
    smtp = SMTPServer()
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    port = free_port()
    env_file = write_env_file(folder, port, smtp.server_address[1])
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(folder)),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "hukoomi_portal.settings",
        # The operator's path: settings from a .env file (a systemd EnvironmentFile works the same way).
        "DJANGO_ENV_FILE": str(env_file),
        "PORTAL_BEAT_SECONDS": str(BEAT_SECONDS),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    processes = Processes(folder, env)
    deadline = time.monotonic() + TIMEOUT

    def out_of_time(signum, frame):
        raise SmokeFailure(f"the smoke test took longer than {TIMEOUT + 60} seconds")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(TIMEOUT + 60)  # a hard bound, also over the steps that have their own timeouts
    ok = False
    try:
        scenario(folder, processes, smtp, port, deadline)
        ok = True
    except (SmokeFailure, subprocess.TimeoutExpired, OSError) as error:
        print(f"smoke: FAILED: {error}", file=sys.stderr, flush=True)
    finally:
        signal.alarm(0)
        processes.stop_all()
        smtp.shutdown()
        smtp.server_close()
        if not ok:
            for name, text in processes.logs().items():
                print(f"----- {name}.log (last 80 lines) -----", file=sys.stderr)
                print("\n".join(text.splitlines()[-80:]), file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
    if ok:
        step("OK: installed from requirements.txt, voted over HTTP, closed by the clock, tallied, published, e-mailed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
