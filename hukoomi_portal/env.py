"""Read settings from the environment in one place, with clear errors."""

import base64
import binascii
import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

ENV_FILE_VARIABLE = "DJANGO_ENV_FILE"


def load_env_file(base_dir):
    """Load `<project>/.env` (or the file DJANGO_ENV_FILE names) into os.environ; return its path or None.

    The real environment always wins: a variable that is already set, even to "", is
    never overridden, so an operator's systemd unit or CI job says what it says.
    DJANGO_ENV_FILE="" turns the file off (the test suite does, so that a developer's
    .env never leaks into it); a DJANGO_ENV_FILE that names no file is an error,
    because the operator meant something by it.
    """
    named = os.environ.get(ENV_FILE_VARIABLE)
    if named is not None and not named.strip():
        return None
    path = Path(named) if named is not None else Path(base_dir) / ".env"
    if not path.is_file():
        if named is not None:
            raise ImproperlyConfigured(f"{ENV_FILE_VARIABLE} is {named!r}, which is not a file.")
        return None
    load_dotenv(path, override=False)
    return path


def env_required(name, *, debug, default, why):
    """The variable's value; with debug off a missing or empty one is an ImproperlyConfigured saying why and how."""
    value = (os.environ.get(name) or "").strip()
    if value:
        return value
    if not debug:
        raise ImproperlyConfigured(f"{name} is required when DJANGO_DEBUG is off: {why}")
    return default


def env_base_url(name, *, debug, default):
    """An absolute http(s) URL with no trailing slash (links in e-mails are built on it)."""
    raw = env_required(
        name,
        debug=debug,
        default=default,
        why="the public address of the portal, used for links in e-mails, e.g. https://e-participation.hukoomi.gov.qa",
    )
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name} must be an absolute http(s) address such as https://portal.example.qa, not {raw!r}."
        )
    return raw.rstrip("/")


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from exc


def env_list(name, default=()):
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [part.strip() for part in raw.split(",") if part.strip()]


KEY_BYTES = 32


def env_key(name, *, debug, secret_key, purpose):
    """A 32-byte key given as URL-safe base64 (`python -c 'import secrets; print(secrets.token_urlsafe(32))'`).

    Required with debug off. In development it is derived from the secret key, so that
    a laptop needs no setup; such a key protects nothing and is never used in production.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        if not debug:
            raise ImproperlyConfigured(
                f"{name} is required when DJANGO_DEBUG is off. Set it to 32 random bytes in URL-safe base64: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return hashlib.sha256(f"{purpose}\n{secret_key}".encode()).digest()
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} must be URL-safe base64 of 32 bytes.") from exc
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name} must decode to {KEY_BYTES} bytes, not {len(key)}.")
    return key
