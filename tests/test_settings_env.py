"""Settings read from the environment: refusals, deploy checks, database URL and Celery mode.

Each case loads the settings in a fresh interpreter with a clean environment, so that
nothing from the test run (or the developer's shell) leaks in.
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
    "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    "CELERY_TASK_ALWAYS_EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
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
    return {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "example.gov.qa",
        "PORTAL_BALLOT_BOX_KEY": secrets.token_urlsafe(32),
        "PORTAL_AUDIT_KEY": secrets.token_urlsafe(32),
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


def test_a_bad_conn_max_age_is_refused():
    result = run_python(SHOW_SETTINGS, **production_env(DATABASE_CONN_MAX_AGE="forever"))
    assert result.returncode != 0
    assert "DATABASE_CONN_MAX_AGE must be a whole number" in result.stderr


# ---------------------------------------------------------------------------
# Celery
# ---------------------------------------------------------------------------


def test_celery_is_eager_without_a_broker():
    values = settings_with(**production_env())
    assert values["CELERY_BROKER_URL"] is None
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    result = run_python(SHOW_CELERY, **production_env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["eager"] is True


def test_celery_is_not_eager_with_a_broker():
    broker = "redis://127.0.0.1:6379/3"
    values = settings_with(**production_env(CELERY_BROKER_URL=broker))
    assert values["CELERY_BROKER_URL"] == broker
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    result = run_python(SHOW_CELERY, **production_env(CELERY_BROKER_URL=broker))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"eager": False, "broker": broker}


def test_an_empty_broker_url_means_no_broker():
    values = settings_with(**production_env(CELERY_BROKER_URL=""))
    assert values["CELERY_BROKER_URL"] is None
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True


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


@pytest.mark.parametrize("name", ["PORTAL_BALLOT_BOX_KEY", "PORTAL_AUDIT_KEY"])
def test_production_refuses_to_start_without_each_key(name):
    result = run_python("import django; django.setup()", **production_env(**{name: ""}))
    assert result.returncode != 0
    assert name in result.stderr


@pytest.mark.parametrize("value", ["not base64 at all!", "c2hvcnQ"])
def test_a_key_of_the_wrong_shape_is_refused(value):
    result = run_python("import django; django.setup()", **production_env(PORTAL_AUDIT_KEY=value))
    assert result.returncode != 0
    assert "PORTAL_AUDIT_KEY" in result.stderr
