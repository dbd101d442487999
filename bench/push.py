"""Push throughput: changes/s for pushes of 1, 50 and 500 changesets.

Each bench client holds keep-alive connections (one signed in as ``coord``,
one as a volunteer) and runs rounds: three in four are coordinator pushes
(task creates spread over compounds A, B and C, and notes edits of tasks it
made before), one in four a volunteer's push claiming open tasks of its own
compound (made, untimed, before the rounds start). Clients never touch each
other's tasks, so every change should apply: any non-200 reply or rejected
changeset is counted as an error. The floor sends the same rows, full
fields, to ``POST /bench/floor/upsert`` with the same rounds and clients.
Record and changeset ids are time-ordered (:func:`bench.ids.new_id`), as the
web app makes them; the ceiling (``bench/ceiling.py``) gets the same ids.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench import client, harness
from bench.harness import Figure, Stopwatch
from bench.ids import new_client_id, new_id

SIZES = (1, 50, 500)
CONCURRENCY = (1, 4)
CLAIM_EVERY = 4  # one round in four (the 2nd, 6th, ...) is a volunteer's claims
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
    trials: int


FULL = Limits({1: 150, 50: 16, 500: 6}, seconds=8.0, trials=3)
QUICK = Limits({1: 30, 50: 4, 500: 2}, seconds=3.0, trials=1)


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
        self.editable: list[str] = []  # tasks a coordinator round may edit: made or claimed
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
        task = Task(new_id(), compound_id, fields)
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
        """Return ``size`` changesets of creates (A, B, C) and notes edits.

        Each changeset is an edit with chance :data:`EDIT_SHARE`, of a task of
        an earlier round drawn without replacement (one change a record a
        push, as the web app sends), else a create. The cost is the round's
        size, not the tasks made so far: a long run's client stays as fast as
        a short run's, so a fast server's throughput is not the client's.
        """
        edits = [self.rng.random() < EDIT_SHARE for _ in range(size)]
        chosen = iter(self.rng.sample(self.editable, min(sum(edits), len(self.editable))))
        out, created = [], []
        for edit in edits:
            task_id = next(chosen, None) if edit else None
            if task_id is not None:
                notes = {"notes": self.rng.choice(NOTES)}
                out.append(changeset([self.update(self.tasks[task_id], notes)]))
            else:
                change, task = self.create(self.rng.choice(sorted(self.compounds)))
                created.append(task.id)
                out.append(changeset([change]))
        self.editable += created
        return out

    def claim_round(self, size: int) -> list[dict[str, Any]] | None:
        """Return ``size`` claims of open tasks, or None if too few are left."""
        if len(self.open_pool) < size:
            return None
        taken, self.open_pool = self.open_pool[:size], self.open_pool[size:]
        self.editable += taken
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
    """Wrap changes in a changeset with a fresh id (:func:`bench.ids.new_id`), made now."""
    made_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"id": new_id(), "made_at": made_at, "changes": changes}


@dataclass
class Seat:
    """One bench client: its workload and its two keep-alive connections."""

    workload: Workload
    coordinator: client.Http
    volunteer: client.Http
    client_id: str = field(default_factory=new_client_id)

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


def is_claim_round(number: int) -> bool:
    """Tell whether a client's round ``number`` (from 1) is a volunteer's claims."""
    return number % CLAIM_EVERY == CLAIM_EVERY // 2


def run_rounds(seat: Seat, send: Sender, size: int, watch: Stopwatch) -> list[Outcome]:
    """Run one client's rounds of ``size`` changesets until the stopwatch ends."""
    outcomes = []
    while watch.more():
        claims = seat.workload.claim_round(size) if is_claim_round(watch.count) else None
        if claims is not None:
            outcomes.append(send(seat, seat.volunteer, claims))
        else:
            outcomes.append(send(seat, seat.coordinator, seat.workload.coordinator_round(size)))
    return outcomes


@dataclass
class Cell:
    """One batch size and client count against one target, over several trials."""

    changes: int = 0
    seconds: float = 0.0
    throughputs: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)

    @property
    def throughput(self) -> float:
        """Return the median trial's changes per second."""
        return harness.median(self.throughputs)

    @property
    def errors(self) -> int:
        """Return non-200 replies plus rejected changes (none is expected)."""
        return sum(n for s, n in self.statuses.items() if s != 200) + sum(self.rejected.values())

    def add(self, outcomes: list[Outcome], seconds: float) -> None:
        """Add one trial: its outcomes and its wall time."""
        changes = sum(o.changes for o in outcomes if o.status == 200)
        self.changes += changes
        self.seconds += seconds
        self.throughputs.append(changes / seconds if seconds else 0.0)
        self.statuses.update(o.status for o in outcomes)
        for outcome in outcomes:
            self.rejected.update(outcome.rejected)


def prepare(seats: list[Seat], send: Sender, size: int, limits: Limits) -> None:
    """Make, untimed, the tasks the volunteers will claim; warm each connection up."""
    claim_rounds = sum(is_claim_round(n) for n in range(1, limits.rounds[size] + 1))
    for seat in seats:
        pending = seat.workload.prepare(size * claim_rounds)
        for start in range(0, len(pending), PREPARE_BATCH):
            send(seat, seat.coordinator, pending[start : start + PREPARE_BATCH])
        send(seat, seat.coordinator, seat.workload.coordinator_round(1))


def run_trial(seats: list[Seat], send: Sender, size: int, limits: Limits, cell: Cell) -> None:
    """Run ``len(seats)`` clients at once, one thread each, from a start barrier."""
    prepare(seats, send, size, limits)
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
    cell.add([o for per_seat in results for o in per_seat], time.perf_counter() - started)


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


def measure(
    base_url: str,
    password: str,
    compounds: dict[str, str],
    size: int,
    clients: int,
    real: bool,
    limits: Limits,
) -> tuple[Cell, Cell | None]:
    """Alternate floor and real trials of one cell; return both cells."""
    floor_cell, real_cell = Cell(), Cell() if real else None
    floor_seats = make_seats(base_url, clients, password, compounds)
    real_seats = make_seats(base_url, clients, password, compounds) if real else []
    try:
        for _ in range(limits.trials):
            run_trial(floor_seats, send_floor, size, limits, floor_cell)
            if real_cell is not None:
                run_trial(real_seats, send_push, size, limits, real_cell)
    finally:
        for seat in floor_seats + real_seats:
            seat.close()
    return floor_cell, real_cell


def run(
    base_url: str, db_kind: str, password: str, compounds: dict[str, str], quick: bool
) -> list[Figure]:
    """Measure push throughput against the floor for every size and client count."""
    limits = QUICK if quick else FULL
    token = client.log_in(base_url, "coord", password, "bench-probe")
    probe = {"client_id": new_client_id(), "changesets": []}
    exists = client.endpoint_exists(base_url, token, "POST", "/api/v1/sync/push", probe)
    figures = []
    for clients in CONCURRENCY:
        errors: list[str] = []
        error_count = 0
        for size in SIZES:
            floor, real = measure(base_url, password, compounds, size, clients, exists, limits)
            figures.append(push_figure(db_kind, size, clients, real, floor))
            if real is not None and real.errors:
                error_count += real.errors
                errors.append(f"{size} changesets: {describe_errors(real)}")
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
        note=note + f"; median of {len(floor.throughputs)} alternating trials",
    )


def describe_errors(cell: Cell) -> str:
    """Describe a cell's non-200 replies and rejection codes."""
    parts = [f"HTTP {s} ×{n}" for s, n in sorted(cell.statuses.items()) if s != 200]
    parts += [f"rejected {code} ×{n}" for code, n in cell.rejected.most_common()]
    return ", ".join(parts)
