"""Rate limits of the public API: per client, counted in the shared cache (Redis in production)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from participation.feedback import client_key


class ClientRateThrottle(SimpleRateThrottle):
    """PORTAL_API_RATE requests per client (e.g. "120/minute"), then 429 with Retry-After.

    The client is the feedback throttle's keyed hash of its address (an IPv6 client is its /64),
    so the cache never holds an address. The rate is read on every request, not frozen at import.
    """

    scope = "api"

    def get_rate(self):
        return settings.PORTAL_API_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_key(request)}
