"""Writes docs/security.md from the access table in tests/test_access_table.py.

    .venv/bin/python -m tests.access_doc > docs/security.md
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hukoomi_portal.test_settings")
django.setup()

from tests.test_access_table import markdown  # noqa: E402

sys.stdout.write(markdown())
