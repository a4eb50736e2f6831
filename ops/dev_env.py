"""Write a `.env` for development when there is none (`make run` calls this), and never overwrite one.

The file turns debug on, holds freshly generated secrets (the Django secret key, the
ballot box key and the audit key) and points Celery at the embedded broker, so that
every command in the README works as written in the checkout: `.venv/bin/python manage.py
close_due`, `tally`, `verify_export`, `verify_audit_log`, a worker and beat. It is
listed in .gitignore; these keys protect a laptop's demo data and nothing else.

Standard library only: it runs before the virtual environment exists.
"""

import argparse
import secrets
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

TEMPLATE = """\
# Development settings for this checkout, written by `make run` (ops/dev_env.py).
# Not in git. Never use these values in production: see docs/deploy.md.
# The real environment wins over this file (export DJANGO_DEBUG=false ... to try production settings).
DJANGO_DEBUG=true
DJANGO_SECRET_KEY={secret_key}
PORTAL_BALLOT_BOX_KEY={ballot_box_key}
PORTAL_AUDIT_KEY={audit_key}
# The embedded broker: kombu's filesystem transport, one file per message in .broker/.
# `make run` starts a worker with beat on it. To use Redis instead: redis://127.0.0.1:6379/0
CELERY_BROKER_URL=filesystem://
"""


def render():
    return TEMPLATE.format(
        secret_key=secrets.token_urlsafe(50),
        ballot_box_key=secrets.token_urlsafe(32),  # 32 random bytes, URL-safe base64 (hukoomi_portal/env.py)
        audit_key=secrets.token_urlsafe(32),
    )


def write_if_missing(path):
    """Create the file with owner-only permissions; True if written, False if one was already there."""
    try:
        with open(path, "x", encoding="utf-8") as handle:  # "x": never replace an operator's or developer's file
            handle.write(render())
    except FileExistsError:
        return False
    Path(path).chmod(0o600)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(PROJECT / ".env"), help="where to write (default: the project's .env)")
    args = parser.parse_args(argv)
    if write_if_missing(args.path):
        print(f"Wrote {args.path} for development (debug on, new keys, the embedded broker).")
    else:
        print(f"Using the existing {args.path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
