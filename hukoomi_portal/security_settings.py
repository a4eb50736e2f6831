"""Response headers: Content-Security-Policy, Permissions-Policy, and no-store on private pages.

Imported by the last line of settings.py (`from .security_settings import *`), so these values are
reviewed in one place and the main settings stay about the environment. Nothing here is read from
the environment: the policy is the same on a laptop, in CI and in production, so that a page that
breaks under it breaks in development first.
"""

from csp.constants import NONE, SELF

# No 'unsafe-inline' and no 'unsafe-eval': every script and style is a file under static/
# (the Django admin of 5.2 has no inline script or style either). `data:` images are Bootstrap's
# SVG icons (checkboxes, selects, the navbar toggler), which its stylesheet embeds as data URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# Browser features that no page of the portal uses, refused for it and for anything it embeds.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
    "fullscreen": ["self"],
}

# The pages that show a receipt, an identity number or audit data: browsers and proxies must not
# keep a copy (a shared computer's back button, a proxy cache). The admin is never cached already
# (Django's admin_view wraps every admin page in never_cache).
NO_STORE_VIEWS = frozenset(
    {
        "accounts:profile",
        "account_signup",  # a refused sign-up shows the identity number back in its form
        "participation:poll_detail",  # the vote's answer page (errors show the choices made)
        "participation:poll_thanks",
        "participation:referendum_detail",  # the vote's answer page
        "participation:referendum_receipt",  # the receipt, shown once
        "participation:referendum_receipts",  # the receipt check (?code= carries a receipt)
        "participation:audit_index",
        "participation:audit_trail_csv",
        "participation:export_csv",
        "participation:export_sha256",
    }
)

_SECURITY_MIDDLEWARE = ["csp.middleware.CSPMiddleware", "hukoomi_portal.headers.SecurityHeadersMiddleware"]


def _with_security_middleware(middleware):
    """The main MIDDLEWARE list with ours right after Django's SecurityMiddleware (each once)."""
    rest = [name for name in middleware if name not in _SECURITY_MIDDLEWARE]
    at = rest.index("django.middleware.security.SecurityMiddleware") + 1 if "django.middleware.security.SecurityMiddleware" in rest else 0
    return [*rest[:at], *_SECURITY_MIDDLEWARE, *rest[at:]]


# settings.py imports this module on its last line, so its MIDDLEWARE is already defined (the
# module is half-imported, which is enough for the names above the import).
from .settings import MIDDLEWARE as _BASE_MIDDLEWARE  # noqa: E402

# A database outage answers 503 with Retry-After instead of 500 (hukoomi_portal/resilience.py); right
# after LocaleMiddleware, so that the page is in the language of the URL.
_RESILIENCE_MIDDLEWARE = "hukoomi_portal.resilience.DatabaseUnavailableMiddleware"


def _with_resilience_middleware(middleware):
    rest = [name for name in middleware if name != _RESILIENCE_MIDDLEWARE]
    locale = "django.middleware.locale.LocaleMiddleware"
    at = rest.index(locale) + 1 if locale in rest else len(rest)
    return [*rest[:at], _RESILIENCE_MIDDLEWARE, *rest[at:]]


MIDDLEWARE = _with_resilience_middleware(_with_security_middleware(_BASE_MIDDLEWARE))

__all__ = ["CONTENT_SECURITY_POLICY", "MIDDLEWARE", "NO_STORE_VIEWS", "PERMISSIONS_POLICY"]
