"""Private services for the fault tests: a Redis and a PostgreSQL cluster of our own, on loopback.

The machine's Redis (6379) and PostgreSQL (5432) are never stopped: each test that needs to kill
a service starts its own copy in a temporary folder, on a free loopback port, and stops it in a
`finally`, also when the test fails. Missing binaries skip the test with the reason (or fail it
when PORTAL_REQUIRE_SERVICES=1, tests/conftest.py).
"""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.conftest import service_missing
from tests.ops.helpers import free_port

START_SECONDS = 20


def _wait(check, what, deadline_seconds=START_SECONDS):
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not come up within {deadline_seconds}s")


class PrivateRedis:
    """redis-server on 127.0.0.1:<free port>, no persistence; `stop()` and `start()` as often as needed."""

    def __init__(self, folder):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            service_missing("needs the redis-server binary (apt-get install redis-server) to run a private Redis")
        self.folder = folder
        self.port = free_port()
        self.process = None

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self):
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return client.ping()
        except (redis.exceptions.RedisError, OSError):
            return False
        finally:
            client.close()

    def start(self):
        command = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--save", "", "--appendonly", "no", "--protected-mode", "yes",
        ]
        self.process = subprocess.Popen(  # noqa: S603 (fixed command)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        _wait(self.ping, f"redis-server on port {self.port}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def private_redis(folder):
    server = PrivateRedis(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def postgres_binaries():
    """The folder of initdb and pg_ctl (the newest installed major version), or a skip."""
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0)
    for folder in reversed(folders):
        if os.access(os.path.join(folder, "initdb"), os.X_OK) and os.access(os.path.join(folder, "pg_ctl"), os.X_OK):
            return folder
    service_missing("needs PostgreSQL's server binaries (initdb, pg_ctl) to run a private cluster")
    return None  # not reached


def server_user_prefix():
    """PostgreSQL refuses to run as root: as root, run its server commands as the `postgres` user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        service_missing("runs as root, and PostgreSQL's server needs the unprivileged `postgres` user")
    runuser = shutil.which("runuser")
    if not runuser:
        service_missing("runs as root, and needs runuser to start PostgreSQL as the `postgres` user")
    return [runuser, "-u", "postgres", "--"]


class PrivateCluster:
    """A PostgreSQL cluster of our own: initdb in a temporary folder, trust auth, loopback only."""

    def __init__(self):
        self.bin = postgres_binaries()
        self.as_server_user = server_user_prefix()
        # Not under pytest's tmp_path: as root that is private to root, and the server runs as postgres.
        self.folder = Path(tempfile.mkdtemp(prefix="portal-faults-pg-"))
        if self.as_server_user:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.folder, postgres.pw_uid, postgres.pw_gid)
        self.data = self.folder / "data"
        self.socket_dir = self.folder
        self.log = self.folder / "postgres.log"
        self.port = free_port()

    def run(self, *args, server=False, **kwargs):
        command = [*self.as_server_user, *args] if server else list(args)
        result = subprocess.run(command, capture_output=True, timeout=60, **kwargs)  # noqa: S603
        if result.returncode:
            raise AssertionError(f"{' '.join(command)} failed: {result.stderr.decode(errors='replace')[-2000:]}")
        return result

    def remove(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def init(self):
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        self.run(f"{self.bin}/initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", env=env, server=True)

    def start(self):
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.socket_dir} -c fsync=off"
        self.run(f"{self.bin}/pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "30", "start", server=True)

    def stop(self):
        """Fast shutdown: connections are terminated, transactions in flight are rolled back."""
        if (self.data / "postmaster.pid").exists():
            self.run(f"{self.bin}/pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop", server=True)

    def url(self, name):
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def psql(self, *args, **kwargs):
        return self.run(f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", *args, **kwargs)


@contextlib.contextmanager
def private_cluster():
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            cluster.remove()
