"""The feedback widget's throttle per client: a keyed hash of the address in Django's cache, never the address;
40 posts without a cookie from one address are not all stored; the refusal is a 429 in the page's language."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.test import Client

from participation import feedback
from participation.models import PageFeedback

from .conftest import t

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.23"
MESSAGE = "Too many answers in a short time. Please try again in a few minutes."


@pytest.fixture(autouse=True)
def mid_window(time_machine):
    """The client window is fixed (10 minutes from the epoch): posts that crossed its edge would start a new
    count, so the clock stands still in the middle of one."""
    time_machine.move_to(datetime(2026, 11, 30, 9, 5, tzinfo=UTC), tick=False)


def post_without_cookie(lang, address=ADDRESS, *, as_json=False):
    """A fresh client each time: a new session, as a script that drops its cookies."""
    headers = {"HTTP_ACCEPT": "application/json"} if as_json else {}
    return Client(REMOTE_ADDR=address).post(
        f"/{lang}/feedback/", {"path": f"/{lang}/about/", "answer": "yes"}, **headers
    )


def cache_contents():
    """Every key and value of the local-memory cache the tests run with, as text."""
    return " ".join(f"{key} {value!r}" for key, value in cache._cache.items())


@pytest.mark.parametrize("as_json", [False, True], ids=["without-javascript", "with-javascript"])
def test_forty_posts_without_a_cookie_are_not_all_stored(lang, as_json):
    answers = [post_without_cookie(lang, as_json=as_json) for _ in range(40)]
    statuses = [response.status_code for response in answers]
    accepted = 200 if as_json else 302
    assert statuses == [accepted] * feedback.CLIENT_MAX_ANSWERS + [429] * (40 - feedback.CLIENT_MAX_ANSWERS)
    assert PageFeedback.objects.count() == feedback.CLIENT_MAX_ANSWERS
    refused = answers[-1]
    if as_json:
        assert refused.json()["error"] == t(lang, MESSAGE)
    else:
        html = refused.content.decode()
        assert t(lang, MESSAGE) in html
        assert f'<html lang="{lang}"' in html


def test_other_addresses_are_counted_apart(lang):
    for _ in range(feedback.CLIENT_MAX_ANSWERS + 1):
        post_without_cookie(lang)
    assert post_without_cookie(lang).status_code == 429
    assert post_without_cookie(lang, "203.0.113.9").status_code == 302


def test_an_ipv6_client_is_its_64_prefix(lang):
    for n in range(feedback.CLIENT_MAX_ANSWERS):
        assert post_without_cookie(lang, f"2001:db8:1:2::{n + 1:x}").status_code == 302
    assert post_without_cookie(lang, "2001:db8:1:2:ffff::1").status_code == 429
    assert post_without_cookie(lang, "2001:db8:1:3::1").status_code == 302


def test_the_cache_holds_a_keyed_hash_never_the_address(lang, settings):
    post_without_cookie(lang)
    contents = cache_contents()
    assert ADDRESS not in contents
    assert ADDRESS.replace(".", "") not in contents
    request = Client(REMOTE_ADDR=ADDRESS).get("/").wsgi_request
    key = feedback.client_key(request)
    assert key in contents
    # Keyed with the secret key: the same address under another key is another, unrelated hash.
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789-abcdefghijkl"
    assert feedback.client_key(request) != key
