"""Web bench: the portal's pages and vote beside a bare Django project, both under gunicorn, loaded by wrk.

Both projects run from gunicorn.conf.py with 3 sync workers and persistent PostgreSQL connections, in one database
(the bare project in a schema of its own), and take turns under the same load: wrk, one thread and 16 connections on loopback, in a process of its
own (C, event-driven: a small part of one core at these rates). Signed-in requests come from pre-made sessions,
one voter after the other (bench/wrk/signed_in.lua), so every vote is a different person's first ballot.

Each row pairs a portal figure with the bare project's measured just before it:
- the vote POST (a poll of 3 questions) against the bare insert view (one row for the session's user);
- each page GET against the bare template view (20 rows from one query), anonymous against anonymous and
  signed-in against signed-in.

Called by bench/run.py, which creates the database, sets the environment (bench_environment) and prints the table.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

from bench.sessions import write_signed_in_sessions
from bench.table import Row

ROOT = Path(__file__).resolve().parent.parent
WRK = os.environ.get("WRK", "wrk")
CONNECTIONS = 16
CHECK_VOTERS = 5  # the last voters of each list, kept out of wrk's way for the checks before timing
TARGET = "≥ 0.5"
POLL_SLUG = "bench-poll"
BARE_SCHEMA = "bare"
LANGUAGE = "ar"


class Settings:
    """How long and how much: the full run, or the quick one (BENCH_QUICK=1) the test suite makes."""

    def __init__(self, quick):
        self.quick = quick
        self.voters = 2_000 if quick else 20_000
        self.duration = int(os.environ.get("BENCH_SECONDS", 1 if quick else 10))  # wrk takes whole seconds
        self.warmup = 1 if quick else 2
        self.open_items = 8 if quick else 30


def bench_environment(database_url, redis_url, static_root):
    """The production settings' environment for the portal under test (and for the bench process seeding it)."""
    return {
        "DJANGO_SETTINGS_MODULE": "hukoomi_portal.settings",
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "600",
        "REDIS_URL": redis_url,
        "CACHE_URL": redis_url,  # CACHE_URL wins over REDIS_URL: never inherit another one from the caller
        "CELERY_BROKER_URL": redis_url,
        "EMAIL_HOST": "mail.invalid",
        "PORTAL_BASE_URL": "http://127.0.0.1",
        "PORTAL_BALLOT_BOX_KEY": "YmVuY2gtb25seS1iYWxsb3QtYm94LWtleS0zMmJ5dGU",
        "PORTAL_AUDIT_KEY": "YmVuY2gtb25seS1hdWRpdC10cmFpbC1obWFjLWtleTA",
    }


def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


def seed_portal(settings, cookies_file):
    """Open items for the list and home, the bench poll, and signed-in citizens with sessions; returns the poll."""
    from django.utils import timezone

    from accounts.models import Segment, User
    from participation.models import Entity, Item, Kind, Option, Question
    from participation.services import lifecycle

    started = time.perf_counter()
    now = timezone.now()
    staff = User.objects.create_user("staff@bench.hukoomi.qa", None, full_name="Bench staff", is_staff=True)
    entities = [
        Entity.objects.create(slug="transport", name_ar="وزارة المواصلات", name_en="Ministry of Transport"),
        Entity.objects.create(slug="health", name_ar="وزارة الصحة العامة", name_en="Ministry of Public Health"),
    ]

    def item(slug, kind, title_ar, title_en, closes_in_days, **extra):
        made = Item.objects.create(
            kind=kind,
            slug=slug,
            entity=entities[len(slug) % 2],
            title_ar=title_ar,
            title_en=title_en,
            summary_ar="نود معرفة رأيكم في هذا المقترح قبل اعتماده.",
            summary_en="Tell us what you think before we decide.",
            body_ar="تنشر الوزارة هذا البند لإشراك الجمهور في صنع القرار. اقرأ التفاصيل ثم شارك برأيك.",
            body_en="The ministry publishes this item to involve the public in its decision. Read it, then have your say.",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=closes_in_days),
            created_by=staff,
            **extra,
        )
        return made

    def questions(poll, count, options):
        for position in range(1, count + 1):
            question = Question.objects.create(
                item=poll,
                position=position,
                text_ar=f"السؤال رقم {position}؟",
                text_en=f"Question {position}?",
                allow_abstain=True,
            )
            Option.objects.bulk_create(
                Option(question=question, position=n, text_ar=f"الخيار {n}", text_en=f"Choice {n}")
                for n in range(1, options + 1)
            )

    poll = item(
        POLL_SLUG,
        Kind.POLL,
        "تشغيل المترو ليلاً في عطلة نهاية الأسبوع",
        "Night metro at weekends",
        30,
        live_results=True,
    )
    questions(poll, 3, 4)
    lifecycle.schedule_item(None, poll)
    for n in range(settings.open_items):
        other = item(f"open-poll-{n}", Kind.POLL, f"استطلاع رقم {n}", f"Poll number {n}", 5 + n)
        questions(other, 2, 3)
        lifecycle.schedule_item(None, other)
    referendum = item(
        "healthy-schools-law",
        Kind.REFERENDUM,
        "استفتاء على قانون المدارس الصحية",
        "Referendum on the healthy schools law",
        9,
        requires_verified_identity=True,
    )
    question = Question.objects.create(
        item=referendum, text_ar="هل توافق؟", text_en="Do you agree?", allow_abstain=True
    )
    Option.objects.bulk_create(
        [
            Option(question=question, position=1, text_ar="نعم", text_en="Yes"),
            Option(question=question, position=2, text_ar="لا", text_en="No"),
        ]
    )
    lifecycle.schedule_item(None, referendum)

    voters = User.objects.bulk_create(
        (
            User(
                email=f"voter{n}@bench.hukoomi.qa",
                full_name=f"Voter {n}",
                segment=Segment.CITIZEN,
                password="!bench-no-password",  # noqa: S106 (unusable: they never sign in with a password)
            )
            for n in range(settings.voters)
        ),
        batch_size=5000,
    )
    write_signed_in_sessions(voters, cookies_file)
    print(
        f"seeded the portal: {settings.open_items + 2} open items, {settings.voters:,} voters "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return poll


def vote_body(poll):
    fields = [("csrfmiddlewaretoken", "TOKEN")]
    for question in poll.questions.prefetch_related("options"):
        fields.append((f"question-{question.pk}", str(question.options.all()[0].pk)))
    return urllib.parse.urlencode(fields)


# ---------------------------------------------------------------------------
# Servers and load
# ---------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn from gunicorn.conf.py (3 sync workers) for the portal or the bare project, on a free port."""

    def __init__(self, name, env, app=None):
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = env | {
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "3",
            "GUNICORN_ACCESS_LOG": "/dev/null",
            "GUNICORN_LOG_LEVEL": "warning",
        }
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"] + ([app] if app else [])
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our own interpreter)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name}: gunicorn exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{name}: gunicorn did not listen within 60 s")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url, cookies=None, body=None):
    """One request outside wrk, to check that a page answers as it should before it is timed."""
    headers = {}
    if cookies:
        headers["Cookie"] = f"sessionid={cookies[0]}; csrftoken={cookies[1]}"
    data = None
    if body is not None:
        data = body.replace("TOKEN", cookies[1]).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (our own loopback server)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers


class Load:
    """wrk runs; remembers where each cookie list is, so that no voter is used twice for a vote."""

    def __init__(self, settings):
        self.settings = settings
        self.next_voter = {}

    def run(self, url, cookies_file=None, method="GET", body="", seconds=None):
        seconds = seconds or self.settings.duration
        command = [WRK, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s"]
        if cookies_file:
            first = self.next_voter.get(cookies_file, 0)
            command += [
                "-s",
                str(ROOT / "bench/wrk/signed_in.lua"),
                url,
                "--",
                str(cookies_file),
                method,
                str(first),
                body,
            ]
        else:
            command.append(url)
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
        done = int(re.search(r"(\d+) requests in", output).group(1))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        failed = int(errors.group(1)) if errors else 0
        if cookies_file:
            # wrk may have sent up to CONNECTIONS more requests than it counted as done.
            self.next_voter[cookies_file] = self.next_voter.get(cookies_file, 0) + done + CONNECTIONS
        return rate, done, failed

    def measure(self, url, **kwargs):
        self.run(url, seconds=self.settings.warmup, **kwargs)
        return self.run(url, **kwargs)


# ---------------------------------------------------------------------------
# The rows
# ---------------------------------------------------------------------------


def check(condition, message):
    if not condition:
        raise RuntimeError(message)


def measure(quick, database_url, env, workdir):
    """Seed both projects, serve them, check each page once, then time them in pairs. Returns the rows."""
    settings = Settings(quick)
    workdir = Path(workdir)
    portal_cookies, bare_cookies = workdir / "portal-voters.txt", workdir / "bare-voters.txt"
    poll = seed_portal(settings, portal_cookies)
    body = vote_body(poll)

    bare_env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))} | {
        "DJANGO_SETTINGS_MODULE": "bench.bare.settings",
        "DJANGO_SECRET_KEY": env["DJANGO_SECRET_KEY"],
        "BARE_DATABASE_URL": database_url,
        "BARE_DATABASE_SCHEMA": BARE_SCHEMA,
    }
    servers = []
    try:
        subprocess.run(  # noqa: S603
            [sys.executable, str(ROOT / "bench/bare/seed.py"), str(settings.voters), str(bare_cookies)],
            cwd=ROOT,
            env=bare_env,
            check=True,
        )
        bare = Server("bare Django", bare_env, app="bench.bare.wsgi:application")
        servers.append(bare)
        portal = Server("portal", os.environ | env)
        servers.append(portal)
        return _rows(settings, portal, bare, portal_cookies, bare_cookies, body)
    finally:
        for server in servers:
            server.stop()


def _cookie_lines(path):
    return [tuple(line.split()) for line in Path(path).read_text().splitlines()]


def _rows(settings, portal, bare, portal_cookies, bare_cookies, body):
    load = Load(settings)
    portal_check = _cookie_lines(portal_cookies)[-CHECK_VOTERS:]
    bare_check = _cookie_lines(bare_cookies)[-CHECK_VOTERS:]
    pages = {
        "poll page": f"{portal.base}/{LANGUAGE}/polls/{POLL_SLUG}/",
        "/participate/ list": f"{portal.base}/{LANGUAGE}/participate/",
        "home": f"{portal.base}/{LANGUAGE}/",
    }
    bare_page = f"{bare.base}/rows/"

    # Every page and both votes once, as a person would see them, before anything is timed.
    for name, url in pages.items():
        status, html, _headers = fetch(url)
        check(status == 200, f"{name}, anonymous: {status}")
        status, html, _headers = fetch(url, portal_check[0])
        check(
            status == 200 and "/accounts/logout/" in html,
            f"{name}, signed in: {status}, or the page does not show the voter signed in",
        )
    status, _html, headers = fetch(pages["poll page"], portal_check[1], body)
    check(
        status == 302 and headers["Location"].endswith("/thanks/"), f"portal vote: {status} {headers.get('Location')}"
    )
    status, _html, _headers = fetch(pages["poll page"], portal_check[1], body)
    check(status == 409, f"a second vote by the same voter answered {status}, not 409")
    status, _html, headers = fetch(f"{bare.base}/insert/", bare_check[0], "csrfmiddlewaretoken=TOKEN&text=x")
    check(status == 302, f"bare insert: {status}")
    status, html, _headers = fetch(bare_page, bare_check[0])
    check(status == 200 and "Signed in as" in html, "bare page, signed in")

    rows = []
    notes = []

    def pair(name, baseline_name, bare_kwargs, portal_kwargs, bare_url, portal_url):
        bare_rate, _done, bare_failed = load.measure(bare_url, **bare_kwargs)
        portal_rate, done, failed = load.measure(portal_url, **portal_kwargs)
        note = ""
        if failed or bare_failed:
            note = f"{failed:,} of {done:,} portal answers and {bare_failed:,} bare answers were errors (4xx/5xx)"
            notes.append(note)
        rows.append(Row(name, portal_rate, bare_rate, "req/s", TARGET, baseline_name, note))
        print(f"  {name}: portal {portal_rate:,.0f}/s, bare {bare_rate:,.0f}/s", flush=True)

    signed_in_bare = {"cookies_file": bare_cookies}
    signed_in_portal = {"cookies_file": portal_cookies}
    vote_bare = {"cookies_file": bare_cookies, "method": "POST", "body": "csrfmiddlewaretoken=TOKEN&text=vote"}
    vote_portal = {"cookies_file": portal_cookies, "method": "POST", "body": body}
    pair(
        "vote POST by distinct signed-in voters",
        "bare insert",
        vote_bare,
        vote_portal,
        f"{bare.base}/insert/",
        pages["poll page"],
    )
    check(
        load.next_voter[portal_cookies] <= settings.voters - CHECK_VOTERS,
        "the vote run used more voters than were seeded: raise Settings.voters",
    )
    pair("poll page GET, anonymous", "bare template view", {}, {}, bare_page, pages["poll page"])
    if settings.quick:
        return rows
    pair(
        "poll page GET, signed in",
        "bare template view, signed in",
        signed_in_bare,
        signed_in_portal,
        bare_page,
        pages["poll page"],
    )
    for name in ("/participate/ list", "home"):
        pair(f"{name} GET, anonymous", "bare template view", {}, {}, bare_page, pages[name])
        pair(
            f"{name} GET, signed in",
            "bare template view, signed in",
            signed_in_bare,
            signed_in_portal,
            bare_page,
            pages[name],
        )
    return rows
