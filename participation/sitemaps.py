"""sitemap.xml (django.contrib.sitemaps) in both languages with hreflang alternates, and robots.txt.

Every URL is listed once per language with <xhtml:link rel="alternate" hreflang="..."> to the other
(and x-default to the Arabic one). Only public pages: never a draft, an admin page, a profile or an
auditor's download; a results page once the results are published, an outcome page once a
consultation has closed.
"""

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .models import Entity, Item, Kind
from .opendata import published_results


class BilingualSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True


class PagesSitemap(BilingualSitemap):
    changefreq = "daily"

    def items(self):
        return [
            "home", "about", "policy", "participation:list", "participation:accountability", "participation:datasets",
        ]

    def location(self, name):
        return reverse(name)


class ItemsSitemap(BilingualSitemap):
    """Every public item's page."""

    def items(self):
        return Item.objects.public().order_by("pk").only("pk", "kind", "slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class ResultsSitemap(BilingualSitemap):
    """Published results pages, and the outcome pages of closed consultations."""

    def items(self):
        outcomes = Item.objects.public().closed(timezone.now()).filter(kind=Kind.CONSULTATION)
        results = published_results()
        return (outcomes | results).order_by("pk").only("pk", "kind", "slug", "updated_at")

    def location(self, item):
        return item.get_results_url()

    def lastmod(self, item):
        return item.updated_at


class AccountabilitySitemap(BilingualSitemap):
    """Each ministry's "You said, we did" page."""

    def items(self):
        return Entity.objects.order_by("pk")

    def location(self, entity):
        return reverse("participation:accountability_entity", kwargs={"slug": entity.slug})


SITEMAPS = {
    "pages": PagesSitemap,
    "items": ItemsSitemap,
    "results": ResultsSitemap,
    "accountability": AccountabilitySitemap,
}


def sitemap(request):
    return sitemap_view(request, sitemaps=SITEMAPS)


# What crawlers should leave alone: the admin, sign-in and profiles, the feedback and unsubscribe
# forms, and the auditors' pages (the checkpoint page is public and stays allowed).
ROBOTS_DISALLOWED = ("accounts/", "profile/", "feedback/", "unsubscribe/", "audit/", "audience/")


@require_GET
def robots_txt(request):
    lines = ["User-agent: *", "Disallow: /admin/"]
    for lang in ("ar", "en"):
        lines.append(f"Allow: /{lang}/audit/checkpoint/")
        lines += [f"Disallow: /{lang}/{path}" for path in ROBOTS_DISALLOWED]
    lines.append(f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
