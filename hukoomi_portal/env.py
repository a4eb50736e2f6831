"""Read settings from the environment in one place, with clear errors."""

import base64
import binascii
import hashlib
import os

from django.core.exceptions import ImproperlyConfigured

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
