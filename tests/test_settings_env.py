"""Settings read from the environment (and .env): refusals, deploy checks, database URL, broker, cache, e-mail.

Each case loads the settings in a fresh interpreter with a clean environment, so that
nothing from the test run (or the developer's shell, or the checkout's .env) leaks in.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from hukoomi_portal.env import env_bool, env_int, env_list, env_str

PROJECT = Path(__file__).resolve().parent.parent

SHOW_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST"), "PORT": db.get("PORT"),
    "USER": db.get("USER"), "PASSWORD": db.get("PASSWORD"), "CONN_MAX_AGE": db.get("CONN_MAX_AGE"),
    "DISABLE_SERVER_SIDE_CURSORS": db.get("DISABLE_SERVER_SIDE_CURSORS"),
    "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    "CELERY_TASK_ALWAYS_EAGER": getattr(settings, "CELERY_TASK_ALWAYS_EAGER", None),
    "BROKER_OPTIONS": getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None),
    "CACHE": settings.CACHES["default"]["BACKEND"], "CACHE_LOCATION": settings.CACHES["default"].get("LOCATION"),
    "EMAIL_BACKEND": settings.EMAIL_BACKEND, "EMAIL_HOST": settings.EMAIL_HOST,
    "PORTAL_BASE_URL": settings.PORTAL_BASE_URL,
    "SECRET_KEY": settings.SECRET_KEY,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "SESSION_COOKIE_SECURE": getattr(settings, "SESSION_COOKIE_SECURE", None),
}))
"""

SHOW_CELERY = """
import json, django
django.setup()
from hukoomi_portal.celery import app
print(json.dumps({"eager": app.conf.task_always_eager, "broker": app.conf.broker_url}))
"""


def clean_env(**variables):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(PROJECT)),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "hukoomi_portal.settings",
        # No .env: the checkout's own (written by `make run`) must not decide these tests.
        "DJANGO_ENV_FILE": "",
    }
    env.update({name: value for name, value in variables.items() if value is not None})
    return env


def run_python(code, **variables):
    return subprocess.run(  # noqa: S603 (fixed code, this interpreter)
        [sys.executable, "-c", code], cwd=PROJECT, env=clean_env(**variables), capture_output=True, text=True, timeout=60
    )


def settings_with(**variables):
    result = run_python(SHOW_SETTINGS, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def production_env(**extra):
    """Everything production requires (docs/deploy.md); pass NAME=None to leave one out."""
    return {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "example.gov.qa",
        "PORTAL_BALLOT_BOX_KEY": secrets.token_urlsafe(32),
        "PORTAL_AUDIT_KEY": secrets.token_urlsafe(32),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "REDIS_URL": "redis://127.0.0.1:6379/1",
        "EMAIL_HOST": "smtp.example.gov.qa",
        "PORTAL_BASE_URL": "https://e-participation.example.gov.qa",
        **extra,
    }


# ---------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("debug", ["false", None], ids=["debug-false", "debug-unset"])
def test_settings_refuse_to_load_without_a_secret_key(debug):
    result = run_python("import django; django.setup()", DJANGO_DEBUG=debug)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_settings_refuse_an_empty_secret_key():
    result = run_python("import django; django.setup()", DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_debug_runs_without_a_secret_key():
    values = settings_with(DJANGO_DEBUG="true")
    assert values["DEBUG"] is True
    assert values["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]


def test_settings_refuse_a_debug_value_that_is_not_a_boolean():
    result = run_python("import django; django.setup()", DJANGO_DEBUG="maybe", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_production_settings_are_strict():
    values = settings_with(**production_env())
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["example.gov.qa"]
    assert values["SESSION_COOKIE_SECURE"] is True


def test_manage_py_check_deploy_passes_with_production_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=clean_env(**production_env()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_manage_py_check_deploy_fails_with_a_short_secret_key():
    """Proves the check above can fail: Django's deploy checks flag a weak key."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=clean_env(**production_env(DJANGO_SECRET_KEY="short")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


# ---------------------------------------------------------------------------
# Database URL
# ---------------------------------------------------------------------------


def test_database_url_is_parsed():
    values = settings_with(
        **production_env(
            DATABASE_URL="postgres://portal:s3cret@db.example.gov.qa:5433/eparticipation",
            DATABASE_CONN_MAX_AGE="60",
        )
    )
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert values["NAME"] == "eparticipation"
    assert values["HOST"] == "db.example.gov.qa"
    assert values["PORT"] == 5433
    assert values["USER"] == "portal"
    assert values["PASSWORD"] == "s3cret"
    assert values["CONN_MAX_AGE"] == 60


def test_without_database_url_sqlite_in_the_project_folder():
    values = settings_with(**production_env())
    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert values["NAME"] == str(PROJECT / "db.sqlite3")
    assert values["CONN_MAX_AGE"] == 0


def test_server_side_cursors_can_be_turned_off_for_a_transaction_pooler():
    assert settings_with(**production_env())["DISABLE_SERVER_SIDE_CURSORS"] is False
    values = settings_with(**production_env(DATABASE_DISABLE_SERVER_SIDE_CURSORS="true"))
    assert values["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_a_bad_conn_max_age_is_refused():
    result = run_python(SHOW_SETTINGS, **production_env(DATABASE_CONN_MAX_AGE="forever"))
    assert result.returncode != 0
    assert "DATABASE_CONN_MAX_AGE must be a whole number" in result.stderr


# ---------------------------------------------------------------------------
# Celery
# ---------------------------------------------------------------------------


# Each variable production needs: missing or empty, the portal refuses to start and says what to set.
REQUIRED_IN_PRODUCTION = {
    "DJANGO_SECRET_KEY": "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off",
    "DJANGO_ALLOWED_HOSTS": "DJANGO_ALLOWED_HOSTS is required when DJANGO_DEBUG is off",
    "CELERY_BROKER_URL": "CELERY_BROKER_URL is required when DJANGO_DEBUG is off: the Redis broker",
    "EMAIL_HOST": "EMAIL_HOST is required when DJANGO_DEBUG is off: the SMTP server",
    "PORTAL_BASE_URL": "PORTAL_BASE_URL is required when DJANGO_DEBUG is off: the public address",
    "REDIS_URL": "REDIS_URL (or CACHE_URL) is required when DJANGO_DEBUG is off: the shared cache",
    "PORTAL_BALLOT_BOX_KEY": "PORTAL_BALLOT_BOX_KEY is required when DJANGO_DEBUG is off",
    "PORTAL_AUDIT_KEY": "PORTAL_AUDIT_KEY is required when DJANGO_DEBUG is off",
}


@pytest.mark.parametrize("missing", ["absent", "empty"])
@pytest.mark.parametrize("name", sorted(REQUIRED_IN_PRODUCTION))
def test_production_refuses_to_start_without_each_required_variable(name, missing):
    result = run_python("import django; django.setup()", **production_env(**{name: None if missing == "absent" else ""}))
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert REQUIRED_IN_PRODUCTION[name] in result.stderr


def test_production_settings_use_the_broker_the_shared_cache_and_smtp():
    values = settings_with(**production_env())
    assert values["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert values["CACHE"] == "hukoomi_portal.resilience.DegradingRedisCache"
    assert values["CACHE_LOCATION"] == "redis://127.0.0.1:6379/1"
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["EMAIL_HOST"] == "smtp.example.gov.qa"
    assert values["PORTAL_BASE_URL"] == "https://e-participation.example.gov.qa"


def test_production_never_runs_tasks_eagerly():
    broker = "redis://127.0.0.1:6379/3"
    values = settings_with(**production_env(CELERY_BROKER_URL=broker))
    assert values["CELERY_TASK_ALWAYS_EAGER"] is None  # not set at all: Celery's default, off
    result = run_python(SHOW_CELERY, **production_env(CELERY_BROKER_URL=broker))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"eager": False, "broker": broker}


def test_only_the_test_settings_run_tasks_eagerly():
    """CELERY_TASK_ALWAYS_EAGER appears in no settings module but the suite's."""
    setters = [
        path.relative_to(PROJECT).as_posix()
        for path in (PROJECT / "hukoomi_portal").glob("*.py")
        if "ALWAYS_EAGER =" in path.read_text(encoding="utf-8") or "task_always_eager" in path.read_text(encoding="utf-8")
    ]
    assert setters == ["hukoomi_portal/test_settings.py"]


def test_cache_url_wins_over_redis_url():
    values = settings_with(**production_env(CACHE_URL="rediss://cache.example.gov.qa:6380/2"))
    assert values["CACHE"] == "hukoomi_portal.resilience.DegradingRedisCache"
    assert values["CACHE_LOCATION"] == "rediss://cache.example.gov.qa:6380/2"
    values = settings_with(**production_env(REDIS_URL=None, CACHE_URL="redis://127.0.0.1:6379/4"))
    assert values["CACHE_LOCATION"] == "redis://127.0.0.1:6379/4"


@pytest.mark.parametrize("url", ["locmem://", "memcached://127.0.0.1:11211", "127.0.0.1:6379"])
def test_a_cache_that_is_not_redis_is_refused(url):
    result = run_python(SHOW_SETTINGS, **production_env(REDIS_URL=None, CACHE_URL=url))
    assert result.returncode != 0
    assert "must be a Redis address" in result.stderr


def test_an_explicit_email_backend_needs_no_smtp_host():
    backend = "django.core.mail.backends.filebased.EmailBackend"
    values = settings_with(**production_env(EMAIL_HOST=None, EMAIL_BACKEND=backend))
    assert values["EMAIL_BACKEND"] == backend


@pytest.mark.parametrize(
    "url", ["e-participation.example.gov.qa", "ftp://example.gov.qa", "https://", "https://example.gov.qa/?next=x"]
)
def test_a_base_url_that_is_not_an_absolute_address_is_refused(url):
    result = run_python(SHOW_SETTINGS, **production_env(PORTAL_BASE_URL=url))
    assert result.returncode != 0
    assert "PORTAL_BASE_URL must be an absolute http(s) address" in result.stderr


def test_the_base_url_loses_its_trailing_slash():
    values = settings_with(**production_env(PORTAL_BASE_URL="https://e-participation.example.gov.qa/"))
    assert values["PORTAL_BASE_URL"] == "https://e-participation.example.gov.qa"


def test_development_needs_nothing_and_uses_the_embedded_broker(tmp_path):
    broker_dir = tmp_path / "broker"
    values = settings_with(DJANGO_DEBUG="true", PORTAL_BROKER_DIR=str(broker_dir))
    assert values["CELERY_BROKER_URL"] == "filesystem://"
    assert values["CELERY_TASK_ALWAYS_EAGER"] is None
    assert values["BROKER_OPTIONS"]["data_folder_in"] == values["BROKER_OPTIONS"]["data_folder_out"]
    assert values["BROKER_OPTIONS"]["data_folder_in"] == str(broker_dir / "queue")
    assert {p.name for p in broker_dir.iterdir()} == {"queue", "processed", "control"}
    assert values["CACHE"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert values["PORTAL_BASE_URL"] == "http://127.0.0.1:8000"


def test_the_broker_folder_defaults_to_the_ignored_dot_broker():
    values = settings_with(DJANGO_DEBUG="true", CELERY_BROKER_URL="filesystem://")
    assert values["BROKER_OPTIONS"]["data_folder_in"] == str(PROJECT / ".broker" / "queue")
    ignored = (PROJECT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".broker/" in ignored
    assert ".env" in ignored


# ---------------------------------------------------------------------------
# The .env file
# ---------------------------------------------------------------------------


def test_settings_are_read_from_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join(f"{name}={value}" for name, value in production_env(DJANGO_ALLOWED_HOSTS="from-file.gov.qa").items()),
        encoding="utf-8",
    )
    values = settings_with(DJANGO_ENV_FILE=str(env_file))
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["from-file.gov.qa"]
    assert values["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"


def test_the_real_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=true\nDJANGO_SECRET_KEY=from-the-file\nDJANGO_ALLOWED_HOSTS=file.gov.qa\n", encoding="utf-8")
    values = settings_with(**production_env(DJANGO_ENV_FILE=str(env_file)))
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["example.gov.qa"]
    assert values["SECRET_KEY"] != "from-the-file"
    # An empty variable in the environment is still the environment's word.
    values = settings_with(DJANGO_ENV_FILE=str(env_file), DJANGO_ALLOWED_HOSTS="")
    assert values["DEBUG"] is True
    assert values["ALLOWED_HOSTS"] == []


def test_an_env_file_that_does_not_exist_is_refused_when_named(tmp_path):
    result = run_python("import django; django.setup()", DJANGO_ENV_FILE=str(tmp_path / "missing.env"))
    assert result.returncode != 0
    assert "DJANGO_ENV_FILE" in result.stderr


def test_the_env_file_in_the_project_folder_is_read_by_default(tmp_path):
    """load_env_file(<folder>) reads <folder>/.env when DJANGO_ENV_FILE is not set at all."""
    (tmp_path / ".env").write_text("PORTAL_TEST_FROM_FILE=yes\nPATH=/nowhere\n", encoding="utf-8")
    code = (
        "import os, sys; from hukoomi_portal.env import load_env_file; "
        f"print(load_env_file({str(tmp_path)!r})); print(os.environ['PORTAL_TEST_FROM_FILE']); print(os.environ['PATH'])"
    )
    env = clean_env()
    del env["DJANGO_ENV_FILE"]
    result = subprocess.run(  # noqa: S603 (fixed code, this interpreter)
        [sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / ".env"), "yes", env["PATH"]]


def test_make_run_writes_a_development_env_file_once(tmp_path):
    from ops import dev_env

    path = tmp_path / ".env"
    assert dev_env.write_if_missing(path) is True
    first = path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o077 == 0
    assert dev_env.write_if_missing(path) is False
    assert path.read_text(encoding="utf-8") == first
    values = settings_with(DJANGO_ENV_FILE=str(path), PORTAL_BROKER_DIR=str(tmp_path / "broker"))
    assert values["DEBUG"] is True
    assert values["CELERY_BROKER_URL"] == "filesystem://"
    assert "django-insecure" not in values["SECRET_KEY"]
    assert len(values["SECRET_KEY"]) >= 50
    # Fresh keys every time: two checkouts never share them.
    other = tmp_path / "other.env"
    dev_env.write_if_missing(other)
    assert set(first.splitlines()) & set(other.read_text(encoding="utf-8").splitlines()) == {
        line for line in first.splitlines() if not line.startswith(("DJANGO_SECRET_KEY=", "PORTAL_"))
    }


# ---------------------------------------------------------------------------
# The env helpers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1", True), ("true", True), (" Yes ", True), ("ON", True), ("0", False), ("false", False), ("off", False), ("", False)],
)
def test_env_bool_words(monkeypatch, raw, value):
    monkeypatch.setenv("PORTAL_TEST_FLAG", raw)
    assert env_bool("PORTAL_TEST_FLAG", default=not value) is value


def test_env_bool_default_and_refusal(monkeypatch):
    monkeypatch.delenv("PORTAL_TEST_FLAG", raising=False)
    assert env_bool("PORTAL_TEST_FLAG", default=True) is True
    monkeypatch.setenv("PORTAL_TEST_FLAG", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="PORTAL_TEST_FLAG must be true or false"):
        env_bool("PORTAL_TEST_FLAG")


def test_env_int(monkeypatch):
    monkeypatch.setenv("PORTAL_TEST_INT", "42")
    assert env_int("PORTAL_TEST_INT", 1) == 42
    monkeypatch.setenv("PORTAL_TEST_INT", " ")
    assert env_int("PORTAL_TEST_INT", 7) == 7
    monkeypatch.setenv("PORTAL_TEST_INT", "4.2")
    with pytest.raises(ImproperlyConfigured, match="PORTAL_TEST_INT must be a whole number"):
        env_int("PORTAL_TEST_INT", 1)


def test_env_list_and_str(monkeypatch):
    monkeypatch.setenv("PORTAL_TEST_LIST", " a.gov.qa, ,b.gov.qa ,")
    assert env_list("PORTAL_TEST_LIST") == ["a.gov.qa", "b.gov.qa"]
    monkeypatch.delenv("PORTAL_TEST_LIST")
    assert env_list("PORTAL_TEST_LIST", default=["x"]) == ["x"]
    assert env_str("PORTAL_TEST_LIST", "fallback") == "fallback"


@pytest.mark.parametrize("value", ["not base64 at all!", "c2hvcnQ"])
def test_a_key_of_the_wrong_shape_is_refused(value):
    result = run_python("import django; django.setup()", **production_env(PORTAL_AUDIT_KEY=value))
    assert result.returncode != 0
    assert "PORTAL_AUDIT_KEY" in result.stderr
