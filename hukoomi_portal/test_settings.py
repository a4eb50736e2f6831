"""Settings for the test suite: the real production settings, read from a fixed environment.

Only what the suite needs differs from production, and it is all here: no .env file,
tasks run eagerly (unless a test starts a real worker and gives it a broker),
a local-memory cache and e-mail kept in memory.
"""

import os

# A developer's .env (written by `make run`) must never leak into the suite.
os.environ["DJANGO_ENV_FILE"] = ""
# A test that starts a real worker (or gunicorn) with this module gives it a real broker.
REAL_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "").strip()

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only-secret-key-not-for-any-deployment-0123456789")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
# Fixed test keys (32 bytes each, URL-safe base64); never used outside the suite.
os.environ.setdefault("PORTAL_BALLOT_BOX_KEY", "dGVzdC1zdWl0ZS1iYWxsb3QtYm94LWtleS0zMmJ5dGU")
os.environ.setdefault("PORTAL_AUDIT_KEY", "dGVzdC1zdWl0ZS1hdWRpdC10cmFpbC1obWFjLWtleTA")
# What production requires; each is replaced below, so nothing here is ever contacted.
os.environ.setdefault("PORTAL_BASE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("EMAIL_HOST", "mail.invalid")
os.environ["CELERY_BROKER_URL"] = REAL_BROKER_URL or "memory://"
if not (os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL")):
    os.environ["CACHE_URL"] = "redis://cache.invalid:6379/0"

from .settings import *  # noqa: E402,F403

# Eager Celery in unit tests (STYLE.md), and only here: production refuses to start without a broker.
CELERY_BROKER_URL = REAL_BROKER_URL or None
if not REAL_BROKER_URL:
    # Celery reads CELERY_BROKER_URL from the environment before settings: leave no placeholder there.
    del os.environ["CELERY_BROKER_URL"]
CELERY_TASK_ALWAYS_EAGER = not REAL_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Each test starts with an empty cache (tests/conftest.py); tests that need the shared
# Redis cache start gunicorn with the production settings (tests/test_login_limit_workers.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Fast hashing: the suite creates many users; production keeps the default hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

