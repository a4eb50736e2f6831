"""Benchmark: stream the ballots export of a referendum with N ballots (default 1,000,000).

Prints the web process's peak memory growth (VmHWM, reset just before the export)
and rows per second, beside PostgreSQL's own `COPY ... TO STDOUT WITH CSV` of the
same rows, measured in the same run. Targets: rows/s >= 0.5 x COPY's, and < 50 MB
growth. Needs PostgreSQL: on PostgreSQL the export is COPY's own output streamed
through psycopg (participation.exports.copied_ballots_chunks). `rows()` returns the
figures as dicts for `make bench`'s table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/export_bench.py [--rows N]

It creates and drops its own database (bench_export_<name>); your data is not touched.
"""

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hukoomi_portal.test_settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402

MEMORY_LIMIT_MB = 50
SPEED_TARGET = 0.5


def vm_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak():
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def seed(rows):
    """A closed referendum whose box is already open: N plaintext ballots written with COPY, and its Result."""
    from bench.tally_bench import choice, make_item
    from participation.models import Kind, ReferendumBallot, new_receipt_code
    from participation.services.counting import tally

    item, _question, options = make_item(Kind.REFERENDUM, "bench-referendum")
    started = time.perf_counter()
    table = ReferendumBallot._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} (id, item_id, option_id, receipt) FROM STDIN") as copy:
            for n in range(rows):
                copy.write_row((uuid.uuid4(), item.pk, choice(n, options), new_receipt_code()))
    print(f"seeded {rows:,} ballots in {time.perf_counter() - started:.1f} s")
    tally(item.pk)  # the sealed box is empty: this only stores the Result that exports wait for
    return item


def bench_export(item):
    from django.contrib.auth.models import Group

    from accounts.models import User
    from participation.audit_views import export_csv

    auditor, created = User.objects.get_or_create(
        email="auditor-bench@example.qa", defaults={"full_name": "Auditor", "is_staff": True}
    )
    if created:
        auditor.groups.add(Group.objects.get(name="Auditors"))
    request = RequestFactory().get(f"/en/audit/referendum/{item.slug}/ballots.csv", REMOTE_ADDR="127.0.0.1")
    request.user = User.objects.get(pk=auditor.pk)
    rss_before = vm_kib("VmRSS")
    reset_peak()
    started = time.perf_counter()
    response = export_csv(request, "referendum", item.slug, "ballots")
    size = chunks = 0
    for chunk in response:
        size += len(chunk)
        chunks += 1
    elapsed = time.perf_counter() - started
    growth_mb = (vm_kib("VmHWM") - rss_before) / 1024
    return elapsed, size, chunks, growth_mb


def bench_copy(item):
    sql = (
        "COPY (SELECT b.receipt, COALESCE(o.position, 0), o.text_ar, o.text_en "
        "FROM participation_referendumballot b LEFT JOIN participation_option o ON o.id = b.option_id "
        'WHERE b.item_id = %s ORDER BY b.receipt COLLATE "C") TO STDOUT WITH CSV'
    )
    started = time.perf_counter()
    size = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql, (item.pk,)) as copy:
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


def measure(count):
    item = seed(count)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    bench_copy(item)  # warm the cache for both, so that neither pays for reading the table from disk
    export_s, export_bytes, chunks, growth_mb = bench_export(item)
    copy_s, copy_bytes = bench_copy(item)
    print(f"portal export : {count:,} rows in {export_s:.2f} s = {count / export_s:,.0f} rows/s, "
          f"{export_bytes / 1e6:.1f} MB in {chunks:,} chunks, peak RSS growth {growth_mb:.1f} MB")
    print(f"PostgreSQL COPY: {count:,} rows in {copy_s:.2f} s = {count / copy_s:,.0f} rows/s, {copy_bytes / 1e6:.1f} MB")
    ratio = copy_s / export_s
    return [
        {
            "name": f"CSV export of {count:,} ballots (rows/s)",
            "portal": round(count / export_s),
            "baseline": round(count / copy_s),
            "unit": "rows/s",
            "target": f">= {SPEED_TARGET} x COPY",
            "ratio": round(ratio, 2),
            "ok": ratio >= SPEED_TARGET,
        },
        {
            "name": f"CSV export of {count:,} ballots, peak memory growth (MB)",
            "portal": round(growth_mb, 1),
            "baseline": None,
            "unit": "MB",
            "target": f"< {MEMORY_LIMIT_MB} MB",
            "ratio": None,
            "ok": growth_mb < MEMORY_LIMIT_MB,
        },
    ]


def rows(count=None):
    from bench.tally_bench import in_bench_database

    count = count or int(os.environ.get("BENCH_ROWS", 1_000_000))
    return in_bench_database(lambda: measure(count), "export")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    args = parser.parse_args()
    figures = rows(args.rows)
    for figure in figures:
        print(f"{figure['name']}: {figure['portal']:,} vs {figure['baseline'] or '-'} ({figure['target']}): "
              f"{'OK' if figure['ok'] else 'MISSED'}")
    sys.exit(0 if all(figure["ok"] for figure in figures) else 1)


if __name__ == "__main__":
    main()
