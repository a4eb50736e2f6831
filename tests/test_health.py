"""/healthz: the database must answer; the broker is reported, not required."""

import pytest
from django.db import OperationalError

from hukoomi_portal import views

pytestmark = pytest.mark.django_db


class BrokenConnection:
    """Stands in for django.db.connection when the database is down."""

    def cursor(self):
        raise OperationalError("could not connect to server: Connection refused")


def test_healthz_ok_without_a_broker(client, settings):
    settings.CELERY_BROKER_URL = None
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "disabled"}


def test_healthz_has_no_language_prefix(client, settings, lang):
    settings.CELERY_BROKER_URL = None
    assert client.get("/healthz", HTTP_ACCEPT_LANGUAGE=lang).status_code == 200
    assert client.get(f"/{lang}/healthz").status_code == 404


def test_healthz_is_503_when_the_database_does_not_answer(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = None
    monkeypatch.setattr(views, "connection", BrokenConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "broker": "disabled"}


def test_healthz_reports_a_broker_that_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "broker": "error"}


def test_healthz_database_error_wins_over_broker_error(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(views, "connection", BrokenConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "broker": "error"}


def test_healthz_with_a_live_broker(client, settings, redis_url):
    settings.CELERY_BROKER_URL = redis_url
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
