"""Throwaway databases, seeding, and the bench server process.

Every run makes its own databases (an SQLite file in a temporary folder, a
PostgreSQL database with a random name that is dropped afterwards), seeds
the demo neighbourhood with the venv's ``weiguang seed-demo`` and serves it
with ``bench/serve.py`` on the same environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Self

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEIGUANG = shutil.which("weiguang", path=os.path.dirname(sys.executable)) or "weiguang"
POSTGRES_ADMIN_DSN = "dbname=postgres user=postgres host=127.0.0.1 port=5432"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/{name}"
DEMO_PASSWORD = "bench-" + secrets.token_hex(8)
START_TIMEOUT_S = 60
SEED_TIMEOUT_S = 300
# Logins are not measured; a cheap Argon2 keeps 200 sign-ins from taking minutes.
# Every other setting is the server's production default.
# Benchmarks measure speed, not the push rate limit. The supplies section times
# the delivery step itself: the serving process's own turn would race it.
BENCH_ENV = {
    "WEIGUANG_ARGON2_TIME_COST": "1",
    "WEIGUANG_ARGON2_MEMORY_KIB": "1024",
    "WEIGUANG_PUSH_RATE_LIMIT": "1000000 per minute",
    "WEIGUANG_DELIVERY_JOB_SECONDS": "86400",
    "WEIGUANG_SECRET_KEY": secrets.token_urlsafe(32),
}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_available() -> bool:
    """Tell whether the PostgreSQL server answers on 127.0.0.1:5432."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    """Yield the URL of an SQLite file in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="weiguang-bench-") as folder:
        yield "sqlite:///" + os.path.join(folder, "bench.db")


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """Yield the URL of a fresh PostgreSQL database, dropped afterwards."""
    import psycopg2

    name = "weiguang_bench_" + secrets.token_hex(4)
    admin = psycopg2.connect(POSTGRES_ADMIN_DSN)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield POSTGRES_URL.format(name=name)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """Yield a throwaway database URL of ``kind`` (``sqlite`` or ``postgresql``)."""
    maker = sqlite_database if kind == "sqlite" else postgres_database
    with maker() as url:
        yield url


def environment(database_url: str) -> dict[str, str]:
    """Return the environment for seeding and serving ``database_url``."""
    # PYTHONPATH makes the console script import this checkout's server, like ``-m`` does.
    return {
        **os.environ,
        **BENCH_ENV,
        "WEIGUANG_DATABASE_URL": database_url,
        "PYTHONPATH": REPO_ROOT,
    }


def seed(database_url: str) -> str:
    """Seed the demo neighbourhood with ``weiguang seed-demo``; return its summary."""
    done = subprocess.run(
        [WEIGUANG, "seed-demo", "--password", DEMO_PASSWORD],
        env=environment(database_url),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=SEED_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seed-demo failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


@dataclass
class BenchServer:
    """A ``bench/serve.py`` process on one database, logging to a temporary file."""

    database_url: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: str = ""

    #: What it is called in errors, and the path that answers 200 once it serves.
    name = "bench server"
    health_path = "/api/v1/health"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """Return the command line that serves."""
        return [sys.executable, "-m", "bench.serve", "--port", str(self.port)]

    def environment(self) -> dict[str, str]:
        """Return the environment the server runs in."""
        return environment(self.database_url)

    def start(self) -> Self:
        """Start the server and wait until its health check answers."""
        with tempfile.NamedTemporaryFile(
            prefix="weiguang-bench-", suffix=".log", delete=False
        ) as log:
            self.log_path = log.name
            self.process = subprocess.Popen(
                self.command(),
                env=self.environment(),
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + self.health_path, timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer in time:\n{self.output()}")

    def healthy(self, timeout_s: float = 10) -> bool:
        """Tell whether the server still answers its health check."""
        try:
            with urllib.request.urlopen(self.url + "/api/v1/health", timeout=timeout_s) as reply:
                return reply.status == 200
        except OSError:
            return False

    def restart(self) -> None:
        """Stop the server and start it again on the same database and port."""
        self.stop()
        self.start()

    def output(self, tail_chars: int = 4000) -> str:
        """Return the end of what the server printed."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return log.read()[-tail_chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server (terminate, then kill) and remove its log."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)


@contextlib.contextmanager
def served(kind: str) -> Iterator[BenchServer]:
    """Yield a seeded bench server on a throwaway database of ``kind``."""
    with database(kind) as url:
        seed(url)
        server = BenchServer(url).start()
        try:
            yield server
        finally:
            server.stop()


def demo(base_url: str) -> dict[str, Any]:
    """Ask the bench server for the demo compounds' ids and rooms (``bench/floor.py``)."""
    with urllib.request.urlopen(base_url + "/bench/floor/demo", timeout=10) as reply:
        return dict(json.load(reply))


def process_id(base_url: str) -> int:
    """Ask the bench server for its process id (``bench/floor.py``)."""
    with urllib.request.urlopen(base_url + "/bench/floor/process", timeout=10) as reply:
        return int(json.load(reply)["pid"])
