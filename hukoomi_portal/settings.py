"""Settings for the Hukoomi e-participation portal.

Everything that differs between a laptop, CI and production is read from the
environment here, and nowhere else: the real environment first, then a `.env`
file in the project folder for what it does not set (`make run` writes one for
development). With debug off every variable production needs is required, and a
missing one stops the portal at start-up with a message that says what to set
(docs/deploy.md has the table). With debug on the portal runs on SQLite, a
local-memory cache and the embedded broker (kombu's filesystem transport in
.broker/), so a laptop needs no services. Nothing runs eagerly outside the test
suite: tasks always go through a broker to a worker.
"""

import re
from copy import deepcopy
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env_base_url, env_bool, env_int, env_key, env_list, env_required, env_str, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_FILE = load_env_file(BASE_DIR)

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off. "
            "Set it to a long random value (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"  # noqa: S105 (debug only)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not ALLOWED_HOSTS and not DEBUG:
    # Django would start and then answer every request with 400: say so now instead.
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS is required when DJANGO_DEBUG is off: the host names the portal answers to, "
        "comma-separated, e.g. e-participation.hukoomi.gov.qa"
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "accounts",
    "participation",
    "api",
    # Questions and their options edited on the poll's own admin page (participation/admin.py).
    "nested_admin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy, Permissions-Policy and no-store (security_settings.py).
    "csp.middleware.CSPMiddleware",
    "hukoomi_portal.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # NUL bytes and undecodable input get a 400 in the page's language, before the session reads its cookie.
    "hukoomi_portal.request_guard.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A database outage answers 503 with Retry-After in the URL's language, not 500 (resilience.py).
    "hukoomi_portal.resilience.DatabaseUnavailableMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "participation.audit.AuditRequestMiddleware",
]

ROOT_URLCONF = "hukoomi_portal.urls"
WSGI_APPLICATION = "hukoomi_portal.wsgi.application"
ASGI_APPLICATION = "hukoomi_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hukoomi_portal.context_processors.portal",
            ],
        },
    },
]

# Database: DATABASE_URL, or a SQLite file in the project folder.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
# Behind PgBouncer in transaction mode a named (server-side) cursor can outlive its transaction's
# server connection: Django then needs them off (docs/deploy.md, "Past one machine").
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    # Staff object permissions (participation/permissions.py). Last: it answers has_perm only and cannot load
    # a user, so it must never be the backend a session is signed in with.
    "rules.permissions.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: the e-mail address is the login; it must be verified.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_PRESERVE_USERNAME_CASING = False
# allauth names people by their name, not their e-mail address (issue 12).
ACCOUNT_USER_DISPLAY = "accounts.display.display_name"
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, spelled out so that they are visible and reviewed.
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}

# The national digital identity (OpenID Connect) is the main way in: its signed ID token names the
# person, their Qatar ID number and nationality, which verify them at once (accounts/national_identity.py).
# Off until PORTAL_OIDC_SERVER_URL is set; e-mail and password always work beside it (docs/deploy.md).
NATIONAL_IDENTITY_PROVIDER_ID = "national"
OIDC_SERVER_URL = env_str("PORTAL_OIDC_SERVER_URL", "").strip()
OIDC_CLIENT_ID = env_str("PORTAL_OIDC_CLIENT_ID", "").strip()
OIDC_CLIENT_SECRET = env_str("PORTAL_OIDC_CLIENT_SECRET", "").strip()
if OIDC_SERVER_URL and not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured(
        "PORTAL_OIDC_SERVER_URL is set, so PORTAL_OIDC_CLIENT_ID and PORTAL_OIDC_CLIENT_SECRET are required too: "
        "the client the national digital identity registered for the portal."
    )
# Which ID-token claims carry the Qatar ID number and the nationality (ISO 3166: QAT, QA or 634 is Qatari).
OIDC_QATAR_ID_CLAIM = env_str("PORTAL_OIDC_QATAR_ID_CLAIM", "").strip() or "qatar_id"
OIDC_NATIONALITY_CLAIM = env_str("PORTAL_OIDC_NATIONALITY_CLAIM", "").strip() or "nationality"


def national_identity_providers(server_url, client_id, secret):
    """allauth's provider settings for one OpenID Connect app (the tests call it with their own provider)."""
    if not server_url:
        return {}
    return {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": NATIONAL_IDENTITY_PROVIDER_ID,
                    "name": _("National digital identity"),  # allauth shows it on the connected-accounts page
                    "client_id": client_id,
                    "secret": secret,
                    "settings": {
                        "server_url": server_url,
                        # The claims are read from the ID token (issuer, audience and expiry checked),
                        # not from the userinfo endpoint.
                        "fetch_userinfo": False,
                        "oauth_pkce_enabled": True,
                        "token_auth_method": "client_secret_post",
                        "scope": ["openid", "profile", "email"],
                    },
                }
            ]
        }
    }


SOCIALACCOUNT_PROVIDERS = national_identity_providers(OIDC_SERVER_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET)
SOCIALACCOUNT_ADAPTER = "accounts.adapters.NationalIdentityAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
# A person who already has an account with the e-mail address the identity provider vouches for
# (email_verified) signs in to that account, which is linked to the identity from then on.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "mandatory"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 5
# What people waiting for a manual identity check are told to expect (days after they gave their number).
VERIFICATION_EXPECTED_DAYS = env_int("PORTAL_VERIFICATION_EXPECTED_DAYS", 2)

# Languages: Arabic first, English second; every public URL has a prefix.
LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Qatar"
USE_TZ = True
FORMAT_MODULE_PATH = ["hukoomi_portal.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", "").strip() or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# E-mail: SMTP through EMAIL_HOST, required with debug off (no silent fall-back to the console);
# the console in development when no host is set. EMAIL_BACKEND names another backend explicitly.
SMTP_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "").strip()
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "").strip() or (
    SMTP_EMAIL_BACKEND if EMAIL_HOST or not DEBUG else "django.core.mail.backends.console.EmailBackend"
)
if EMAIL_BACKEND == SMTP_EMAIL_BACKEND and not EMAIL_HOST:
    raise ImproperlyConfigured(
        "EMAIL_HOST is required when DJANGO_DEBUG is off: the SMTP server that sends verification and "
        "results e-mails (with EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS as needed)."
    )
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=bool(EMAIL_HOST))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "e-participation@hukoomi.gov.qa")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis in production, required with debug off. In development the embedded broker
# (kombu's filesystem transport: one file per message under .broker/) needs nothing beyond
# python3, and `make run` starts a worker with beat on it. Tasks never run eagerly here; only
# the test suite (test_settings.py) does that.
EMBEDDED_BROKER_URL = "filesystem://"
CELERY_BROKER_URL = env_required(
    "CELERY_BROKER_URL",
    debug=DEBUG,
    default=EMBEDDED_BROKER_URL,
    why="the Redis broker of the worker and beat, e.g. redis://127.0.0.1:6379/0 (docs/deploy.md).",
)
if CELERY_BROKER_URL.startswith("filesystem:"):
    BROKER_DIR = Path(env_str("PORTAL_BROKER_DIR", "").strip() or BASE_DIR / ".broker")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # One folder in and out: web, commands and the worker all read and write the same queue.
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    # kombu creates none of these and fails on the first message without them.
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Tallies never wait behind a long mailing (Helios #407).
CELERY_TASK_ROUTES = {
    "participation.tally_item": {"queue": "tally"},
    "participation.notify_*": {"queue": "email"},
    "participation.send_notifications": {"queue": "email"},
    "accounts.send_verification_emails": {"queue": "email"},
}
# The schedule lives here, in reviewed code, rather than in django-celery-beat's
# database tables: one fixed job needs no admin UI (docs/operations.md).
# PORTAL_BEAT_SECONDS shortens the interval for the operator smoke test (ops/smoke.py).
CELERY_BEAT_SCHEDULE = {
    "open-and-close-due-items": {
        "task": "participation.open_and_close_due",
        "schedule": float(env_int("PORTAL_BEAT_SECONDS", 60)),
    },
    # Verification decisions whose e-mail did not go at once (mail server down) are sent again.
    "send-verification-emails": {
        "task": "accounts.send_verification_emails",
        "schedule": float(env_int("PORTAL_BEAT_SECONDS", 60)) * 5,
    },
}

# The cache holds allauth's rate limits and the portal's throttles, so with several web
# processes it must be shared: Redis (Django's own RedisCache), required with debug off.
# A local-memory cache per process would let each gunicorn worker count alone, and a
# restart would forget (issue 10). Development uses local memory. Sessions stay in the
# database: a Redis restart must not sign everybody out.
CACHE_URL = (env_str("CACHE_URL", "") or env_str("REDIS_URL", "")).strip()
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"CACHE_URL and REDIS_URL must be a Redis address (redis://, rediss:// or unix://), not {CACHE_URL!r}.")
    CACHES = {
        "default": {
            "BACKEND": "hukoomi_portal.resilience.DegradingRedisCache",  # Redis down: no cache, no 500
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "hukoomi",
            # A Redis that does not answer must not hold a web worker for long.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
elif DEBUG:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured(
        "REDIS_URL (or CACHE_URL) is required when DJANGO_DEBUG is off: the shared cache that holds login "
        "rate limits and throttles for every web worker, e.g. redis://127.0.0.1:6379/1"
    )

# Security: safe defaults, stricter with debug off.
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "hukoomi_portal.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
}

# Two keys that never live in the database (docs/secrecy.md, docs/audit.md):
# - the ballot box key seals referendum ballots until the tally (AES-256-GCM, 32 bytes, base64);
# - the audit key signs each audit entry (HMAC-SHA256), so database access alone cannot forge the chain.
# Required with debug off; in development they are derived from the secret key.
BALLOT_BOX_KEY = env_key("PORTAL_BALLOT_BOX_KEY", debug=DEBUG, secret_key=SECRET_KEY, purpose="ballot-box")
AUDIT_HMAC_KEY = env_key("PORTAL_AUDIT_KEY", debug=DEBUG, secret_key=SECRET_KEY, purpose="audit-trail")

DEMO_PASSWORD = env_str("DEMO_PASSWORD", "Hukoomi-Demo-2026")
# Absolute links in e-mails (unsubscribe, item pages); required with debug off.
PORTAL_BASE_URL = env_base_url("PORTAL_BASE_URL", debug=DEBUG, default="http://127.0.0.1:8000")

# The public read-only API, /api/v1/ (api/, docs/api.md): anonymous, JSON only, GET only.
# PORTAL_API_RATE is per client (the hashed address), counted in the shared cache above;
# answers are kept in that cache for PORTAL_API_CACHE_SECONDS.
PORTAL_API_RATE = env_str("PORTAL_API_RATE", "120/minute").strip()
if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", PORTAL_API_RATE):
    raise ImproperlyConfigured(f"PORTAL_API_RATE must read like 120/minute (per second, minute, hour or day), not {PORTAL_API_RATE!r}.")
PORTAL_API_CACHE_SECONDS = env_int("PORTAL_API_CACHE_SECONDS", 30)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    # No browsable HTML API: its forms and inline scripts are not for a read-only public API under our CSP.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNICODE_JSON": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hukoomi e-participation API",
    "DESCRIPTION": "Read-only open data of Qatar's e-participation portal (docs/api.md). Texts are {\"ar\": …, \"en\": …}.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "ENUM_NAME_OVERRIDES": {"ItemTypeEnum": ["poll", "referendum", "consultation"], "ResultTypeEnum": ["poll", "referendum"]},
}

# Response headers (CSP, Permissions-Policy, no-store): reviewed in their own module.
from .security_settings import *  # noqa: E402,F403


def allow_identity_provider_forms(policy, server_url):
    """The policy, with the identity provider's origin allowed as a form target.

    The national-identity button posts to the portal, which redirects to the provider: browsers apply
    form-action to that redirect too, so without the provider's origin the sign-in never leaves the page.
    """
    if not server_url:
        return policy
    parts = urlsplit(server_url)
    widened = deepcopy(policy)
    widened["DIRECTIVES"]["form-action"] = [*widened["DIRECTIVES"]["form-action"], f"{parts.scheme}://{parts.netloc}"]
    return widened


CONTENT_SECURITY_POLICY = allow_identity_provider_forms(CONTENT_SECURITY_POLICY, OIDC_SERVER_URL)  # noqa: F405
