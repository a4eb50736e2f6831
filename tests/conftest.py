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

from tests.audit_guards import flush_passing_audit_guards
from tests.builders.users import auditor, remember_roles
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


# ---------------------------------------------------------------------------
# Test isolation
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _flush_passes_the_audit_guards():
    """Transactional tests end with `flush`, which empties every table; the database refuses that for the
    audit trail (participation/migrations/0009_audit_anchor.py) and for stored results. Between tests, and only
    there, flush lifts the guard triggers and puts them back in the same transaction."""
    from django.core.management.commands import flush

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flush, "sql_flush", flush_passing_audit_guards(flush.sql_flush))
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The migrated test database; the staff groups' permissions are noted before a transactional test's
    flush empties the groups (tests/builders/users.py makes them again from this)."""
    with django_db_blocker.unblock():
        remember_roles()


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
def staff_user(db):
    return StaffUserFactory()


@pytest.fixture
def superuser(db):
    return SuperUserFactory()


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def auditor_client(client):
    """A client signed in as the auditor (tests/builders/users.py)."""
    client.force_login(auditor())
    return client
