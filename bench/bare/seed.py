"""Migrate the bare project's database and seed it: 20 rows for the template page, and signed-in users.

    DJANGO_SETTINGS_MODULE=bench.bare.settings python bench/bare/seed.py USERS COOKIES_FILE

Writes one "sessionid csrftoken" line per user to COOKIES_FILE, like bench/web_bench.py does for the portal.
"""

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.bare.models import Row  # noqa: E402


def main(users, cookies_file):
    call_command("migrate", verbosity=0)
    Row.objects.bulk_create(Row(text=f"Row number {n}") for n in range(1, 21))
    people = User.objects.bulk_create(
        (User(username=f"bare{n}", password="!bench-no-password") for n in range(users)), batch_size=5000  # noqa: S106
    )
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    lines, sessions = [], []
    for person in people:
        key = secrets.token_hex(16)
        data = {
            SESSION_KEY: str(person.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: person.get_session_auth_hash(),
        }
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        lines.append(f"{key} {secrets.token_hex(16)}")
    Session.objects.bulk_create(sessions, batch_size=5000)
    Path(cookies_file).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
