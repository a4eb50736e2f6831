"""Outages of the database and of Redis: a 503 page for the one, a cache that degrades for the other.

A database that does not answer gives a 503 page with Retry-After, never a 500.

PostgreSQL restarting, failing over or refusing connections for a few seconds is an outage of the
service, not a bug in the request: the answer says so (503), tells browsers and proxies when to try
again (Retry-After) and is not cached. Nothing is written by such a request, because the database
did not accept it, so trying again is always safe. Recovery needs nothing from us: Django discards
a connection that raised (close_if_unusable_or_obsolete at the end of the request) and the next
request opens a fresh one.

Two ways in, because an outage can surface in two places:
- a view's query raises: DatabaseUnavailableMiddleware.process_exception answers;
- anything else raises (a middleware, a lazily evaluated template, the session saved on the way
  out): Django calls handler500, and hukoomi_portal.views.server_error hands over to
  `unavailable_response` when the exception being handled is a database outage.

The page is rendered without a request context (no user, no session, no context processors), so
that rendering it never touches the database that just failed.

Redis that does not answer is not an outage of the portal: see DegradingRedisCache.
"""

import logging
import sys
import time

from django.core.cache.backends.redis import RedisCache
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language, get_language_bidi

logger = logging.getLogger(__name__)

# A PostgreSQL restart takes a few seconds, a managed fail-over up to half a minute.
RETRY_AFTER_SECONDS = 30
DATABASE_OUTAGE_ERRORS = (OperationalError, InterfaceError)


def is_database_outage(exception):
    """True for Django's wrappers of "the database is unreachable or the connection broke".

    Integrity and data errors are not outages: they are answered (or fail) where they happen.
    """
    return isinstance(exception, DATABASE_OUTAGE_ERRORS)


def unavailable_response(request, exception=None):
    """The 503 page in the request's language, with Retry-After and no-store."""
    logger.warning(
        "Database unavailable, answering 503 to %s %s: %s",
        request.method,
        request.path,
        exception.__class__.__name__ if exception is not None else "unknown error",
    )
    body = render_to_string(
        "503.html",
        {"LANGUAGE_CODE": get_language(), "LANGUAGE_BIDI": get_language_bidi(), "retry_after": RETRY_AFTER_SECONDS},
    )
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def database_outage_in_flight():
    """The exception being handled, when it is a database outage (for handler500); else None."""
    exception = sys.exc_info()[1]
    return exception if is_database_outage(exception) else None


class DatabaseUnavailableMiddleware:
    """Turns OperationalError and InterfaceError raised by a view into the 503 page.

    Placed after LocaleMiddleware, so that the page speaks the language of the URL it answers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_outage(exception):
            return unavailable_response(request, exception)
        return None


class DegradingRedisCache(RedisCache):
    """Django's RedisCache that behaves as an empty cache which keeps nothing while Redis is unreachable.

    What the cache holds here are allauth's rate limits, the feedback throttle's counters and the
    published audit checkpoint; sessions, votes and comments live in the database. With plain
    RedisCache a stopped Redis turns every sign-in, feedback answer and results page into a 500.
    Degraded, while Redis is down:
    - reads miss (get -> default, get_many -> {}, has_key -> False): pages compute what they need;
    - writes are dropped, and `add` reports success, as on a cache that was just emptied: allauth's
      cache lock is taken at once instead of after a one-second wait;
    - `incr` raises ValueError, as for a missing key: the feedback throttle then starts a new window.
    So the limits allow while Redis is down. That is deliberate: refusing instead would lock every
    person out of signing in for as long as Redis is down, which is worse than a few minutes without
    a limit on failed logins (the password check still runs; one ballot per voter is a database
    constraint and does not depend on the cache). The outage is logged as a warning, at most once a
    minute per process, so operators see it. Everything comes back by itself: redis-py reconnects
    on the next command once Redis answers again.

    Only unreachability degrades (connection refused or broken, timeouts, Redis still loading its
    data); any other Redis error is a bug and raises.
    """

    WARNING_EVERY_SECONDS = 60
    _last_warning = 0.0

    @staticmethod
    def _outage_errors():
        # Optional dependency: only the Redis cache backends use this class, and they bring redis.
        import redis

        return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)

    def _degrade(self, operation, fallback, *args, **kwargs):
        try:
            return getattr(super(), operation)(*args, **kwargs)
        except self._outage_errors() as error:
            now = time.monotonic()
            if now - DegradingRedisCache._last_warning >= self.WARNING_EVERY_SECONDS:
                DegradingRedisCache._last_warning = now
                logger.warning("Redis cache unreachable (%s): running without a cache; rate limits allow", error)
            if isinstance(fallback, BaseException):
                raise fallback from error
            return fallback

    def get(self, key, default=None, version=None):
        return self._degrade("get", default, key, default=default, version=version)

    def get_many(self, keys, version=None):
        return self._degrade("get_many", {}, keys, version=version)

    def has_key(self, key, version=None):
        return self._degrade("has_key", False, key, version=version)

    def add(self, *args, **kwargs):
        return self._degrade("add", True, *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._degrade("set", None, *args, **kwargs)

    def set_many(self, *args, **kwargs):
        # Django's contract: the keys that failed to be set.
        return self._degrade("set_many", [], *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._degrade("touch", False, *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._degrade("delete", False, *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._degrade("delete_many", None, *args, **kwargs)

    def incr(self, key, delta=1, version=None):
        return self._degrade("incr", ValueError(f"Key {key!r} not found (Redis unreachable)."), key, delta=delta, version=version)

    def clear(self):
        return self._degrade("clear", False)
