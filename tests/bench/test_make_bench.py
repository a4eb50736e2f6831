"""`make bench` runs and prints its table (quick mode). A check that the bench works, not a timed test:
the figures depend on the machine and are never asserted."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_the_quick_bench_prints_one_table_of_ratios(redis_url):
    if not shutil.which("wrk"):
        service_missing("needs wrk (apt-get install wrk) for the web bench")
    env = os.environ | {"BENCH_QUICK": "1", "BENCH_SECONDS": "2", "REDIS_URL": redis_url}
    for name in ("DJANGO_SETTINGS_MODULE", "CACHE_URL"):  # the suite's own (hukoomi_portal/test_settings.py)
        env.pop(name, None)
    run = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "bench/run.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    table = [line for line in run.stdout.splitlines() if line.startswith("| ")]
    assert table[0] == "| figure | portal | baseline | ratio | target | met |"
    rows = table[2:]  # after the header and its "| --- |" line
    figures = [line.split(" | ")[0].removeprefix("| ") for line in rows]
    assert figures == [
        "vote POST by distinct signed-in voters",
        "poll page GET, anonymous",
        "tally of a 10,000-ballot poll (s)",
        "tally of a 10,000-ballot referendum (s)",
        "tally of a 10,000-ballot referendum, box already opened (s)",
        "CSV export of 10,000 ballots (rows/s)",
        "CSV export of 10,000 ballots, peak memory growth (MB)",
    ]
    for line in rows:
        portal, baseline = (float(cell.split()[0].replace(",", "")) for cell in line.split(" | ")[1:3])
        assert portal >= 0 and baseline >= 0, line  # figures, not asserted: a loaded machine may give 0
