"""Feeds and the calendar may be kept by shared caches for a few minutes; refusals may not."""

import pytest
from django.urls import reverse
from django.utils import translation

from participation.feeds import FEED_CACHE_SECONDS

pytestmark = pytest.mark.django_db

FEEDS = [f"participation:{name}" for name in ("feed_opened", "feed_results", "feed_outcomes", "feed_calendar")]


@pytest.mark.parametrize("language", ["ar", "en"])
@pytest.mark.parametrize("name", FEEDS)
def test_a_feed_says_how_long_it_may_be_kept(client, name, language):
    with translation.override(language):
        url = reverse(name)
    response = client.get(url)
    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert directives == {"public", f"max-age={FEED_CACHE_SECONDS}"}


@pytest.mark.parametrize("language", ["ar", "en"])
def test_a_refused_filter_is_not_cached_as_public(client, language):
    with translation.override(language):
        url = reverse("participation:feed_opened")
    response = client.get(url, {"entity": "no-such-ministry"})
    assert response.status_code == 404
    assert "public" not in response.get("Cache-Control", "")
