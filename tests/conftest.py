"""Shared fixtures, and the switch that decides whether a missing service skips or fails a test.

Services:
- PostgreSQL: tests marked ``postgres`` (or using the ``postgres_only`` fixture) always SKIP on
  SQLite, because CI runs the whole suite once on SQLite and once on PostgreSQL.
- Redis and Chromium: SKIP with a stated reason when absent; FAIL when PORTAL_REQUIRE_SERVICES=1
  (CI sets it, so nothing is skipped silently there).
"""

import os
import shutil

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import translation
from pytest_django.plugin import blocking_manager_key

from tests.factories import (
    PASSWORD,
    PageFeedbackFactory,
    StaffUserFactory,
    SuperUserFactory,
    UserFactory,
    VerifiedUserFactory,
)

LANGS = ("ar", "en")
REQUIRE_SERVICES_ENV = "PORTAL_REQUIRE_SERVICES"
REDIS_URL_ENV = "PORTAL_TEST_REDIS_URL"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
CHROMIUM_ENV = "PORTAL_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
POSTGRES_REASON = "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"

__all__ = [
    "LANGS",
    "PASSWORD",
    "PageFeedbackFactory",
    "StaffUserFactory",
    "SuperUserFactory",
    "UserFactory",
    "VerifiedUserFactory",
    "require_chromium",
    "require_postgres",
    "require_redis",
    "services_required",
]


def pytest_configure(config):
    # WhiteNoise warns that STATIC_ROOT is missing: tests never run collectstatic.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


# ---------------------------------------------------------------------------
# Service requirements
# ---------------------------------------------------------------------------


def services_required():
    """True when a missing Redis or Chromium must fail the run (CI)."""
    return os.environ.get(REQUIRE_SERVICES_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def service_missing(reason):
    """Skip with the reason; or fail with it when PORTAL_REQUIRE_SERVICES=1."""
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_SERVICES_ENV}=1, so a missing service is a failure)", pytrace=False)
    pytest.skip(reason)


def require_postgres():
    """Skip unless the test database is PostgreSQL. Never fails: the SQLite run of CI skips these."""
    if connection.vendor != "postgresql":
        pytest.skip(POSTGRES_REASON)


def require_redis(url=None, timeout=1.0):
    """Return the test Redis URL after a PING; skip (or fail, in CI) when it does not answer."""
    import redis

    url = url or os.environ.get(REDIS_URL_ENV) or DEFAULT_TEST_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except (redis.exceptions.RedisError, OSError) as exc:
        service_missing(
            f"needs Redis at {url} ({exc.__class__.__name__}): start it with "
            f"`redis-server --daemonize yes --bind 127.0.0.1 --port 6379` or set {REDIS_URL_ENV}"
        )
    finally:
        client.close()
    return url


def require_chromium():
    """Return the path of a Chromium binary; skip (or fail, in CI) when there is none."""
    explicit = os.environ.get(CHROMIUM_ENV)
    candidates = [explicit] if explicit else [shutil.which(name) for name in CHROMIUM_NAMES]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    service_missing(f"needs Chromium: install it or set {CHROMIUM_ENV} to its path")
    return None  # not reached: skip and fail raise


def pytest_runtest_setup(item):
    """The markers declared in pyproject.toml do the same as the fixtures below."""
    if item.get_closest_marker("postgres"):
        require_postgres()
    if item.get_closest_marker("redis"):
        require_redis()
    if item.get_closest_marker("browser"):
        require_chromium()


@pytest.fixture
def postgres_only():
    require_postgres()


@pytest.fixture
def redis_url():
    return require_redis()


@pytest.fixture
def chromium_path():
    return require_chromium()


# ---------------------------------------------------------------------------
# Test isolation
# ---------------------------------------------------------------------------


def _flushes_database(item):
    """True when `item` is a transactional test whose database was set up (so its teardown flushes)."""
    marker = item.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    ready = set(getattr(item, "funcargs", {}))  # empty when setup was skipped before the database
    if transactional and "_django_db_marker" in ready:
        return True
    return bool({"transactional_db", "live_server"} & ready)


def _lift_guard_triggers():
    """Switch off the triggers that refuse DELETE and TRUNCATE (immutable results, append-only trail).

    Returns what restores them. Only the test database's flush, between transactional tests, needs this.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            return [sql for _name, sql in triggers]
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema() AND t.tgenabled <> 'D'"
            )
            triggers = cursor.fetchall()
            for table, name, _enabled in triggers:
                cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{name}"')
            mode = {"A": "ALWAYS ", "R": "REPLICA ", "O": ""}
            return [f'ALTER TABLE "{table}" ENABLE {mode[enabled]}TRIGGER "{name}"' for table, name, enabled in triggers]
    return []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends with a flush (DELETE FROM every table on SQLite, TRUNCATE on PostgreSQL),
    which the guard triggers rightly refuse: lift them for the flush and put them back after it."""
    restore, database = [], None
    blocker = item.config.stash[blocking_manager_key]
    if _flushes_database(item):
        with blocker.unblock():
            database = connection.settings_dict["NAME"]
            restore = _lift_guard_triggers()
    try:
        return (yield)
    finally:
        # After the last test the test database is gone (and the connection points at the real one): nothing to restore.
        if restore and connection.settings_dict["NAME"] == database:
            with blocker.unblock(), connection.cursor() as cursor:
                for statement in restore:
                    cursor.execute(statement)


@pytest.fixture(autouse=True)
def _clean_caches_and_language():
    """allauth's rate limits live in the cache; the active language lives in the thread."""
    for cache in caches.all():
        cache.clear()
    translation.deactivate()
    yield
    translation.deactivate()


# ---------------------------------------------------------------------------
# Languages and people
# ---------------------------------------------------------------------------


@pytest.fixture(params=LANGS)
def lang(request):
    """Run the test once in Arabic and once in English."""
    return request.param


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def verified_user(db):
    return VerifiedUserFactory()


@pytest.fixture
def staff_user(db):
    return StaffUserFactory()


@pytest.fixture
def superuser(db):
    return SuperUserFactory()


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client
