"""The switch in conftest: a missing service skips locally and fails in CI (PORTAL_REQUIRE_SERVICES=1)."""

import socket

import pytest
from django.db import connection

from tests.conftest import (
    POSTGRES_REASON,
    REQUIRE_SERVICES_ENV,
    require_chromium,
    require_postgres,
    require_redis,
    services_required,
)

Skipped = pytest.skip.Exception
Failed = pytest.fail.Exception


@pytest.fixture
def closed_port():
    """A local TCP port that nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def local_run(monkeypatch):
    monkeypatch.delenv(REQUIRE_SERVICES_ENV, raising=False)


@pytest.fixture
def ci_run(monkeypatch):
    monkeypatch.setenv(REQUIRE_SERVICES_ENV, "1")


@pytest.mark.parametrize(("value", "required"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_services_required_reads_the_environment(monkeypatch, value, required):
    monkeypatch.setenv(REQUIRE_SERVICES_ENV, value)
    assert services_required() is required


def test_unreachable_redis_skips_with_a_reason_locally(local_run, closed_port):
    url = f"redis://127.0.0.1:{closed_port}/15"
    with pytest.raises(Skipped) as excinfo:
        require_redis(url, timeout=0.5)
    assert "needs Redis" in str(excinfo.value)
    assert url in str(excinfo.value)


def test_unreachable_redis_fails_when_services_are_required(ci_run, closed_port):
    with pytest.raises(Failed) as excinfo:
        require_redis(f"redis://127.0.0.1:{closed_port}/15", timeout=0.5)
    assert "needs Redis" in str(excinfo.value)
    assert REQUIRE_SERVICES_ENV in str(excinfo.value)


def test_redis_url_comes_from_the_environment(local_run, monkeypatch, closed_port):
    url = f"redis://127.0.0.1:{closed_port}/3"
    monkeypatch.setenv("PORTAL_TEST_REDIS_URL", url)
    with pytest.raises(Skipped, match=f"127.0.0.1:{closed_port}/3"):
        require_redis(timeout=0.5)


def test_missing_chromium_skips_locally(local_run, monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(Skipped, match="needs Chromium"):
        require_chromium()


def test_missing_chromium_fails_when_services_are_required(ci_run, monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(Failed, match="needs Chromium"):
        require_chromium()


def test_an_executable_chromium_is_found(local_run, monkeypatch, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PORTAL_CHROMIUM", str(fake))
    assert require_chromium() == str(fake)


def test_postgres_only_tests_skip_on_sqlite_even_in_ci(ci_run):
    """CI runs the suite on SQLite too: there a PostgreSQL-only test is skipped, never failed."""
    if connection.vendor == "postgresql":
        assert require_postgres() is None
    else:
        with pytest.raises(Skipped) as excinfo:
            require_postgres()
        assert str(excinfo.value) == POSTGRES_REASON


@pytest.mark.postgres
def test_postgres_marker_runs_only_on_postgresql():
    assert connection.vendor == "postgresql"


def test_postgres_only_fixture_runs_only_on_postgresql(postgres_only):
    assert connection.vendor == "postgresql"


def test_redis_url_fixture_answers_ping(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1)
    try:
        assert client.ping() is True
    finally:
        client.close()
