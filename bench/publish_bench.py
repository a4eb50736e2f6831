"""Benchmark: from the close of a referendum of N ballots (default 1,000,000) to its published results, on a real worker.

Seeds N users and a referendum with N sealed ballots (bench/tally_bench.py), starts a real Celery worker
with beat on the Redis broker (beat's production interval, 60 s), lets the referendum close, and watches
the database until its results are published: close -> beat's wake at the close -> tally task -> tally
(the box opened, counted, stored) -> publication. Target: published within 60 s of the close.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test CELERY_BROKER_URL=redis://127.0.0.1:6379/2 \\
        python bench/publish_bench.py [--rows N]

It creates and drops its own database (bench_publish_<name>) and empties the Redis database it is given (use one of
your own). `rows()` returns the figure as a dict for `make bench`'s table.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.tally_bench import in_bench_database, print, seed_referendum, seed_users  # noqa: E402,A004

TARGET_SECONDS = 60
# Past the first beat run (one interval after the worker starts), so that it is beat that sees the close coming.
CLOSE_AFTER_START = timedelta(seconds=75)
TIMEOUT = 600


def database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(broker_url, workdir):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hukoomi_portal.test_settings",
        "CELERY_BROKER_URL": broker_url,
        "DATABASE_URL": database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PORTAL_BEAT_SECONDS", None)  # beat's production interval
    command = [
        sys.executable, "-m", "celery", "-A", "hukoomi_portal", "worker", "--beat",
        "--schedule", str(Path(workdir) / "beat-schedule"), "--pool=solo", "-Q", "celery,tally,email",
        "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle",
        "-n", f"publish-bench-{os.getpid()}@%h",
    ]
    log = open(Path(workdir) / "worker.log", "w")  # noqa: SIM115  (closed in stop_worker)
    process = subprocess.Popen(  # noqa: S603  (fixed command, our own interpreter)
        command, cwd=str(settings.BASE_DIR), env=env, stdout=log, stderr=subprocess.STDOUT
    )
    process.log = log
    return process


def stop_worker(process):
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.log.close()
    return Path(process.log.name).read_text()


def measure(count, broker_url):
    import redis

    from participation.models import Item, Result, State

    redis.Redis.from_url(broker_url).flushdb()
    started = time.perf_counter()
    users = seed_users(count)
    item = seed_referendum(users, closes_at=timezone.now() + timedelta(days=1), state=State.OPEN)
    del users
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {count:,} users and a referendum of {count:,} sealed ballots in {time.perf_counter() - started:.0f} s")
    with tempfile.TemporaryDirectory() as workdir:
        worker = start_worker(broker_url, workdir)
        try:
            closes_at = timezone.now() + CLOSE_AFTER_START
            Item.objects.filter(pk=item.pk).update(closes_at=closes_at)
            print(f"the referendum closes at {closes_at:%H:%M:%S}; waiting for its results")
            published_at = None
            deadline = time.monotonic() + CLOSE_AFTER_START.total_seconds() + TIMEOUT
            while time.monotonic() < deadline and worker.poll() is None:
                if Item.objects.filter(pk=item.pk, state=State.PUBLISHED).exists():
                    published_at = timezone.now()
                    break
                time.sleep(0.2)
        finally:
            log = stop_worker(worker)
    if published_at is None:
        sys.exit(f"not published within {TIMEOUT} s of the close; the worker said:\n{log[-4000:]}")
    timeline = [line for line in log.splitlines() if re.search(r"participation\.(open_and_close_due|tally_item)\[", line)]
    print("the worker's timeline:\n  " + "\n  ".join(timeline))
    result = Result.objects.get(item=item)
    seconds = (published_at - closes_at).total_seconds()
    tallies = re.findall(r"participation\.tally_item\[[^\]]+\] succeeded in ([0-9.]+)s", log)
    tally_s = round(max(float(seconds) for seconds in tallies), 1) if tallies else None
    print(f"published {seconds:.1f} s after the close ({result.ballots:,} ballots; the tally task took "
          f"{tally_s if tally_s is not None else '?'} s)")
    return [
        {
            "name": f"results of a {count:,}-ballot referendum published after its close (s)",
            "portal": round(seconds, 1),
            "baseline": None,
            "unit": "s",
            "target": f"<= {TARGET_SECONDS} s",
            "ratio": None,
            "ok": seconds <= TARGET_SECONDS,
            "tally_task": tally_s,
        }
    ]


def rows(count=None, broker_url=None):
    count = count or int(os.environ.get("BENCH_ROWS", 1_000_000))
    broker_url = broker_url or os.environ.get("CELERY_BROKER_URL") or os.environ.get("PORTAL_TEST_REDIS_URL")
    if not broker_url:
        sys.exit("Set CELERY_BROKER_URL to a Redis database of your own, e.g. redis://127.0.0.1:6379/2")
    return in_bench_database(lambda: measure(count, broker_url), "publish")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    args = parser.parse_args()
    figures = rows(args.rows)
    sys.exit(0 if all(figure["ok"] for figure in figures) else 1)


if __name__ == "__main__":
    main()
