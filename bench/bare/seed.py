"""Migrate the bare project's database and seed it: 20 rows for the template page, and signed-in users.

    DJANGO_SETTINGS_MODULE=bench.bare.settings python bench/bare/seed.py USERS COOKIES_FILE

Writes one "sessionid csrftoken" line per user to COOKIES_FILE, like bench/web_bench.py does for the portal.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench.bare.models import Row  # noqa: E402
from bench.sessions import write_signed_in_sessions  # noqa: E402


def main(users, cookies_file):
    call_command("migrate", verbosity=0)
    Row.objects.bulk_create(Row(text=f"Row number {n}") for n in range(1, 21))
    people = User.objects.bulk_create(
        (User(username=f"bare{n}", password="!bench-no-password") for n in range(users)),  # noqa: S106
        batch_size=5000,
    )
    write_signed_in_sessions(people, cookies_file)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
