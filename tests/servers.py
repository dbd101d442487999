"""Run a real ``weiguang serve`` (eventlet) in a subprocess for end-to-end tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from tests.helpers import DEMO_PASSWORD

WEIGUANG = shutil.which("weiguang", path=os.path.dirname(sys.executable)) or "weiguang"
START_TIMEOUT_S = 90
TEST_SECRET_KEY = "test-secret-key-not-for-production"
#: The JSON log line of a served process that stopped gracefully (server/cli.py).
STOPPED = '"logger": "weiguang.serve", "message": "stopped"'


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServedApp:
    """A ``weiguang serve`` process on a database URL."""

    database_url: str
    env: Mapping[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "WEIGUANG_DATABASE_URL": self.database_url,
            "WEIGUANG_SECRET_KEY": TEST_SECRET_KEY,
            "WEIGUANG_ARGON2_TIME_COST": "1",
            "WEIGUANG_ARGON2_MEMORY_KIB": "1024",
            "WEIGUANG_PUSH_RATE_LIMIT": "1000000 per minute",
            **self.env,
        }

    def start(self) -> ServedApp:
        """Start the server and wait until its health check answers."""
        # A file, not a pipe: nobody reads while the server runs, and a full
        # pipe would block it. It lives as long as the server; stop() closes it.
        if self.log is not None:
            self.log.close()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [WEIGUANG, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.environment(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weiguang serve exited early:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=1) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("weiguang serve did not answer in time")

    def kill(self) -> None:
        """Kill the server at once, as a crash would, and reap it."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> str:
        """Stop the server, reap it and return what it printed."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        output = self.output()
        if self.log is not None:
            self.log.close()
            self.log = None
        return output

    def output(self) -> str:
        """Return what the server printed so far."""
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def call(
    base_url: str,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    timeout: float = 120,
) -> Any:
    """Make one JSON request to a served app and return the decoded answer."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return json.load(reply)


def login(base_url: str, username: str) -> str:
    """Sign a demo user in on a served app and return the token."""
    body = {"username": username, "password": DEMO_PASSWORD}
    return str(call(base_url, "POST", "/api/v1/auth/login", body=body)["token"])
