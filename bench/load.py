"""Load: a district's devices against one process, then two behind nginx.

Simulated devices run in one asyncio loop, each with its own sign-in, its
own aiohttp session and a python-socketio ``AsyncClient`` (websocket). They
are building-scoped volunteers, so a push reaches the devices of one
building, as in a stairwell. Every tenth device pushes one changeset (a
``visit`` with a marker in its notes) every ``PUSH_EVERY_S`` seconds,
jittered; every device follows the contract on each ``changes`` event: it
applies the event when its cursor is at least ``prev``, else pulls from its
cursor (one pull in flight per device).

Both phases run through ``scripts/district`` (nginx, ``ip_hash``) on the
same PostgreSQL database and Redis, so the only difference is the number
of processes. Each device connects from its own loopback address
(127.0.N.1, N = 1..250) so that ``ip_hash``, which keys on the first three
octets, spreads them over the processes.

Figures per phase: pushes answered per second (the offered rate, if the
server keeps up), push latency p50/p95/p99, live latency from the push's
send to each listener's receipt p50/p95, errors (non-200 replies, rejected
changesets, failed connections, dropped sockets: must be 0) and server
memory per connection (RSS growth of the server processes while the
sockets connect, over their number). Then the 2-process / 1-process ratios.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import client, harness, servers
from bench.harness import Figure
from bench.ids import new_client_id, new_id

FULL = {"devices": 1000, "seconds": 120.0}
QUICK = {"devices": 100, "seconds": 15.0}
PUSHER_SHARE = 10  # one device in ten pushes
# Each pusher's interval: 100 pushers offer 100 / PUSH_EVERY_S pushes a
# second, and each push sends the ~25 devices of its building to pull (their
# cursors lag: they hear only their building's events). Chosen for two shared
# cores that also run the 1,000 client sockets (docs/benchmarks.md, load);
# WEIGUANG_LOAD_PUSH_EVERY_S offers another rate on a bigger machine.
PUSH_EVERY_S = float(os.environ.get("WEIGUANG_LOAD_PUSH_EVERY_S", "10"))
CONNECT_CONCURRENCY = 25
START_TIMEOUT_S = 90
SCRIPT = Path(servers.REPO_ROOT) / "scripts" / "district"
REDIS_URL = os.environ.get("WEIGUANG_TEST_REDIS", "redis://127.0.0.1:6379/0")


@dataclass
class Stats:
    """What one phase measured."""

    push_ms: list[float] = field(default_factory=list)
    live_ms: list[float] = field(default_factory=list)
    pulls: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)
    closing: bool = False

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass(frozen=True)
class Account:
    """A building-scoped volunteer account and the households of its building."""

    username: str
    building: str
    households: list[str]


@dataclass
class Device:
    """One simulated device: a token, a session from its own address, a socket, a cursor."""

    index: int
    token: str
    account: Account
    session: Any = None
    sio: Any = None
    cursor: int = 0
    pulling: bool = False
    again: bool = False


@contextlib.contextmanager
def district(database_url: str, processes: int) -> Iterator[tuple[str, list[int]]]:
    """Run ``scripts/district`` with ``processes`` processes; yield its URL and their pids."""
    run_dir = Path(tempfile.mkdtemp(prefix="weiguang-load-"))
    port, first = servers.free_port(), servers.free_port()
    env = {
        **servers.environment(database_url),
        "PATH": os.path.dirname(servers.WEIGUANG) + os.pathsep + os.environ.get("PATH", ""),
        "WEIGUANG_MESSAGE_QUEUE": REDIS_URL,
        "WEIGUANG_SECRET_KEY": secrets.token_hex(32),
        "PROCESSES": str(processes),
        "PORT": str(port),
        "BACKEND_PORT": str(first),
        "RUN_DIR": str(run_dir),
    }
    log = (run_dir / "district.log").open("wb")
    process = subprocess.Popen(["bash", str(SCRIPT)], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        backends = [f"http://127.0.0.1:{first + n}" for n in range(processes)]
        for base in [*backends, url]:
            wait_healthy(base, process, run_dir)
        pids = [int((run_dir / f"server-{first + n}.pid").read_text()) for n in range(processes)]
        yield url, pids
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def wait_healthy(base: str, process: subprocess.Popen[bytes], run_dir: Path) -> None:
    """Wait until ``base`` answers its health check."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((run_dir / "district.log").read_text()[-3000:])
        with contextlib.suppress(OSError):
            reply = client.Http(base).request("GET", "/api/v1/health")
            if reply.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not answer: {(run_dir / 'district.log').read_text()[-3000:]}")


def cpu_seconds(pids: list[int]) -> float:
    """Return the CPU time (user + system) ``pids`` have used so far, in seconds (/proc)."""
    ticks = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            # After the command's closing parenthesis: utime and stime are fields 14 and 15.
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """Return the CPU time the machine's cores have been busy so far, in seconds (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    # user, nice, system, idle, iowait, irq, softirq, steal: all but idle and iowait.
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSplit:
    """Where the machine's CPU went during a phase, in cores (CPU seconds per second)."""

    servers: float
    client: float
    machine: float

    @classmethod
    def measure(
        cls, pids: list[int], started: tuple[float, float, float], wall: float
    ) -> CpuSplit:
        """Return the split since ``started`` (:func:`cpu_marks`) over ``wall`` seconds."""
        servers, client, machine = (
            (now - then) / wall for now, then in zip(cpu_marks(pids), started, strict=True)
        )
        return cls(servers, client, machine)

    def note(self) -> str:
        """Describe the split for a figure's note."""
        rest = max(0.0, self.machine - self.servers - self.client)
        return (
            f"cores busy: servers {self.servers:.2f}, load client {self.client:.2f}, "
            f"the rest (PostgreSQL, nginx, Redis, other work) {rest:.2f}, "
            f"machine {self.machine:.2f} of {os.cpu_count()}"
        )


def cpu_marks(pids: list[int]) -> tuple[float, float, float]:
    """Return the CPU seconds so far of the servers, of this process and of the machine."""
    return cpu_seconds(pids), time.process_time(), machine_busy_seconds()


def rss_kib(pids: list[int]) -> int:
    """Return the summed resident memory of ``pids`` in KiB (from /proc)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def make_accounts(base: str, password: str, buildings_wanted: int) -> tuple[list[Account], str]:
    """Create one volunteer per building (as ``coord``); return them and their password."""
    coord = client.Http(base, client.log_in(base, "coord", password))
    buildings = pull_all(coord, "building")
    homes: dict[str, list[str]] = {}
    for record in pull_all(coord, "household"):
        homes.setdefault(record["fields"]["building_id"], []).append(record["id"])
    secret = "Load-" + secrets.token_hex(12)
    accounts = []
    for building in sorted(buildings, key=lambda record: record["id"])[:buildings_wanted]:
        if not homes.get(building["id"]):
            continue
        name = f"load-{building['id'][:8]}"
        body = {
            "username": name,
            "display_name": name,
            "role": "volunteer",
            "scope_kind": "buildings",
            "scope_ids": [building["id"]],
            "password": secret,
        }
        reply = coord.request("POST", "/api/v1/users", body)
        if reply.status not in (201, 409):
            raise RuntimeError(f"could not create {name}: {reply.status} {reply.body[:300]!r}")
        accounts.append(Account(name, building["id"], homes[building["id"]]))
    coord.close()
    return accounts, secret


def pull_all(http: client.Http, type_name: str) -> list[dict[str, Any]]:
    """Pull every live record of one type the caller sees."""
    cursor, records = 0, []
    while True:
        path = f"/api/v1/sync/pull?cursor={cursor}&limit=1000&types={type_name}"
        page = http.request("GET", path).json()
        records += [record for record in page["changes"] if not record["deleted"]]
        cursor = page["cursor"]
        if not page["more"]:
            return records


def sign_in_devices(base: str, accounts: list[Account], secret: str, count: int) -> list[Device]:
    """Sign in ``count`` devices, round-robin over the accounts (each sign-in its own token)."""
    devices = []
    for index in range(count):
        account = accounts[index % len(accounts)]
        token = client.log_in(base, account.username, secret, device=f"load-{index}")
        devices.append(Device(index, token, account))
    return devices


def source_address(index: int) -> str:
    """Return the loopback address device ``index`` connects from (its own /24)."""
    return f"127.0.{index % 250 + 1}.1"


async def open_device(base: str, device: Device, stats: Stats, gate: asyncio.Semaphore) -> None:
    """Give ``device`` its session and socket, and pull it up to date."""
    import aiohttp
    import socketio

    connector = aiohttp.TCPConnector(local_addr=(source_address(device.index), 0), limit=4)
    device.session = aiohttp.ClientSession(
        connector=connector, headers={"Authorization": f"Bearer {device.token}"}
    )
    device.sio = socketio.AsyncClient(reconnection=False, http_session=device.session)

    async def changes(event: dict[str, Any]) -> None:
        await on_changes(base, device, stats, event)

    device.sio.on("changes", changes)
    device.sio.on("disconnect", lambda *args: None if stats.closing else stats.error("dropped"))
    async with gate:
        await pull(base, device, stats)
        try:
            await device.sio.connect(
                base, auth={"token": device.token}, transports=["websocket"], wait_timeout=30
            )
        except Exception:  # any failure to connect counts; the run goes on
            stats.error("socket did not connect")


async def on_changes(base: str, device: Device, stats: Stats, event: dict[str, Any]) -> None:
    """Take a ``changes`` event as the contract says: apply it, or pull first when behind."""
    now = time.perf_counter()
    for record in event.get("changes", []):
        marker = (record.get("fields") or {}).get("notes")
        sent = stats.sent_at.get(marker) if isinstance(marker, str) else None
        if sent is not None:
            stats.live_ms.append((now - sent) * 1000)
    if device.cursor >= int(event["prev"]) and event.get("changes"):
        device.cursor = max(device.cursor, int(event["cursor"]))
        return
    if device.pulling:
        device.again = True
        return
    await pull(base, device, stats)


async def pull(base: str, device: Device, stats: Stats) -> None:
    """Pull from the device's cursor until nothing more (one pull in flight per device)."""
    device.pulling = True
    try:
        while True:
            device.again = False
            more = True
            while more:
                url = f"{base}/api/v1/sync/pull?cursor={device.cursor}&limit=500"
                async with device.session.get(url) as reply:
                    if reply.status != 200:
                        stats.error(f"pull answered {reply.status}")
                        return
                    page = await reply.json()
                stats.pulls += 1
                device.cursor = max(device.cursor, int(page["cursor"]))
                more = bool(page["more"])
            if not device.again:
                return
    finally:
        device.pulling = False


async def push_loop(base: str, device: Device, stats: Stats, until: float) -> None:
    """Push one visit every ``PUSH_EVERY_S`` seconds (jittered) until ``until``."""
    rng = random.Random(device.index)
    client_id = new_client_id()
    await asyncio.sleep(rng.uniform(0, PUSH_EVERY_S))
    while time.perf_counter() < until:
        marker = f"load {device.index} {secrets.token_hex(6)}"
        body = {
            "client_id": client_id,
            "changesets": [
                {
                    "id": new_id(),
                    "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "changes": [
                        {
                            "type": "visit",
                            "id": new_id(),
                            "op": "create",
                            "fields": {
                                "household_id": rng.choice(device.account.households),
                                "outcome": "answered",
                                "present": rng.randint(1, 4),
                                "needs": [],
                                "notes": marker,
                            },
                        }
                    ],
                }
            ],
        }
        started = time.perf_counter()
        stats.sent_at[marker] = started
        try:
            async with device.session.post(f"{base}/api/v1/sync/push", json=body) as reply:
                answer = await reply.json(content_type=None)
                status = reply.status
        except Exception:  # a broken connection is an error of the run, not a crash
            stats.error("push failed to send")
            status, answer = 0, None
        if status == 200 and answer["results"][0]["status"] == "applied":
            stats.push_ms.append((time.perf_counter() - started) * 1000)
        elif status:
            stats.error(f"push answered {status}" if status != 200 else "changeset rejected")
        # Never past the window: a pusher that slept on after it would stretch the
        # phase's wall time and so understate the rate answered.
        await asyncio.sleep(min(PUSH_EVERY_S * rng.uniform(0.8, 1.2), until - time.perf_counter()))


@dataclass
class Phase:
    """What one phase measured, and over how long."""

    stats: Stats
    wall: float
    per_socket_kib: int
    cpu: CpuSplit

    @property
    def answered(self) -> float:
        """Return the pushes answered (applied) a second."""
        return len(self.stats.push_ms) / self.wall


async def run_phase(base: str, devices: list[Device], pids: list[int], seconds: float) -> Phase:
    """Connect every device, push for ``seconds``, and return what was measured."""
    stats = Stats()
    before = rss_kib(pids)
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    await asyncio.gather(*(open_device(base, device, stats, gate) for device in devices))
    per_socket = max(0, rss_kib(pids) - before) / max(1, len(devices))
    started = time.perf_counter()
    marks = cpu_marks(pids)
    until = started + seconds
    pushers = devices[::PUSHER_SHARE]
    await asyncio.gather(*(push_loop(base, device, stats, until) for device in pushers))
    await asyncio.sleep(2.0)  # the last events' receipts
    wall = time.perf_counter() - started
    cpu = CpuSplit.measure(pids, marks, wall)
    stats.closing = True
    for device in devices:
        if device.sio.connected:
            await device.sio.disconnect()
        await device.session.close()
    return Phase(stats, wall, int(per_socket), cpu)


def phase_figures(label: str, phase: Phase, pushers: int) -> list[Figure]:
    """Turn one phase's stats into figures."""
    section = "load"
    stats, wall, per_socket = phase.stats, phase.wall, phase.per_socket_kib
    pushes = len(stats.push_ms)
    errors = sum(stats.errors.values())
    note = ", ".join(f"{kind}: {n}" for kind, n in sorted(stats.errors.items()))
    offered = pushers / PUSH_EVERY_S

    def pct(samples: list[float], share: float) -> float | None:
        return harness.percentile(samples, share) if samples else None

    figures = [
        Figure(
            section,
            f"{label}: pushes answered",
            "/s",
            pushes / wall,
            floor=offered,
            floor_label="offered",
            target=harness.at_least(0.9, "≥ 0.9× offered"),
            note=f"{pushers} pushers, one push each {PUSH_EVERY_S:g} s (±20 %); "
            f"pulls: {stats.pulls}; {phase.cpu.note()}",
        ),
        Figure(section, f"{label}: push p50", "ms", pct(stats.push_ms, 0.5)),
        Figure(section, f"{label}: push p95", "ms", pct(stats.push_ms, 0.95)),
        Figure(section, f"{label}: push p99", "ms", pct(stats.push_ms, 0.99)),
        Figure(section, f"{label}: live p50", "ms", pct(stats.live_ms, 0.5)),
        Figure(section, f"{label}: live p95", "ms", pct(stats.live_ms, 0.95)),
        Figure(
            section,
            f"{label}: errors",
            "",
            float(errors),
            target=harness.value_at_most(0, "0"),
            note=note,
        ),
        Figure(section, f"{label}: server memory per connection", "KiB", float(per_socket)),
    ]
    return figures


def run(database_url: str, password: str, quick: bool) -> list[Figure]:
    """Run both phases on one seeded PostgreSQL database; return every figure."""
    shape = QUICK if quick else FULL
    wanted, seconds = int(shape["devices"]), float(shape["seconds"])
    results: dict[int, Phase] = {}
    figures: list[Figure] = []
    devices: list[Device] = []
    for processes in (1, 2):
        with district(database_url, processes) as (base, pids):
            if not devices:  # accounts and tokens live in the database: made once
                accounts, secret = make_accounts(base, password, buildings_wanted=40)
                devices = sign_in_devices(base, accounts, secret, wanted)
            for device in devices:
                device.cursor = 0
            results[processes] = asyncio.run(run_phase(base, devices, pids, seconds))
        label = f"{wanted} devices, {processes} process{'es' if processes > 1 else ''}"
        figures += phase_figures(label, results[processes], len(devices[::PUSHER_SHARE]))
    one, two = results[1], results[2]
    figures.append(
        Figure(
            "load",
            "2 processes / 1: pushes answered",
            "/s",
            two.answered,
            floor=one.answered,
            floor_label="1 process",
            note="at the same offered rate: about 1 while one process keeps up",
        )
    )
    if one.stats.push_ms and two.stats.push_ms:
        figures.append(
            Figure(
                "load",
                "2 processes / 1: push p95",
                "ms",
                harness.percentile(two.stats.push_ms, 0.95),
                floor=harness.percentile(one.stats.push_ms, 0.95),
                floor_label="1 process",
            )
        )
    figures.append(
        Figure(
            "load",
            "2 processes / 1: server CPU",
            "cores",
            two.cpu.servers,
            floor=one.cpu.servers,
            floor_label="1 process",
            note=f"one process: {one.cpu.note()}; two: {two.cpu.note()}",
        )
    )
    return figures
