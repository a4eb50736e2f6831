"""Feeds in the page's language: Atom (django.contrib.syndication) and an iCalendar file of dates.

Three Atom feeds (items that have opened, published results, published consultation outcomes) and one
iCalendar file (every opening and closing), each filterable with ?entity=<slug> and
?segment=<visitor|citizen|resident>[&persona=...] as on the list page. A filter that names no entity
answers 404 and one that names no audience 400, each with a page that says what to fix; parameters
we do not know (a feed reader's tracking tags) are ignored. Drafts never appear, and results and
outcomes appear only once the pages show them (opendata.published_results, outcome_published_at).

The .ics is written here rather than with a library: what we need of RFC 5545 is small (VEVENTs with
UTC times, TEXT escaping and 75-octet line folding), fully tested in tests/participation/test_feeds*.py,
and a dependency would add more than it saves.
"""

import re
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import audience as audiences
from .bilingual import current_language
from .models import Entity, Item, Kind
from .opendata import published_results

FEED_SIZE = 50
CALENDAR_PAST = timedelta(days=365)
# Feed readers and calendars poll on their own schedule, often every few minutes for every subscriber:
# five minutes in a shared cache (a proxy, the reader's own) costs a subscriber at most five minutes.
FEED_CACHE_SECONDS = 300


class FilterRefused(Exception):
    def __init__(self, status, title, message):
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@dataclass(frozen=True)
class FeedFilter:
    entity: Entity | None = None
    audience: audiences.Audience | None = None

    def apply(self, items):
        if self.entity is not None:
            items = items.filter(entity=self.entity)
        if self.audience is not None:
            items = items.for_audience(self.audience.segment, self.audience.persona)
        return items

    def query(self):
        params = {}
        if self.entity is not None:
            params["entity"] = self.entity.slug
        if self.audience is not None:
            params |= self.audience.as_query()
        return urlencode(params)

    def describe(self):
        parts = []
        if self.entity is not None:
            parts.append(self.entity.name)
        if self.audience is not None:
            parts.append(str(self.audience.label))
        return " · ".join(parts)


def read_filter(request):
    """The validated ?entity=, ?segment= and ?persona=; FilterRefused when one of them names nothing we know."""
    entity = None
    slug = request.GET.get("entity", "")
    if slug:
        entity = Entity.objects.filter(slug=slug).first()
        if entity is None:
            raise FilterRefused(
                404,
                _("No such ministry"),
                _("No ministry or agency has this short name. Use the short name shown in the address of its page."),
            )
    chosen = None
    segment, persona = request.GET.get("segment", ""), request.GET.get("persona", "")
    if segment or persona:
        chosen = audiences.Audience.parse(segment, persona or None)
        if chosen is None:
            raise FilterRefused(
                400,
                _("Unknown choice"),
                _("Choose visitor, citizen or resident as the segment, and a persona that belongs to it."),
            )
    return FeedFilter(entity, chosen)


def _filtered(view):
    """Read the filter first, so that a bad one is a clear 400 or 404 page and never a 500."""

    def wrapper(request):
        try:
            chosen = read_filter(request)
        except FilterRefused as refusal:
            return render(
                request, "error.html", {"title": refusal.title, "message": refusal.message}, status=refusal.status
            )
        response = view(request, chosen)
        patch_cache_control(response, public=True, max_age=FEED_CACHE_SECONDS)
        return response

    wrapper.__name__ = wrapper.__qualname__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


# What XML 1.0 cannot carry: Django's feed writer refuses it with an exception (a 500), so it is dropped.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_text(value):
    return _NOT_IN_XML.sub("", str(value))


class ItemFeed(Feed):
    """Common to the three Atom feeds: the language, the filter, the ministry as author."""

    feed_type = Atom1Feed
    url_name = None

    def __init__(self, chosen):
        super().__init__()
        self.chosen = chosen

    def get_object(self, request, *args, **kwargs):
        return self.chosen

    def heading(self):
        raise NotImplementedError

    def title(self, chosen):
        described = xml_text(chosen.describe())
        return f"{self.heading()} · {described}" if described else self.heading()

    def link(self, chosen):
        return reverse("participation:datasets")

    def feed_url(self, chosen):
        query = chosen.query()
        return reverse(self.url_name) + (f"?{query}" if query else "")

    def author_name(self):
        return _("Hukoomi e-participation")

    def item_title(self, item):
        return xml_text(item.title)

    def item_description(self, item):
        return xml_text(item.summary)

    def item_author_name(self, item):
        return xml_text(item.entity.name)

    def item_categories(self, item):
        return [item.get_kind_display()]

    def dated(self, item):
        """The moment an entry is dated by, as published and as updated."""
        raise NotImplementedError

    def item_pubdate(self, item):
        return self.dated(item)

    def item_updateddate(self, item):
        return self.dated(item)


class OpenedFeed(ItemFeed):
    url_name = "participation:feed_opened"

    def heading(self):
        return _("Newly opened consultations, polls and referendums")

    def subtitle(self, chosen):
        return _("Items of the ministries as they open for people to take part.")

    def items(self, chosen):
        now = timezone.now()
        items = Item.objects.public().filter(opens_at__lte=now).select_related("entity")
        return chosen.apply(items).order_by("-opens_at", "-pk")[:FEED_SIZE]

    def dated(self, item):
        return item.opens_at


class ResultsFeed(ItemFeed):
    url_name = "participation:feed_results"

    def heading(self):
        return _("Published results")

    def subtitle(self, chosen):
        return _("Results of polls and referendums once they are published.")

    def items(self, chosen):
        items = published_results().select_related("entity", "result")
        return chosen.apply(items).order_by("-result__tallied_at", "-pk")[:FEED_SIZE]

    def item_link(self, item):
        return item.get_results_url()

    def item_description(self, item):
        # The results page's own sentences, so that they read the same (and agree in number) in Arabic.
        result = item.result
        counted = ngettext("%(counter)s ballot counted", "%(counter)s ballots counted", result.ballots) % {
            "counter": result.ballots
        }
        if result.turnout_percent is None:
            return counted
        turnout = _("Turnout %(turnout)s%% of %(eligible)s eligible people") % {
            "turnout": result.turnout_percent,
            "eligible": result.eligible,
        }
        return f"{counted} · {turnout}"

    def dated(self, item):
        return item.result.tallied_at


class OutcomesFeed(ItemFeed):
    url_name = "participation:feed_outcomes"

    def heading(self):
        return _("Published outcomes of consultations")

    def subtitle(self, chosen):
        return _("What the ministries heard in their consultations and what they changed.")

    def items(self, chosen):
        items = Item.objects.public().filter(kind=Kind.CONSULTATION, outcome_published_at__isnull=False)
        return chosen.apply(items.select_related("entity")).order_by("-outcome_published_at", "-pk")[:FEED_SIZE]

    def item_link(self, item):
        return item.get_results_url()

    def item_description(self, item):
        return xml_text(item.outcome_changed)

    def dated(self, item):
        return item.outcome_published_at


@_filtered
def opened_feed(request, chosen):
    return OpenedFeed(chosen)(request)


@_filtered
def results_feed(request, chosen):
    return ResultsFeed(chosen)(request)


@_filtered
def outcomes_feed(request, chosen):
    return OutcomesFeed(chosen)(request)


# -- iCalendar (RFC 5545) -------------------------------------------------------------------------

LINE_OCTETS = 75
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def ics_text(value):
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as \\n."""
    value = str(value).replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    return _CONTROL.sub("", value)


def ics_time(moment):
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line):
    """Fold a content line into lines of at most 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > LINE_OCTETS:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)


def calendar_lines(items, request, chosen):
    host = request.get_host().split(":")[0] or "hukoomi"
    lang = current_language()
    name = _("E-participation: opening and closing dates")
    described = chosen.describe()
    yield "BEGIN:VCALENDAR"
    yield "VERSION:2.0"
    yield f"PRODID:-//Hukoomi//E-participation//{lang.upper()}"
    yield "CALSCALE:GREGORIAN"
    yield "METHOD:PUBLISH"
    yield f"X-WR-CALNAME:{ics_text(f'{name} · {described}' if described else name)}"
    for item in items:
        link = request.build_absolute_uri(item.get_absolute_url())
        description = ics_text("\n".join((item.entity.name, item.summary)))
        for event, moment, label in (
            ("opens", item.opens_at, _("Opens: %(title)s")),
            ("closes", item.closes_at, _("Closes: %(title)s")),
        ):
            yield "BEGIN:VEVENT"
            yield f"UID:{item.kind}-{item.slug}-{event}-{lang}@{host}"
            yield f"DTSTAMP:{ics_time(item.updated_at)}"
            yield f"DTSTART:{ics_time(moment)}"
            yield f"SUMMARY:{ics_text(label % {'title': item.title})}"
            yield f"DESCRIPTION:{description}"
            yield f"CATEGORIES:{ics_text(item.get_kind_display())}"
            yield f"URL:{link}"
            yield "END:VEVENT"
    yield "END:VCALENDAR"


@_filtered
def calendar(request, chosen):
    """Every public item's opening and closing, from a year ago on, as an iCalendar file."""
    since = timezone.now() - CALENDAR_PAST
    items = chosen.apply(Item.objects.public().filter(closes_at__gte=since).select_related("entity"))
    lines = calendar_lines(items.order_by("opens_at", "pk"), request, chosen)
    response = HttpResponse("".join(fold(line) + "\r\n" for line in lines), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="hukoomi-e-participation.ics"'
    return response
