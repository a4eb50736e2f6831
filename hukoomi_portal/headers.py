"""Headers that every response carries, and no-store on the pages listed in settings.NO_STORE_VIEWS.

The Content-Security-Policy itself is django-csp's (csp.middleware.CSPMiddleware); this adds what
Django and django-csp do not: a Permissions-Policy, and `Cache-Control: no-store` decided in one
place by the name of the view, so that a new private page is one line in security_settings.py and
one row in its test (tests/test_security_headers.py), not a decorator someone may forget.
"""

from django.conf import settings
from django.utils.cache import add_never_cache_headers


def permissions_policy_header(policy):
    """{"camera": [], "fullscreen": ["self"]} -> 'camera=(), fullscreen=(self)' (the structured-header form)."""
    return ", ".join(f"{feature}=({' '.join(origins)})" for feature, origins in policy.items())


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; no-store on the private pages, whatever their status.

    An error page of a private view (a refused vote, a 403 on an export) is no-store too: the rule
    follows the URL, not the answer.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.permissions_policy = permissions_policy_header(getattr(settings, "PERMISSIONS_POLICY", {}))
        self.no_store_views = frozenset(getattr(settings, "NO_STORE_VIEWS", ()))

    def __call__(self, request):
        response = self.get_response(request)
        if self.permissions_policy:
            response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name in self.no_store_views:
            add_never_cache_headers(response)
        return response
