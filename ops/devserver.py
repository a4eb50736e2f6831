"""`make run`: the development server with a Celery worker and embedded beat beside it.

Development takes the same path as production: the web process only records and
enqueues; the worker (on the embedded filesystem broker of the .env, or on Redis)
opens, closes, tallies and publishes items on the clock and sends the e-mails.
The worker is stopped when runserver stops, for whatever reason (Ctrl-C included).

Standard library only; run with the project's virtual environment:
    .venv/bin/python ops/devserver.py 127.0.0.1:8000
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BROKER_DIR = PROJECT / ".broker"
STOP_SECONDS = 15


def worker_command(broker_dir=BROKER_DIR):
    # solo pool: one process, no fork tricks, fine on any laptop; -B: beat inside the worker.
    return [
        sys.executable, "-m", "celery", "-A", "hukoomi_portal", "worker", "-B",
        "--pool=solo", "-Q", "celery,tally,email", "--loglevel=INFO",
        "-s", str(Path(broker_dir) / "celerybeat-schedule"),
        # The filesystem transport has no cheap broadcast; the development worker needs none.
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", "dev@%h",
    ]


def stop(process):
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # Celery's warm shutdown: the task at hand finishes
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Stop(Exception):
    pass


def _stop_requested(signum, frame):
    raise Stop(signum)


def main(argv):
    host = argv[1] if len(argv) > 1 else "127.0.0.1:8000"
    BROKER_DIR.mkdir(exist_ok=True)
    # Ctrl-C, a closed terminal or a `kill`: all stop both children. Set explicitly, because a shell
    # that starts us in the background makes SIGINT ignored, and Python then leaves it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_requested)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    worker = server = None
    try:
        worker = subprocess.Popen(worker_command(), cwd=PROJECT, env=env)  # noqa: S603 (fixed command, our interpreter)
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", host], cwd=PROJECT, env=env)  # noqa: S603
        return server.wait()
    except Stop:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        for process in (server, worker):
            if process is not None:
                stop(process)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
