"""Push throughput: changes/s for pushes of 1, 50 and 500 changesets.

Each bench client holds keep-alive connections (one signed in as ``coord``,
one as a volunteer) and runs rounds: three in four are coordinator pushes
(task creates spread over compounds A, B and C, and notes edits of tasks it
made before), one in four a volunteer's push claiming open tasks of its own
compound (made, untimed, before the rounds start). Clients never touch each
other's tasks, so every change should apply: any non-200 reply or rejected
changeset is counted as an error. The floor sends the same rows, full
fields, to ``POST /bench/floor/upsert`` with the same rounds and clients.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench import client, harness
from bench.harness import Figure, Stopwatch

SIZES = (1, 50, 500)
CONCURRENCY = (1, 4)
CLAIM_EVERY = 4  # every fourth round of a client is a volunteer's claims
EDIT_SHARE = 0.3  # of a coordinator push, once it has tasks to edit
PREPARE_BATCH = 500
TARGET_SHARE_OF_FLOOR = 1 / 3
KINDS = ("delivery", "medicine", "garbage", "check_in", "escort", "other")
NOTES = (
    "已电话联系，老人独居，请敲门后稍等。",
    "家属在外地，药品放门口并拍照。",
    "楼道消杀时间 14:00，错峰上门。",
    "居民要求送到 3 楼平台，电梯停用。",
)


@dataclass(frozen=True)
class Limits:
    """How many rounds a client may run for one batch size, and for how long."""

    rounds: dict[int, int]
    seconds: float


FULL = Limits({1: 120, 50: 12, 500: 4}, seconds=10.0)
QUICK = Limits({1: 30, 50: 4, 500: 2}, seconds=3.0)


@dataclass
class Task:
    """A task a bench client made: its full fields and the version it last saw."""

    id: str
    compound_id: str
    fields: dict[str, Any]
    version: int = 0


@dataclass
class Outcome:
    """What one push (or floor upsert) got back."""

    status: int
    seconds: float
    changes: int
    rejected: Counter[str] = field(default_factory=Counter)


class Workload:
    """Make one client's changesets and remember what they did.

    ``changesets`` returns the round's changesets and, for the floor, the
    same rows with full fields; ``settle`` reads a push reply back so later
    edits carry the right ``base_version``.
    """

    def __init__(self, seed: int, compounds: dict[str, str], volunteer_compound: str) -> None:
        self.rng = random.Random(seed)
        self.compounds = compounds
        self.volunteer_compound = volunteer_compound
        self.tasks: dict[str, Task] = {}
        self.open_pool: list[str] = []  # unclaimed tasks in the volunteer's compound
        self.serial = 0

    def create(self, compound_letter: str) -> tuple[dict[str, Any], Task]:
        """Return a create change for a new open task in one compound."""
        self.serial += 1
        compound_id = self.compounds[compound_letter]
        fields = {
            "kind": self.rng.choice(KINDS),
            "title": f"压测任务 {compound_letter}-{self.serial}：送菜上门",
            "status": "open",
            "compound_id": compound_id,
            "priority": self.rng.randint(1, 3),
        }
        task = Task(str(uuid.uuid4()), compound_id, fields)
        self.tasks[task.id] = task
        change = {"type": "task", "id": task.id, "op": "create", "base_version": 0}
        return {**change, "fields": dict(fields)}, task

    def update(self, task: Task, fields: dict[str, Any]) -> dict[str, Any]:
        """Return an update change of ``task``, applying it to the local copy too."""
        task.fields.update(fields)
        return {
            "type": "task",
            "id": task.id,
            "op": "update",
            "base_version": task.version,
            "fields": fields,
        }

    def prepare(self, count: int) -> list[dict[str, Any]]:
        """Return changesets creating ``count`` open tasks for the volunteer to claim."""
        changesets = []
        for _ in range(count):
            change, task = self.create(self.volunteer_compound)
            self.open_pool.append(task.id)
            changesets.append(changeset([change]))
        return changesets

    def coordinator_round(self, size: int) -> list[dict[str, Any]]:
        """Return ``size`` changesets of creates (A, B, C) and notes edits."""
        pooled = set(self.open_pool)
        editable = [t for t in self.tasks.values() if t.id not in pooled]
        out = []
        for _ in range(size):
            if editable and self.rng.random() < EDIT_SHARE:
                task = self.rng.choice(editable)
                out.append(changeset([self.update(task, {"notes": self.rng.choice(NOTES)})]))
            else:
                change, _task = self.create(self.rng.choice(sorted(self.compounds)))
                out.append(changeset([change]))
        return out

    def claim_round(self, size: int) -> list[dict[str, Any]] | None:
        """Return ``size`` claims of open tasks, or None if too few are left."""
        if len(self.open_pool) < size:
            return None
        taken, self.open_pool = self.open_pool[:size], self.open_pool[size:]
        return [changeset([self.update(self.tasks[i], {"status": "claimed"})]) for i in taken]

    def floor_rows(self, changesets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return the rows a push of ``changesets`` writes, with full fields."""
        rows = []
        for cs in changesets:
            for change in cs["changes"]:
                task = self.tasks[change["id"]]
                rows.append(
                    {
                        "type": "task",
                        "id": task.id,
                        "fields": task.fields,
                        "compound_id": task.compound_id,
                    }
                )
        return rows

    def settle(self, reply: dict[str, Any]) -> Counter[str]:
        """Record the versions a push reply gave; return its rejection codes."""
        rejected: Counter[str] = Counter()
        for result in reply.get("results", []):
            for change in result.get("changes", []):
                task = self.tasks.get(change.get("id"))
                if change.get("status") == "rejected":
                    code = (change.get("conflict") or {}).get("code", "rejected")
                    rejected[code] += 1
                elif task is not None and change.get("version"):
                    task.version = int(change["version"])
        return rejected


def changeset(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap changes in a changeset with a fresh id, made now."""
    made_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"id": str(uuid.uuid4()), "made_at": made_at, "changes": changes}


@dataclass
class Seat:
    """One bench client: its workload and its two keep-alive connections."""

    workload: Workload
    coordinator: client.Http
    volunteer: client.Http
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def close(self) -> None:
        """Close both connections."""
        self.coordinator.close()
        self.volunteer.close()


Sender = Callable[[Seat, client.Http, list[dict[str, Any]]], Outcome]


def send_push(seat: Seat, http: client.Http, changesets: list[dict[str, Any]]) -> Outcome:
    """Push ``changesets`` to the real endpoint."""
    reply = http.request(
        "POST", "/api/v1/sync/push", {"client_id": seat.client_id, "changesets": changesets}
    )
    outcome = Outcome(reply.status, reply.seconds, len(changesets))
    if reply.status == 200:
        outcome.rejected = seat.workload.settle(reply.json())
    return outcome


def send_floor(seat: Seat, http: client.Http, changesets: list[dict[str, Any]]) -> Outcome:
    """Upsert the same rows through the bare floor endpoint."""
    rows = seat.workload.floor_rows(changesets)
    reply = http.request("POST", "/bench/floor/upsert", {"rows": rows})
    return Outcome(reply.status, reply.seconds, len(rows))


def run_rounds(seat: Seat, send: Sender, size: int, watch: Stopwatch) -> list[Outcome]:
    """Run one client's rounds of ``size`` changesets until the stopwatch ends."""
    outcomes = []
    while watch.more():
        claims = None
        if watch.count % CLAIM_EVERY == 0:
            claims = seat.workload.claim_round(size)
        if claims is not None:
            outcomes.append(send(seat, seat.volunteer, claims))
        else:
            outcomes.append(send(seat, seat.coordinator, seat.workload.coordinator_round(size)))
    return outcomes


@dataclass
class Cell:
    """The result of one batch size and client count against one target."""

    changes: int
    seconds: float
    statuses: Counter[int]
    rejected: Counter[str]

    @property
    def throughput(self) -> float:
        """Return changes per second over the cell's wall time."""
        return self.changes / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        """Return non-200 replies plus rejected changes (none is expected)."""
        return sum(n for s, n in self.statuses.items() if s != 200) + sum(self.rejected.values())


def run_cell(seats: list[Seat], send: Sender, size: int, limits: Limits) -> Cell:
    """Run ``len(seats)`` clients at once, each in its own thread, and time them."""
    claims_needed = size * (limits.rounds[size] // CLAIM_EVERY)
    for seat in seats:  # untimed: the tasks the volunteers will claim, and a warm-up
        pending = seat.workload.prepare(claims_needed)
        for start in range(0, len(pending), PREPARE_BATCH):
            send(seat, seat.coordinator, pending[start : start + PREPARE_BATCH])
        send(seat, seat.coordinator, seat.workload.coordinator_round(1))
    barrier = threading.Barrier(len(seats) + 1)
    results: list[list[Outcome]] = [[] for _ in seats]

    def work(index: int) -> None:
        barrier.wait()
        watch = Stopwatch(limits.rounds[size], limits.seconds)
        results[index] = run_rounds(seats[index], send, size, watch)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(seats))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=limits.seconds + client.REQUEST_TIMEOUT_S)
    seconds = time.perf_counter() - started
    outcomes = [o for per_seat in results for o in per_seat]
    return Cell(
        changes=sum(o.changes for o in outcomes if o.status == 200),
        seconds=seconds,
        statuses=Counter(o.status for o in outcomes),
        rejected=sum((o.rejected for o in outcomes), Counter()),
    )


def make_seats(base_url: str, count: int, password: str, compounds: dict[str, str]) -> list[Seat]:
    """Sign ``count`` clients in (coord, and vol-a or vol-b) with their own tokens."""
    seats = []
    for index in range(count):
        volunteer, letter = ("vol-a", "A") if index % 2 == 0 else ("vol-b", "B")
        seats.append(
            Seat(
                Workload(1000 + index, compounds, letter),
                client.Http(base_url, client.log_in(base_url, "coord", password, "bench-push")),
                client.Http(base_url, client.log_in(base_url, volunteer, password, "bench-push")),
            )
        )
    return seats


def run(
    base_url: str, db_kind: str, password: str, compounds: dict[str, str], quick: bool
) -> list[Figure]:
    """Measure push throughput against the floor for every size and client count."""
    limits = QUICK if quick else FULL
    token = client.log_in(base_url, "coord", password, "bench-probe")
    exists = client.endpoint_exists(
        base_url, token, "POST", "/api/v1/sync/push", {"client_id": "probe", "changesets": []}
    )
    figures = []
    for clients in CONCURRENCY:
        errors: list[str] = []
        error_count = 0
        for size in SIZES:
            floor = run_cell(
                make_seats(base_url, clients, password, compounds), send_floor, size, limits
            )
            if not exists:
                figures.append(push_figure(db_kind, size, clients, None, floor))
                continue
            seats = make_seats(base_url, clients, password, compounds)
            real = run_cell(seats, send_push, size, limits)
            for seat in seats:
                seat.close()
            figures.append(push_figure(db_kind, size, clients, real, floor))
            error_count += real.errors
            if real.errors:
                errors.append(f"{size}: {describe_errors(real)}")
        figures.append(
            Figure(
                "push",
                f"{db_kind} {clients} client{'s' if clients > 1 else ''}: errors",
                "errors",
                float(error_count) if exists else None,
                target=harness.value_at_most(0, "none"),
                note="; ".join(errors) if exists else "endpoint missing",
            )
        )
    return figures


def push_figure(db_kind: str, size: int, clients: int, real: Cell | None, floor: Cell) -> Figure:
    """Return the throughput figure of one cell next to its floor."""
    target = None
    if size == max(SIZES):
        target = harness.at_least(TARGET_SHARE_OF_FLOOR, "≥ 0.33× floor")
    floor_note = f"floor {floor.changes} rows in {floor.seconds:.1f} s"
    if floor.errors:
        floor_note += f" (errors: {describe_errors(floor)})"
    if real is None:
        note = f"endpoint missing; {floor_note}"
    else:
        note = f"{real.changes} changes in {real.seconds:.1f} s; {floor_note}"
    return Figure(
        "push",
        f"{db_kind} {size} changesets × {clients} client{'s' if clients > 1 else ''}",
        "changes/s",
        real.throughput if real else None,
        floor=floor.throughput,
        target=target,
        note=note,
    )


def describe_errors(cell: Cell) -> str:
    """Describe a cell's non-200 replies and rejection codes."""
    parts = [f"HTTP {s} ×{n}" for s, n in sorted(cell.statuses.items()) if s != 200]
    parts += [f"rejected {code} ×{n}" for code, n in cell.rejected.most_common()]
    return ", ".join(parts)
