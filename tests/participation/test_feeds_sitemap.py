"""sitemap.xml with both languages and hreflang alternates, robots.txt, and the pages' links to feeds and data."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from participation.models import State
from tests.builders.audit import NOW, bus_poll, closed_consultation, new_law_referendum
from tests.builders.items import close, count, make_poll, make_referendum, question_and_options, vote_referendum
from tests.builders.users import person
from tests.factories import EntityFactory, PollFactory

from .conftest import assert_shown, page, t, url

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def sitemap_urls(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 (our own response)
    urls = {}
    for node in root.iter(f"{SITEMAP}url"):
        links = {link.get("hreflang"): link.get("href") for link in node.iter(f"{XHTML}link")}
        urls[node.find(f"{SITEMAP}loc").text.removeprefix("http://testserver")] = links
    return urls


def test_sitemap_lists_public_pages_in_both_languages_with_alternates(client):
    poll, _people = bus_poll()
    waiting = make_referendum(results_need_approval=True, requires_verified_identity=True, options=2, state=State.OPEN)
    _question, options = question_and_options(waiting)
    vote_referendum(person(verified=True), waiting, options[0])
    count(close(waiting))
    draft = make_poll(state=State.DRAFT, options=2)
    urls = sitemap_urls(client)
    for lang in ("ar", "en"):
        assert f"/{lang}/polls/{poll.slug}/" in urls
        assert f"/{lang}/polls/{poll.slug}/results/" in urls
        assert f"/{lang}/you-said-we-did/" in urls
        assert f"/{lang}/you-said-we-did/{poll.entity.slug}/" in urls
        assert f"/{lang}/data/" in urls
        assert f"/{lang}/referendums/{waiting.slug}/" in urls
        assert f"/{lang}/referendums/{waiting.slug}/results/" not in urls
    assert not any(draft.slug in loc for loc in urls)
    alternates = urls[f"/en/polls/{poll.slug}/"]
    assert alternates == {
        "ar": f"http://testserver/ar/polls/{poll.slug}/",
        "en": f"http://testserver/en/polls/{poll.slug}/",
        "x-default": f"http://testserver/polls/{poll.slug}/",
    }
    # x-default is the address without a language, which sends each reader to their language's page.
    assert client.get(f"/polls/{poll.slug}/", HTTP_ACCEPT_LANGUAGE="en")["Location"] == f"/en/polls/{poll.slug}/"
    assert client.get(f"/polls/{poll.slug}/", HTTP_ACCEPT_LANGUAGE="ar")["Location"] == f"/ar/polls/{poll.slug}/"


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /admin/" in lines
    assert "Disallow: /en/profile/" in lines and "Disallow: /ar/audit/" in lines
    assert "Allow: /ar/audit/checkpoint/" in lines
    assert lines[-1] == "Sitemap: http://testserver/sitemap.xml"


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_pages_link_the_feeds_and_the_open_data(client, lang):
    new_law_referendum()
    response = client.get(f"/{lang}/")
    body = page(response)
    for name in ("feed_opened", "feed_results", "feed_outcomes"):
        assert '<link rel="alternate" type="application/atom+xml"' in body
        assert f'href="{url(lang, name)}"' in body
    assert f'type="text/calendar" title="{t(lang, "Opening and closing dates (iCalendar, for your calendar)")}"' in body
    assert f'href="{url(lang, "accountability")}">{t(lang, "You said, we did")}</a>' in body
    assert f'href="{url(lang, "datasets")}">{t(lang, "Open data")}</a>' in body
    datasets = client.get(url(lang, "datasets"))
    assert_shown(datasets, t(lang, "Published outcomes of consultations (Atom feed)"))
    assert f'href="{url(lang, "feed_calendar")}"' in page(datasets)


FEED_AND_SITEMAP_QUERIES = {
    "/ar/feeds/opened.atom": 1,
    "/ar/feeds/results.atom": 1,
    "/ar/feeds/outcomes.atom": 1,
    "/ar/feeds/calendar.ics": 1,
    "/sitemap.xml": 3,  # one per sitemap section with a query: items, results and outcomes, ministries
}


def test_feeds_and_the_sitemap_cost_the_same_queries_whatever_the_number_of_items(client):
    """Each item's ministry, result and address come with the list (select_related, only), never a query per row."""
    for n in range(2):
        _items_of_a_new_ministry(n)
    assert _query_counts(client) == FEED_AND_SITEMAP_QUERIES
    for n in range(2, 10):
        _items_of_a_new_ministry(n)
    assert _query_counts(client) == FEED_AND_SITEMAP_QUERIES


def _items_of_a_new_ministry(n):
    entity = EntityFactory()
    closed_consultation(f"heard-{n}", entity=entity, took_part=1, published_at=NOW)
    PollFactory(state=State.OPEN, entity=entity, opens_at=NOW - timedelta(days=1))
    bus_poll(f"bus-routes-{n}", entity=entity)


def _query_counts(client):
    counts = {}
    for path in FEED_AND_SITEMAP_QUERIES:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200, path
        counts[path] = len(queries)
    return counts
