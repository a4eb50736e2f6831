"""Benchmark: tally a poll and a referendum of N ballots each (default 1,000,000), each with N users.

Beside each tally, in the same run and on the same data, the SQL floor of a tally: PostgreSQL's own
GROUP BY by option and segment, a COPY of the canonical digest lines in receipt (byte) order, and the
eligible count written as a UNION. Target: tally <= 1.5 x that floor (docs/performance.md).

The referendum's floor is measured on the opened box (plaintext ballots, after its tally): that is all
a count needs. Its tally also opens the sealed box (read, decrypt, order, write, delete), which the floor
does not do; the script reports that part separately.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/tally_bench.py [--rows N] [--profile DIR]

It creates and drops its own database (bench_tally_<name>); your data is not touched. `rows()` returns the
figures as dicts for `make bench`'s table.
"""

import argparse
import functools
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hukoomi_portal.test_settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

TARGET = 1.5
print = functools.partial(print, flush=True)  # noqa: A001  (progress shows up at once, even through a pipe)
SEGMENTS = ("citizen", "resident")


def _copy_rows(table, columns, rows):
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed_users(count):
    """`count` verified citizens and residents, in one COPY (the eligible audience of both items)."""
    from accounts.models import User

    now = timezone.now()
    columns = (
        "password", "is_superuser", "email", "full_name", "segment", "is_student", "is_tourist", "is_business_owner",
        "is_parent", "is_employee", "identity_number", "verification", "verification_method", "verified_at",
        "preferred_language", "notify_new_items", "notify_results", "is_staff", "is_active", "date_joined",
        "verification_note",
    )
    rows = (
        ("!", False, f"voter{n}@bench.qa", f"Voter {n}", SEGMENTS[n % 2], False, False, False, False, n % 5 == 0,
         f"{n:011d}", "verified", "staff", now, "ar", False, False, False, True, now, "")
        for n in range(count)
    )
    _copy_rows(User._meta.db_table, columns, rows)
    return list(User.objects.filter(email__endswith="@bench.qa").order_by("pk").values_list("pk", "segment"))


def make_item(kind, slug, options=2, allow_abstain=True, closes_at=None, state="closed"):
    """An item for citizens and residents (verified), built as a draft and then given its state (closed unless told)."""
    from accounts.models import User
    from participation.models import Entity, Item, Option, Question, State

    now = timezone.now()
    entity, _created = Entity.objects.get_or_create(slug="bench", defaults={"name_ar": "وزارة", "name_en": "Ministry"})
    staff, _created = User.objects.get_or_create(email="staff@bench.example", defaults={"full_name": "Bench"})
    item = Item.objects.create(
        kind=kind, entity=entity, slug=slug, title_ar="بند", title_en="Item", summary_ar="ملخص", summary_en="Summary",
        body_ar="نص", body_en="Body", opens_at=now - timedelta(days=2), closes_at=closes_at or now - timedelta(days=1),
        state=State.DRAFT, for_citizens=True, for_residents=True, requires_verified_identity=True, created_by=staff,
    )
    question = Question.objects.create(
        item=item, position=1, text_ar="هل توافق؟", text_en="Do you agree?", allow_abstain=allow_abstain
    )
    option_ids = [
        Option.objects.create(question=question, position=p, text_ar=f"الخيار {p}", text_en=f"Option {p}").pk
        for p in range(1, options + 1)
    ]
    Item.objects.filter(pk=item.pk).update(state=State(state))
    item.refresh_from_db()
    return item, question, option_ids


def choice(n, option_ids):
    """A deterministic spread of choices, with one blank (or "no opinion") ballot in seven."""
    return None if n % 7 == 0 else option_ids[n % len(option_ids)]


def seed_poll(users, slug="bench-poll"):
    from participation.models import Kind, PollAnswer, PollBallot

    item, question, option_ids = make_item(Kind.POLL, slug, options=3)
    now = timezone.now()
    _copy_rows(
        PollBallot._meta.db_table,
        ("item_id", "voter_id", "segment", "is_student", "is_tourist", "is_business_owner", "is_parent", "is_employee", "cast_at"),
        ((item.pk, pk, segment, False, False, False, False, n % 5 == 0, now) for n, (pk, segment) in enumerate(users)),
    )
    ballots = list(PollBallot.objects.filter(item=item).order_by("pk").values_list("pk", flat=True))
    _copy_rows(
        PollAnswer._meta.db_table,
        ("ballot_id", "question_id", "option_id"),
        ((pk, question.pk, choice(n, option_ids)) for n, pk in enumerate(ballots)),
    )
    return item


def seed_referendum(users, slug="bench-referendum", **item_fields):
    """Participations and sealed ballots, as cast_referendum_ballot writes them (sealed under the real key)."""
    from participation import ballot_box
    from participation.models import Kind, ReferendumParticipation, SealedBallot, new_receipt_code

    item, _question, option_ids = make_item(Kind.REFERENDUM, slug, **item_fields)
    today = timezone.localdate()
    _copy_rows(
        ReferendumParticipation._meta.db_table,
        ("item_id", "voter_id", "segment", "voted_on"),
        ((item.pk, pk, segment, today) for pk, segment in users),
    )

    def sealed():
        for n, (_pk, segment) in enumerate(users):
            nonce, ciphertext = ballot_box.seal(item.pk, choice(n, option_ids), new_receipt_code(), segment)
            yield (os.urandom(16).hex(), item.pk, nonce, ciphertext)

    _copy_rows(SealedBallot._meta.db_table, ("id", "item_id", "nonce", "ciphertext"), sealed())
    return item


# -- the SQL floor ---------------------------------------------------------------------------------


def _timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _run(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _copy_out(sql, params=()):
    import hashlib

    digest = hashlib.sha256()
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        for block in copy:
            digest.update(block)
    return digest.hexdigest()


ELIGIBLE_UNION = (
    "SELECT count(*) FROM (SELECT id FROM accounts_user WHERE is_active AND segment IN ('citizen', 'resident') "
    "AND verification = 'verified' UNION SELECT voter_id FROM {voters} WHERE item_id = %s) AS eligible"
)


def poll_floor(item):
    group_by = (
        "SELECT a.question_id, a.option_id, b.segment, count(*) FROM participation_pollanswer a "
        "JOIN participation_pollballot b ON b.id = a.ballot_id WHERE b.item_id = %s GROUP BY 1, 2, 3"
    )
    digest = (
        "COPY (SELECT line FROM (SELECT 'P|' || lpad(q.position::text, 3, '0') || '|' "
        "|| lpad(coalesce(o.position, 0)::text, 3, '0') || '|' || b.segment AS line FROM participation_pollanswer a "
        "JOIN participation_pollballot b ON b.id = a.ballot_id JOIN participation_question q ON q.id = a.question_id "
        "LEFT JOIN participation_option o ON o.id = a.option_id WHERE b.item_id = %s) AS lines "
        'ORDER BY line COLLATE "C") TO STDOUT'
    )
    return {
        "group_by": _timed(lambda: _run(group_by, (item.pk,))),
        "digest_copy": _timed(lambda: _copy_out(digest, (item.pk,))),
        "eligible": _timed(lambda: _run(ELIGIBLE_UNION.format(voters="participation_pollballot"), (item.pk,))),
    }


def referendum_floor(item):
    # Ballots carry no segment (secrecy): the segment counts come from the participations.
    group_by = (
        "SELECT option_id, count(*) FROM participation_referendumballot WHERE item_id = %s GROUP BY 1"
    )
    segments = "SELECT segment, count(*) FROM participation_referendumparticipation WHERE item_id = %s GROUP BY 1"
    digest = (
        "COPY (SELECT 'R|' || b.receipt || '|' || lpad(coalesce(o.position, 0)::text, 3, '0') "
        "FROM participation_referendumballot b LEFT JOIN participation_option o ON o.id = b.option_id "
        'WHERE b.item_id = %s ORDER BY b.receipt COLLATE "C") TO STDOUT'
    )
    return {
        "group_by": _timed(lambda: (_run(group_by, (item.pk,)), _run(segments, (item.pk,)))),
        "digest_copy": _timed(lambda: _copy_out(digest, (item.pk,))),
        "eligible": _timed(
            lambda: _run(ELIGIBLE_UNION.format(voters="participation_referendumparticipation"), (item.pk,))
        ),
    }


# -- the tally ---------------------------------------------------------------------------------------


def timed_tally(item, profile_dir=None, label=""):
    from participation.services import counting
    from participation.services.counting import tally

    phases = {}
    original = counting.open_box

    def open_box(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            phases["open_box"] = time.perf_counter() - started

    counting.open_box = open_box
    # The commit checks the deferred foreign keys of every row the box wrote: part of opening the box.
    original_commit = connection._commit

    def commit(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original_commit(*args, **kwargs)
        finally:
            phases["commit"] = phases.get("commit", 0.0) + time.perf_counter() - started

    connection._commit = commit
    profiler = None
    if profile_dir:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    started = time.perf_counter()
    try:
        result = tally(item.pk)
    finally:
        elapsed = time.perf_counter() - started
        counting.open_box = original
        connection._commit = original_commit
        if profiler:
            profiler.stop()
            Path(profile_dir).mkdir(parents=True, exist_ok=True)
            (Path(profile_dir) / f"tally-{label}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
    return elapsed, phases.get("open_box", 0.0), phases.get("commit", 0.0), result


def measure(rows, profile_dir=None):
    """Seed, tally, measure the floor; returns the figures as dicts (name, portal, baseline, unit, target)."""
    started = time.perf_counter()
    users = seed_users(rows)
    poll = seed_poll(users)
    referendum = seed_referendum(users)
    del users
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {rows:,} users, a poll and a referendum of {rows:,} ballots each in {time.perf_counter() - started:.0f} s")
    figures = []
    for label, item, floor_of in (("poll", poll, poll_floor), ("referendum", referendum, referendum_floor)):
        tally_s, open_s, commit_s, result = timed_tally(item, profile_dir, label)
        if result.ballots != rows:
            sys.exit(f"the {label} tally counted {result.ballots:,} ballots, not {rows:,}")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        floor = floor_of(item)
        floor_s = sum(floor.values())
        parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in floor.items())
        print(f"{label:10}: tally {tally_s:.2f} s (opening the sealed box {open_s:.2f} s, commit {commit_s:.2f} s); "
              f"SQL floor {floor_s:.2f} s ({parts})")
        figures.append({
            "name": f"tally of a {rows:,}-ballot {label} (s)",
            "portal": round(tally_s, 2),
            "baseline": round(floor_s, 2),
            "unit": "s",
            "target": f"<= {TARGET} x floor",
            "ratio": round(tally_s / floor_s, 2),
            "ok": tally_s <= TARGET * floor_s,
            "open_box": round(open_s, 2),
            "commit": round(commit_s, 2),
        })
        if open_s:
            # What a count costs once the box is open: the tally without opening it and without the commit
            # that checks the written rows' foreign keys.
            counted = tally_s - open_s - commit_s
            figures.append({
                "name": f"tally of a {rows:,}-ballot {label}, box already opened (s)",
                "portal": round(counted, 2),
                "baseline": round(floor_s, 2),
                "unit": "s",
                "target": f"<= {TARGET} x floor",
                "ratio": round(counted / floor_s, 2),
                "ok": counted <= TARGET * floor_s,
            })
    return figures


def in_bench_database(fn, purpose="tally"):
    """Run fn() in a database of its own (bench_<purpose>_<name>), dropped afterwards."""
    from django.test.utils import setup_test_environment

    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test")
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{purpose}_{old_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return fn()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def rows(count=None, profile_dir=None):
    count = count or int(os.environ.get("BENCH_ROWS", 1_000_000))
    return in_bench_database(lambda: measure(count, profile_dir))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    parser.add_argument("--profile", metavar="DIR", help="write a pyinstrument profile of each tally into DIR")
    args = parser.parse_args()
    figures = rows(args.rows, args.profile)
    for figure in figures:
        verdict = "OK" if figure["ok"] else "MISSED"
        print(f"{figure['name']}: {figure['portal']} s vs floor {figure['baseline']} s = {figure['ratio']}x ({verdict})")
    sys.exit(0 if all(figure["ok"] for figure in figures if "open_box" in figure) else 1)


if __name__ == "__main__":
    main()
