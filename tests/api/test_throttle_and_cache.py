"""Rate limits per client, counted in the cache; answers kept in the cache for a short while, refusals never."""

import pytest
from django.core.cache import cache, caches

from participation.models import Item, State
from tests.factories import PollFactory

pytestmark = pytest.mark.django_db


def test_a_client_over_its_rate_gets_429_and_others_do_not(client, world, settings):
    settings.PORTAL_API_RATE = "3/minute"
    for _ in range(3):
        assert client.get("/api/v1/entities/", REMOTE_ADDR="192.0.2.10").status_code == 200
    refused = client.get("/api/v1/entities/", REMOTE_ADDR="192.0.2.10")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "detail" in refused.json()
    # Every endpoint shares the client's allowance; another client has its own.
    assert client.get("/api/v1/items/", REMOTE_ADDR="192.0.2.10").status_code == 429
    assert client.get("/api/v1/entities/", REMOTE_ADDR="192.0.2.11").status_code == 200


def test_the_throttle_keeps_no_address_in_the_cache(client, world, settings):
    settings.PORTAL_API_RATE = "3/minute"
    client.get("/api/v1/entities/", REMOTE_ADDR="192.0.2.77")
    keys = [key for key in cache._cache if "throttle" in key]
    assert keys and not any("192.0.2.77" in key for key in keys)


def test_an_answer_is_served_from_the_cache_without_a_query(client, world, django_assert_num_queries):
    first = client.get("/api/v1/items/bus-routes/results/")
    assert first["Cache-Control"] == "public, max-age=30"
    with django_assert_num_queries(0):
        again = client.get("/api/v1/items/bus-routes/results/")
    assert again.json() == first.json()


def test_refusals_are_not_cached(client, world):
    assert client.get("/api/v1/items/brand-new/").status_code == 404
    PollFactory(slug="brand-new", state=State.SCHEDULED)
    assert client.get("/api/v1/items/brand-new/").status_code == 200


def test_the_cache_can_be_switched_off(client, world, settings):
    settings.PORTAL_API_CACHE_SECONDS = 0
    assert client.get("/api/v1/items/upcoming-poll/").json()["title"]["en"] != "Changed"
    Item.objects.filter(slug="upcoming-poll").update(title_en="Changed")
    assert client.get("/api/v1/items/upcoming-poll/").json()["title"]["en"] == "Changed"


def test_the_rate_is_counted_in_the_shared_redis_cache(client, world, settings, redis_url):
    """With Redis, as in production: every web process reads and writes the same count."""
    settings.CACHES = {
        "default": {
            "BACKEND": "hukoomi_portal.resilience.DegradingRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "api-test",
        }
    }
    settings.PORTAL_API_RATE = "2/minute"
    redis = caches["default"]._cache.get_client()
    caches["default"].clear()
    try:
        codes = [client.get("/api/v1/entities/", REMOTE_ADDR="192.0.2.50").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert [key for key in redis.keys("api-test:*") if b"throttle_api_" in key]
    finally:
        caches["default"].clear()


def test_parameters_the_view_ignores_share_one_cached_answer(client, world, django_assert_num_queries):
    """`?x=1`, `?x=2` … cannot each build and keep an answer: the key holds only what the view reads."""
    first = client.get("/api/v1/items/", {"type": "poll", "utm_source": "one"})
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = client.get("/api/v1/items/", {"utm_source": "two", "type": "poll", "x": "3"})
    assert again.json()["results"] == first.json()["results"]


def test_parameters_the_view_reads_have_answers_of_their_own(client, world):
    polls = client.get("/api/v1/items/", {"type": "poll"}).json()["results"]
    referendums = client.get("/api/v1/items/", {"type": "referendum"}).json()["results"]
    assert {item["type"] for item in polls} == {"poll"}
    assert {item["type"] for item in referendums} == {"referendum"}
