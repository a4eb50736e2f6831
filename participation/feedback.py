"""The "Is this easy to understand?" widget: path normalising and throttling.

Storing an answer is services/feedback.py's.
"""

import hashlib
import hmac
import ipaddress
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext as _

from .audit import client_address
from .models import Item

SESSION_KEY = "page_feedback"
THROTTLE_WINDOW_SECONDS = 10 * 60
THROTTLE_MAX_ANSWERS = 10
REASON_WINDOW_SECONDS = 60 * 60
# Per client as well as per session: a script that drops its cookie is a new session on every post.
# Generous, because many people share one address (an office, a mobile operator's NAT).
CLIENT_WINDOW_SECONDS = 10 * 60
CLIENT_MAX_ANSWERS = 30
CLIENT_CACHE_PREFIX = "feedback-client"

EMAIL_RE = re.compile(r"[^/\s@]+@[^/\s@]+")
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}
# Pages that are not content a reader would judge (the widget is not shown there).
UNRATED_PREFIXES = ("/feedback/",)
SECRET_URL_KWARGS = {"key", "uidb36", "token", "uidb64"}


class FeedbackRefused(Exception):
    """The answer cannot be stored; `status` is the HTTP status to answer with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


def normalise_path(raw):
    """Return (language, path without language prefix) for a page of the portal.

    Drops the query string and fragment, replaces anything that looks like an
    e-mail address (GOV.UK strips them too), and refuses paths that are not a
    page of ours.
    """
    if not raw or len(raw) > 255 or not raw.startswith("/") or raw.startswith("//"):
        raise FeedbackRefused(_("This page address is not one of the portal's pages."))
    path = urlsplit(raw).path
    parts = path.split("/", 2)
    if len(parts) < 3 or parts[1] not in LANGUAGE_CODES:
        raise FeedbackRefused(_("This page address is not one of the portal's pages."))
    try:
        with translation.override(parts[1]):
            match = resolve(path)
    except Resolver404:
        raise FeedbackRefused(_("This page address is not one of the portal's pages.")) from None
    if not _object_exists(match):
        raise FeedbackRefused(_("This page address is not one of the portal's pages."))
    for name, value in match.kwargs.items():
        # Links from e-mails carry secrets (confirmation and reset keys): keep the page, not the key.
        if name in SECRET_URL_KWARGS:
            path = path.replace(str(value), f"<{name}>")
    language, rest = parts[1], "/" + path.split("/", 2)[2]
    if rest.startswith(UNRATED_PREFIXES):
        raise FeedbackRefused(_("This page address is not one of the portal's pages."))
    return language, EMAIL_RE.sub("[email]", rest)


def _object_exists(match):
    """A public item page whose slug matches no public item is not a page of ours."""
    if match.namespace == "participation" and "slug" in match.kwargs:
        return Item.objects.public().filter(slug=match.kwargs["slug"]).exists()
    return True


def session_state(session):
    return session.setdefault(SESSION_KEY, {"log": [], "pages": {}})


def page_state(session, language, path):
    """What the widget should show on this page for this session: None, "reason" or "thanks"."""
    entry = (session.get(SESSION_KEY) or {}).get("pages", {}).get(f"{language}:{path}")
    return entry["state"] if entry else None


def client_key(request):
    """Who is answering, as far as the throttle needs to know: a keyed hash of the client's address.

    HMAC-SHA256 with the secret key, so the cache never holds an address, and a list of all IPv4
    addresses hashed without the key would not reverse it. An IPv6 client is its /64: one household
    or phone holds a whole /64 and could otherwise count as billions of clients.
    """
    address = client_address(request) or ""
    if ":" in address:
        address = str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    message = f"{CLIENT_CACHE_PREFIX}:{address}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def count_for_client(client, now):
    """Count one answer for this client in the current window; return the window's count.

    A fixed window in Django's cache (shared by all web processes when the cache is Redis):
    `add` starts it, `incr` is atomic on Redis and on the local-memory cache.
    """
    key = f"{CLIENT_CACHE_PREFIX}:{client}:{int(now // CLIENT_WINDOW_SECONDS)}"
    cache.add(key, 0, timeout=CLIENT_WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.set(key, 1, timeout=CLIENT_WINDOW_SECONDS)
        return 1
