"""Redis stops and comes back: voting, commenting and reading go on, and nobody gets a 500.

Redis is the shared cache (allauth's login limits, the feedback throttle, the published audit
checkpoint) and the broker. None of that is where a vote, a comment or a page lives, so an outage
of Redis must not take them down: the cache degrades to "no cache" (reads compute, limits allow,
with a logged warning) and comes back by itself when Redis does.

A private redis-server (tests/faults/services.py) on a free loopback port is the cache of the
portal in this test; the machine's Redis is never touched. Runs on SQLite and PostgreSQL.
"""

import itertools
import logging

import pytest
from django.test import override_settings

from hukoomi_portal import settings as production_settings
from hukoomi_portal.resilience import DegradingRedisCache
from participation.models import Comment, PageFeedback, PollBallot
from tests.builders.items import make_consultation, make_poll, single_choices
from tests.factories import UserFactory, VerifiedUserFactory

from .services import private_redis

pytestmark = pytest.mark.django_db

_voters = itertools.count(1)


def redis_cache(url):
    """The production cache configuration (settings.py with CACHE_URL set), pointed at our Redis."""
    production = dict(production_settings.CACHES["default"])
    production["LOCATION"] = url
    return {"default": production}


def everything_a_visitor_does(client, lang, poll, consultation, password):
    """Read, vote, comment, answer the feedback widget and sign in: {what: status}; asserts what was stored."""
    statuses = {
        "list": client.get(f"/{lang}/participate/").status_code,
        "poll page": client.get(f"/{lang}/polls/{poll.slug}/").status_code,
        "checkpoint": client.get(f"/{lang}/audit/checkpoint/").status_code,
        "home": client.get(f"/{lang}/").status_code,
    }

    voter = VerifiedUserFactory()
    client.force_login(voter)
    choices = {f"question-{q}": v for q, v in single_choices(poll).items()}
    statuses["vote"] = client.post(f"/{lang}/polls/{poll.slug}/", choices).status_code
    assert PollBallot.objects.filter(item=poll, voter=voter).count() == 1, "the vote was not stored"

    body = f"A comment written while testing Redis, number {next(_voters)}."
    statuses["comment"] = client.post(
        f"/{lang}/consultations/{consultation.slug}/comment/", {"body": body, "section": ""}
    ).status_code
    assert Comment.objects.filter(item=consultation, author=voter, body=body).exists(), "the comment was not stored"

    before = PageFeedback.objects.count()
    statuses["feedback"] = client.post(
        f"/{lang}/feedback/", {"path": f"/{lang}/participate/", "answer": "yes"}
    ).status_code
    assert PageFeedback.objects.count() == before + 1, "the feedback answer was not stored"
    client.logout()

    person = UserFactory()
    statuses["sign in"] = client.post(
        f"/{lang}/accounts/login/", {"login": person.email, "password": password}
    ).status_code
    return statuses


EXPECTED = {
    "list": 200,
    "poll page": 200,
    "checkpoint": 200,
    "home": 200,
    "vote": 302,
    "comment": 302,
    "feedback": 302,
    "sign in": 302,
}


def test_voting_commenting_and_reading_continue_while_redis_is_down_and_after(
    client, lang, password, tmp_path, caplog, monkeypatch
):
    monkeypatch.setattr(DegradingRedisCache, "_last_warning", 0.0)  # the warning is logged once a minute
    poll = make_poll(questions=1, options=2)
    consultation = make_consultation(sections=1, moderate_before_publishing=False)
    client.raise_request_exception = False  # a 500 is an answer to assert on, not an exception in the test

    with private_redis(tmp_path) as redis_server, override_settings(CACHES=redis_cache(redis_server.url(0))):
        assert everything_a_visitor_does(client, lang, poll, consultation, password) == EXPECTED

        redis_server.stop()
        with caplog.at_level(logging.WARNING):
            down = everything_a_visitor_does(client, lang, poll, consultation, password)
        assert down == EXPECTED, down
        assert any("cache" in record.getMessage().lower() for record in caplog.records), "the outage was not logged"

        redis_server.start()
        assert everything_a_visitor_does(client, lang, poll, consultation, password) == EXPECTED
