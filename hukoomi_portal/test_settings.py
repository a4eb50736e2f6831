"""Settings for the test suite: the real settings, read from a fixed environment."""

import os

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only-secret-key-not-for-any-deployment-0123456789")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
# Fixed test keys (32 bytes each, URL-safe base64); never used outside the suite.
os.environ.setdefault("PORTAL_BALLOT_BOX_KEY", "dGVzdC1zdWl0ZS1iYWxsb3QtYm94LWtleS0zMmJ5dGU")
os.environ.setdefault("PORTAL_AUDIT_KEY", "dGVzdC1zdWl0ZS1hdWRpdC10cmFpbC1obWFjLWtleTA")

from .settings import *  # noqa: E402,F403

# Fast hashing: the suite creates many users; production keeps the default hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# The request guard (hukoomi_portal/request_guard.py) runs before the session reads its cookie.
# To be moved into settings.MIDDLEWARE at the same place when merging.
MIDDLEWARE.insert(  # noqa: F405
    MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,  # noqa: F405
    "hukoomi_portal.request_guard.RequestGuardMiddleware",
)
