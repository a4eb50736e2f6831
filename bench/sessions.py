"""Signed-in sessions written straight to the database, one per user, for wrk's signed-in requests.

Both the portal's seed (bench/web_bench.py) and the bare project's (bench/bare/seed.py) call this after
django.setup(), each with its own settings.
"""

import secrets
from datetime import timedelta
from pathlib import Path


def write_signed_in_sessions(users, cookies_file):
    """One session per user, signed in through the model backend; one "sessionid csrftoken" line each in the file."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    sessions, lines = [], []
    for user in users:
        key = secrets.token_hex(16)
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        lines.append(f"{key} {secrets.token_hex(16)}")
    Session.objects.bulk_create(sessions, batch_size=5000)
    Path(cookies_file).write_text("\n".join(lines) + "\n")
