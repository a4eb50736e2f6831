"""Processes for the operations tests: a free port, the test database's URL, start and stop."""

import os
import signal
import socket
import subprocess
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shared_database_url():
    """The URL of the database this test runs on (pytest-django's test_<name>), for another process."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


def start(command, env, log_path):
    """Start a process in its own process group (so that its children stop with it), logging to a file."""
    log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
    process = subprocess.Popen(  # noqa: S603 (fixed commands, our own interpreter)
        command, cwd=str(settings.BASE_DIR), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    process.log = log
    return process


def stop(process, timeout=20):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    process.log.close()
