"""`make bench`: every figure of issue 11 in one table, each a ratio to a baseline measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/1 python bench/run.py

It works in a database of its own, bench_<name of DATABASE_URL's database>, created on the first run: the portal
in its public schema, the bare project in the schema "bare", both emptied before and after each run; REDIS_URL names a Redis database the portal under test may use as its cache (it is
flushed before the run). BENCH_QUICK=1 runs a short version (two web rows of 1 s, a 10,000-ballot export) for
the test suite; BENCH_SECONDS sets the length of each wrk run; BENCH_ROWS the export's ballots.
Sections add rows through bench.table.Row (SECTIONS below).
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web_bench import bench_environment, with_database  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}


def ensure_database(database_url, name):
    """Create the bench's database once; later runs empty it by schema (DROP DATABASE waits for every session
    on the server to acknowledge it, which another busy client can hold up for minutes)."""
    import psycopg

    maintenance = with_database(database_url, "postgres")  # DATABASE_URL's own database need not exist
    with psycopg.connect(maintenance, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def reset_schemas(connection, *names):
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            cursor.execute(f'CREATE SCHEMA "{name}"')


def main():
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("The bench needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test")
    from bench.web_bench import BARE_SCHEMA

    bench_name = "bench_" + database_url.rsplit("/", 1)[1]
    bench_url = with_database(database_url, bench_name)
    ensure_database(database_url, bench_name)
    workdir = Path(tempfile.mkdtemp(prefix="hukoomi-bench-"))
    env = bench_environment(bench_url, redis_url, workdir / "static")
    os.environ.update(env)

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection

    from bench import export_bench, tally_bench, web_bench
    from bench.table import from_figure, render

    started = time.perf_counter()
    call_command("collectstatic", interactive=False, verbosity=0)
    reset_schemas(connection, "public", BARE_SCHEMA)
    call_command("migrate", verbosity=0)
    cache.clear()
    print(f"database {bench_name} ready in {time.perf_counter() - started:.0f} s", flush=True)
    rows = []
    try:
        rows += web_bench.measure(QUICK, bench_url, env, workdir)
        count = int(os.environ.get("BENCH_ROWS", 10_000 if QUICK else 1_000_000))
        # Each section seeds its own items ("bench-poll" is in two of them): an empty database for each.
        for section, baseline in ((tally_bench, "SQL floor"), (export_bench, "COPY")):
            reset_schemas(connection, "public", BARE_SCHEMA)
            call_command("migrate", verbosity=0)
            rows += [from_figure(figure, baseline) for figure in section.measure(count)]
    finally:
        # Empty, not dropped: a million ballots are a few hundred megabytes.
        reset_schemas(connection, "public", BARE_SCHEMA)
    print()
    print(render(rows))


if __name__ == "__main__":
    main()
