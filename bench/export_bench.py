"""Benchmark: stream the ballots export of a referendum with N ballots (default 1,000,000).

Prints the web process's peak memory growth (VmHWM, reset just before the export)
and rows per second, beside PostgreSQL's own `COPY ... TO STDOUT WITH CSV` of the
same rows, measured in the same run. Needs PostgreSQL: the export reads through a
server-side cursor, which SQLite does not have.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/export_bench.py [--rows N]

It creates and drops its own database (bench_<name>); your data is not touched.
"""

import argparse
import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hukoomi_portal.test_settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

MEMORY_LIMIT_MB = 50


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
    from accounts.models import User
    from participation.models import (
        Entity,
        Item,
        Kind,
        Option,
        Question,
        ReferendumBallot,
        Result,
        State,
        new_receipt_code,
    )

    now = timezone.now()
    entity = Entity.objects.create(name_ar="وزارة", name_en="Ministry", slug="bench")
    staff = User.objects.create_user("bench@example.qa", "x", full_name="Bench")
    item = Item.objects.create(
        kind=Kind.REFERENDUM, entity=entity, slug="bench-referendum", title_ar="استفتاء", title_en="Referendum",
        summary_ar="ملخص", summary_en="Summary", body_ar="نص", body_en="Body", opens_at=now - timedelta(days=2),
        closes_at=now - timedelta(days=1), requires_verified_identity=True, created_by=staff,
    )
    question = Question.objects.create(item=item, text_ar="هل توافق؟", text_en="Do you agree?", allow_abstain=True)
    options = [
        Option.objects.create(question=question, position=1, text_ar="نعم", text_en="Yes").pk,
        Option.objects.create(question=question, position=2, text_ar="لا", text_en="No").pk,
    ]
    # Questions are frozen once an item has opened (a trigger): close it only now.
    Item.objects.filter(pk=item.pk).update(state=State.CLOSED)
    item.refresh_from_db()
    started = time.perf_counter()
    table = ReferendumBallot._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} (id, item_id, option_id, receipt) FROM STDIN") as copy:
            for n in range(rows):
                option = options[n % 2] if n % 7 else None
                copy.write_row((uuid.uuid4(), item.pk, option, new_receipt_code()))
    # The ballots export waits for the count; the bench measures the export, so a stored result stands in for it.
    Result.objects.create(item=item, tallied_at=now, ballots=rows, eligible=rows, counts={}, ballots_digest="0" * 64)
    print(f"seeded {rows:,} ballots in {time.perf_counter() - started:.1f} s")
    return item


def bench_export(item):
    from django.contrib.auth.models import Group

    from accounts.models import User
    from participation.audit_views import export_csv

    auditor = User.objects.create_user("auditor-bench@example.qa", "x", full_name="Auditor", is_staff=True)
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


def measure(rows):
    """Seed a referendum of `rows` ballots in the current database and return the export's row for the table."""
    from bench.table import Row

    item = seed(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    export_s, export_bytes, chunks, growth_mb = bench_export(item)
    copy_s, _copy_bytes = bench_copy(item)
    if export_bytes < rows * 20:
        raise RuntimeError(f"the export gave {export_bytes} bytes for {rows:,} ballots: it refused, not exported")
    note = f"peak memory growth {growth_mb:.1f} MB (target < {MEMORY_LIMIT_MB} MB), {export_bytes / 1e6:.1f} MB in {chunks:,} chunks"
    return Row(f"CSV export of {rows:,} ballots", rows / export_s, rows / copy_s, "rows/s", "≥ 0.5", "COPY", note)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test")
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    # A database of its own, so that a test run on the same server is never disturbed.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{old_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        item = seed(args.rows)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        export_s, export_bytes, chunks, growth_mb = bench_export(item)
        copy_s, copy_bytes = bench_copy(item)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(f"portal export : {args.rows:,} rows in {export_s:.2f} s = {args.rows / export_s:,.0f} rows/s, "
          f"{export_bytes / 1e6:.1f} MB in {chunks:,} chunks, peak RSS growth {growth_mb:.1f} MB")
    print(f"PostgreSQL COPY: {args.rows:,} rows in {copy_s:.2f} s = {args.rows / copy_s:,.0f} rows/s, {copy_bytes / 1e6:.1f} MB")
    print(f"export / COPY time: {export_s / copy_s:.1f}x")
    verdict = "OK" if growth_mb < MEMORY_LIMIT_MB else "OVER"
    print(f"memory target (< {MEMORY_LIMIT_MB} MB growth): {verdict}")
    sys.exit(0 if verdict == "OK" else 1)


if __name__ == "__main__":
    main()
