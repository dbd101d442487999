"""The district's front door: ``scripts/district`` (nginx, two processes, PostgreSQL, Redis).

Clients connect through nginx, over polling and websocket; pushes are made
through nginx and straight to each process, so every live event has to
cross Redis to reach the sockets of the other process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import socketio

from server import seed
from tests.conftest import REDIS_URL, pg_execute, pg_url_for, require_redis
from tests.helpers import DEMO_PASSWORD
from tests.servers import STOPPED, WEIGUANG, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "district"
START_TIMEOUT_S = 60
EVENT_TIMEOUT_S = 15
COMPOUND_A = seed.stable_id("compound", "A")


@dataclass
class District:
    """A running ``scripts/district``: nginx at ``url``, the processes at ``backends``."""

    url: str
    backends: list[str]
    run_dir: Path
    process: subprocess.Popen[bytes]

    def pid_of(self, backend: str) -> int:
        """Return the process id of the server behind ``backend``."""
        port = backend.rsplit(":", 1)[1]
        return int((self.run_dir / f"server-{port}.pid").read_text())

    def upstream(self) -> str:
        """Return the process (``http://127.0.0.1:PORT``) nginx sends this client to."""
        with urllib.request.urlopen(self.url + "/api/v1/health", timeout=10) as reply:
            return "http://" + reply.headers["X-Weiguang-Upstream"].split(",")[-1].strip()


def require_nginx() -> str:
    """Return the nginx binary, skipping (failing in CI) where there is none."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        message = "nginx is not installed (apt-get install nginx)"
        if os.environ.get("WEIGUANG_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (mandatory in CI)")
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def district(pg_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    """Start two processes behind nginx on a fresh copy of the seeded database."""
    nginx = require_nginx()
    require_redis()
    name = f"wg_district_{uuid.uuid4().hex[:8]}"
    pg_execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    run_dir = tmp_path_factory.mktemp("district")
    port, first = free_port(), two_free_ports()
    second = first + 1
    env = {
        **os.environ,
        "PATH": os.path.dirname(WEIGUANG) + os.pathsep + os.environ.get("PATH", ""),
        "WEIGUANG_DATABASE_URL": pg_url_for(name),
        "WEIGUANG_MESSAGE_QUEUE": REDIS_URL,
        "WEIGUANG_SECRET_KEY": "front-door-test-" + uuid.uuid4().hex,
        "WEIGUANG_ARGON2_TIME_COST": "1",
        "WEIGUANG_ARGON2_MEMORY_KIB": "1024",
        "WEIGUANG_PUSH_RATE_LIMIT": "1000000 per minute",
        "PROCESSES": "2",
        "PORT": str(port),
        "BACKEND_PORT": str(first),
        "RUN_DIR": str(run_dir),
        "NGINX": nginx,
    }
    with (run_dir / "district.log").open("wb") as log:
        process = subprocess.Popen(["bash", str(SCRIPT)], env=env, stdout=log, stderr=log)
    found = District(
        f"http://127.0.0.1:{port}",
        [f"http://127.0.0.1:{first}", f"http://127.0.0.1:{second}"],
        run_dir,
        process,
    )
    try:
        # The processes first: a refused request through nginx would take one out for a while.
        wait_until_healthy([*found.backends, found.url], process, run_dir)
        yield found
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def two_free_ports() -> int:
    """Return a port that is free with the next one (the script numbers its processes so)."""
    while True:
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def wait_until_healthy(urls: list[str], process: subprocess.Popen[bytes], run_dir: Path) -> None:
    """Wait until every URL's health check answers 200."""
    deadline = time.monotonic() + START_TIMEOUT_S
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((run_dir / "district.log").read_text())
        try:
            with urllib.request.urlopen(pending[0] + "/api/v1/health", timeout=2) as reply:
                if reply.status == 200:
                    pending.pop(0)
                    continue
        except OSError:
            pass
        time.sleep(0.2)
    if pending:
        raise RuntimeError(f"no answer from {pending}: {(run_dir / 'district.log').read_text()}")


def call(base: str, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    """Make one JSON request and return the decoded answer (``None`` for no content)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=20) as reply:
        raw = reply.read()
    return json.loads(raw) if raw else None


def sign_in(base: str, username: str = "coord") -> str:
    """Sign in through ``base`` and return the token."""
    body = {"username": username, "password": DEMO_PASSWORD, "device_name": "front-door"}
    return str(call(base, "POST", "/api/v1/auth/login", body=body)["token"])


def a_task(base: str, token: str) -> dict[str, Any]:
    """Return one task of the caller's scope, as pulled."""
    page = call(base, "GET", "/api/v1/sync/pull?types=task&limit=1", token)
    return dict(page["changes"][0])


def note_on(base: str, token: str, task: dict[str, Any], text: str) -> int:
    """Push a note on ``task`` through ``base``; return the version written."""
    push = {
        "client_id": str(uuid.uuid4()),
        "changesets": [
            {
                "id": str(uuid.uuid4()),
                "made_at": "2022-04-02T10:00:00Z",
                "changes": [
                    {
                        "type": "task",
                        "id": task["id"],
                        "op": "update",
                        "base_version": 0,
                        "fields": {"notes": text},
                    }
                ],
            }
        ],
    }
    result = call(base, "POST", "/api/v1/sync/push", token, push)
    assert result["results"][0]["status"] == "applied", result
    return int(result["cursor"])


@dataclass
class Listener:
    """A Socket.IO client that keeps every note it sees and its cursor."""

    client: socketio.Client
    notes: set[str] = field(default_factory=set)
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    cursor: int = 0
    seen: threading.Condition = field(default_factory=threading.Condition)
    gone: threading.Event = field(default_factory=threading.Event)

    def on_changes(self, event: dict[str, Any]) -> None:
        with self.seen:
            for record in event["changes"]:
                self.keep(record)
                if record["type"] == "task" and record["fields"].get("notes"):
                    self.notes.add(record["fields"]["notes"])
            if int(event["prev"]) <= self.cursor:  # else it missed something: pull first
                self.cursor = int(event["cursor"])
            self.seen.notify_all()

    def keep(self, record: dict[str, Any]) -> None:
        """Keep the latest state of a record, as a device's store does."""
        known = self.latest.get(record["id"])
        if known is None or known["version"] < record["version"]:
            self.latest[record["id"]] = record

    def wait_for(self, note: str) -> bool:
        with self.seen:
            return self.seen.wait_for(lambda: note in self.notes, timeout=EVENT_TIMEOUT_S)


def listen(base: str, token: str, transport: str, reconnection: bool = False) -> Listener:
    """Connect a listener to ``base`` over one transport."""
    client = socketio.Client(reconnection=reconnection, reconnection_delay=0.2)
    listener = Listener(client)
    client.on("changes", listener.on_changes)
    client.on("disconnect", lambda *args: listener.gone.set())
    client.connect(base, auth={"token": token}, transports=[transport], wait_timeout=10)
    return listener


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_clients_behind_nginx_get_events_of_pushes_through_either_process(
    district: District, transport: str
) -> None:
    token = sign_in(district.url)
    listener = listen(district.url, token, transport)
    try:
        task = a_task(district.url, token)
        for base in [district.url, *district.backends]:
            note = f"{transport} via {base}"
            note_on(base, token, task, note)
            assert listener.wait_for(note), f"no live event for a push through {base}"
    finally:
        listener.client.disconnect()


def test_logout_disconnects_sockets_on_both_processes(district: District) -> None:
    token = sign_in(district.url, "vol-a")
    behind_nginx = district.upstream()
    other = next(base for base in district.backends if base != behind_nginx)
    listeners = [listen(district.url, token, "websocket"), listen(other, token, "polling")]
    call(district.url, "POST", "/api/v1/auth/logout", token)
    for listener in listeners:
        assert listener.gone.wait(EVENT_TIMEOUT_S), "a socket of the revoked token stayed open"


def test_a_killed_process_moves_its_clients_to_the_other_missing_nothing(
    district: District,
) -> None:
    token = sign_in(district.url)
    task = a_task(district.url, token)
    victim = district.upstream()
    survivor = next(base for base in district.backends if base != victim)
    listener = listen(district.url, token, "websocket", reconnection=True)
    # Up to date: a pull of one type still reports the high-water mark of everything.
    now = call(district.url, "GET", "/api/v1/sync/pull?types=compound", token)
    listener.cursor = now["cursor"]
    try:
        note_on(survivor, token, task, "before the crash")
        assert listener.wait_for("before the crash")
        os.kill(district.pid_of(victim), signal.SIGKILL)
        written = [note_on(survivor, token, task, f"while away {n}") for n in range(3)]
        # Back through nginx, now on the survivor: the client pulls from its
        # cursor (as the app does on reconnecting) and finds every change.
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while not listener.client.connected and time.monotonic() < deadline:
            time.sleep(0.1)
        assert listener.client.connected, "the client did not reconnect through nginx"
        assert district.upstream() == survivor
        # Changes made while it was away came live (if it was back already) or come now.
        page = call(district.url, "GET", f"/api/v1/sync/pull?cursor={listener.cursor}", token)
        assert page["cursor"] >= max(written)
        with listener.seen:
            for record in page["changes"]:
                listener.keep(record)
            assert listener.latest[task["id"]]["fields"]["notes"] == "while away 2"
    finally:
        listener.client.disconnect()


PUSHERS = 4
TRANSPORTS = ["websocket", "polling", "websocket", "polling"]
RESTART_TIMEOUT_S = 120


@dataclass
class Pusher:
    """A device pushing one task a changeset, as the app does: a failed push is sent again."""

    token: str
    applied: dict[str, str] = field(default_factory=dict)  # changeset id -> task id
    retries: int = 0
    failures: list[str] = field(default_factory=list)

    def push_until(self, base: str, stop: threading.Event) -> None:
        while not stop.is_set():
            changeset_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
            change = {
                "type": "task",
                "id": task_id,
                "op": "create",
                "fields": {
                    "kind": "garbage",
                    "title": changeset_id,
                    "status": "open",
                    "priority": 3,
                    "compound_id": COMPOUND_A,
                },
            }
            body = {
                "client_id": self.token[:16],
                "changesets": [
                    {"id": changeset_id, "made_at": "2022-04-02T10:00:00Z", "changes": [change]}
                ],
            }
            for attempt in range(20):
                try:
                    result = call(base, "POST", "/api/v1/sync/push", self.token, body)
                except OSError as error:  # refused, reset, 5xx: the same changeset again
                    self.retries += 1
                    last = repr(error)
                    time.sleep(0.2 * (attempt + 1))
                    continue
                assert result["results"][0]["status"] == "applied", result
                self.applied[changeset_id] = task_id
                break
            else:
                self.failures.append(last)


def pull_from(base: str, token: str, cursor: int) -> tuple[list[dict[str, Any]], int]:
    """Pull every page from ``cursor`` as the app does on reconnecting; return them and the end."""
    records, more = [], True
    while more:
        page = call(base, "GET", f"/api/v1/sync/pull?cursor={cursor}", token)
        records += page["changes"]
        cursor, more = page["cursor"], page["more"]
    return records, cursor


def test_a_rolling_restart_under_load_loses_and_duplicates_nothing(district: District) -> None:
    token = sign_in(district.url)
    start = call(district.url, "GET", "/api/v1/sync/pull?types=compound", token)["cursor"]
    listeners = [listen(district.url, token, t, reconnection=True) for t in TRANSPORTS]
    drops = [0] * len(listeners)
    for index, listener in enumerate(listeners):
        listener.cursor = start
        listener.client.on("disconnect", lambda *_, i=index: drops.__setitem__(i, drops[i] + 1))
    pushers = [Pusher(sign_in(district.url)) for _ in range(PUSHERS)]
    stop = threading.Event()
    threads = [threading.Thread(target=p.push_until, args=(district.url, stop)) for p in pushers]
    old_pids = {district.pid_of(base) for base in district.backends}
    # A process another test killed is started again, without a stop to log.
    stops_before = {base: stops_logged(district, base) for base in district.backends}
    running = {base for base in district.backends if alive(district.pid_of(base))}
    log = district.run_dir / "district.log"
    restarts_before = log.read_text().count("rolling restart done")
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: sum(len(p.applied) for p in pushers) >= 20, "no pushes applied")
        district.process.send_signal(signal.SIGHUP)
        wait_for(
            lambda: log.read_text().count("rolling restart done") > restarts_before,
            "the rolling restart did not end",
        )
        during = sum(len(p.applied) for p in pushers)
        wait_for(lambda: sum(len(p.applied) for p in pushers) >= during + 20, "no pushes after")
    finally:
        stop.set()
        for thread in threads:
            thread.join(RESTART_TIMEOUT_S)
    try:
        assert not {district.pid_of(base) for base in district.backends} & old_pids
        for base in running:
            assert stops_logged(district, base) == stops_before[base] + 1, base
        assert [p.failures for p in pushers] == [[]] * PUSHERS
        created = {task: cs for p in pushers for cs, task in p.applied.items()}
        # Every listener was sent away, came back through nginx and, with what
        # came live and its pull from its cursor, holds every task exactly as pushed.
        wait_for(lambda: all(lst.client.connected for lst in listeners), "a client stayed away")
        assert all(drops), f"a socket was never sent away: {drops}"
        titles = set(created.values())
        for listener in listeners:
            records, end = pull_from(district.url, token, listener.cursor)
            with listener.seen:
                for record in records:
                    listener.keep(record)
                listener.cursor = end
            mine = {
                rid: r["fields"]["title"]
                for rid, r in listener.latest.items()
                if r["type"] == "task" and r["fields"].get("title") in titles
            }
            assert mine == created
        # Nothing twice: one task per changeset in the database, whoever asks.
        everything, _ = pull_from(district.url, sign_in(district.url), start)
        ours = [r["fields"]["title"] for r in everything if r["fields"].get("title") in titles]
        assert sorted(ours) == sorted(titles)
    finally:
        for listener in listeners:
            listener.client.disconnect()


def stops_logged(district: District, base: str) -> int:
    """Return how many graceful stops the log of the process at ``base`` holds (no traceback)."""
    log = (district.run_dir / f"server-{base.rsplit(':', 1)[1]}.log").read_text()
    assert "Traceback" not in log
    return log.count(STOPPED)


def alive(pid: int) -> bool:
    """Tell whether process ``pid`` runs (and is no zombie of the script's)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(condition: Any, message: str) -> None:
    """Wait until ``condition()`` holds, or fail with ``message``."""
    deadline = time.monotonic() + RESTART_TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)
