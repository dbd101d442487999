"""Property: devices that edit offline and sync in any order converge, losing nothing.

Six devices — a coordinator on two installs (phone and laptop), a volunteer
of compound A on two installs, another volunteer of compound A and one of
compound B — make random offline edits (creates, text edits, claims and
status changes, moves, deletes), push in random orders and batch sizes,
sometimes twice, sometimes losing the response, and pull in random page
sizes. After everyone syncs:

- every device holds exactly the server's state for its scope;
- every accepted text edit is in the final state, kept in a conflict record,
  or was overwritten by a later edit that saw it or came from the same
  install; every losing edit is in a conflict record (causality is per
  install: two installs of one user lose nothing to each other silently);
- no install is ever in conflict with itself;
- retried pushes returned the recorded results and wrote nothing;
- a task any device ever saw ``done`` is ``done``.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Protocol

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import Actor, MemoryStore, Record, Store, UserScope, changes_since
from tests.sync.builders import (
    COMPOUND_A,
    COMPOUND_B,
    COORD,
    HOUSEHOLD_A,
    HOUSEHOLD_B,
    T0,
    VOL_A,
    VOL_A2,
    VOL_B,
    seed_world,
    task_fields,
)
from tests.sync.simulator import Device, EngineServer, Sent, Server

TRACKED = frozenset({"title", "notes", "name"})
#: One random step: (device index, action, two random numbers the action uses).
Step = tuple[int, str, int, int]
ACTIONS = ("text", "status", "create", "resident", "move", "delete", "push", "pull", "tick")
VOLUNTEER_TARGETS = ("claimed", "in_progress", "done", "failed")

#: (install id, user) of the simulated devices.
INSTALLS = (
    ("coord-phone", COORD),
    ("coord-laptop", COORD),
    ("vol-a-phone", VOL_A),
    ("vol-a-tablet", VOL_A),
    ("vol-a2", VOL_A2),
    ("vol-b", VOL_B),
)
DEVICES = len(INSTALLS)

steps = st.lists(
    st.tuples(
        st.integers(0, DEVICES - 1),
        st.sampled_from(ACTIONS),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
    ),
    min_size=5,
    max_size=90,
)
skews = st.lists(st.integers(-900, 900), min_size=DEVICES, max_size=DEVICES)


def make_devices(
    skew_seconds: list[int], installs: tuple[tuple[str, Actor], ...] = INSTALLS
) -> list[Device]:
    """Return the devices of ``installs``, their clocks skewed."""
    return [
        Device(name, actor, timedelta(seconds=skew))
        for (name, actor), skew in zip(installs, skew_seconds, strict=True)
    ]


def seeded_steps(rng: random.Random, count: int) -> tuple[list[Step], list[int]]:
    """Return ``count`` random steps and the devices' clock skews, from ``rng``."""
    steps = [
        (rng.randrange(DEVICES), rng.choice(ACTIONS), rng.randrange(10_000), rng.randrange(10_000))
        for _ in range(count)
    ]
    return steps, [rng.randint(-900, 900) for _ in range(DEVICES)]


def pick(options: list[str], n: int) -> str | None:
    """Return option ``n`` (modulo), or ``None`` if there are none."""
    return options[n % len(options)] if options else None


def act(device: Device, server: Server, clock: dt, action: str, a: int, b: int) -> None:
    """Let ``device`` take one random step."""
    coordinator = device.actor.role == "coordinator"
    task = pick(device.records("task"), a)
    if action == "text" and task:
        name = "title" if coordinator and b % 2 else "notes"
        device.update(clock, "task", task, {name: device.unique()})
    elif action == "status" and task:
        if coordinator:
            device.update(clock, "task", task, {"status": "cancelled"})
        else:
            target = VOLUNTEER_TARGETS[b % 4]
            fields = {"status": target}
            if target == "failed":
                fields["notes"] = device.unique()
            if target == "done":
                fields["proof"] = "code 1234"
            device.update(clock, "task", task, fields)
    elif action == "create":
        if coordinator:
            compound = (COMPOUND_A, COMPOUND_B)[b % 2]
            device.create(clock, "task", task_fields(compound, title=device.unique()))
        else:
            household = HOUSEHOLD_B if device.actor is VOL_B else HOUSEHOLD_A
            device.create(clock, "resident", {"household_id": household, "name": device.unique()})
    elif action == "resident":
        resident = pick(device.records("resident"), a)
        if resident:
            device.update(clock, "resident", resident, {"name": device.unique()})
    elif action == "move" and task and coordinator:
        compound = (COMPOUND_A, COMPOUND_B)[b % 2]
        device.update(clock, "task", task, {"compound_id": compound, "building_id": None})
    elif action == "delete" and task and coordinator:
        device.delete(clock, "task", task)
    elif action == "push":
        count = (b % 4) or None
        device.push(server, clock, count, lose_response=a % 4 == 0, duplicate=a % 5 == 1)
    elif action == "pull":
        device.pull(server, 1 + b % 7)


dt = type(T0)


def server_view(store: Store, device: Device) -> dict[str, dict]:
    """Return the live records the server holds in ``device``'s scope, as it sends them."""
    out, cursor = {}, 0
    while True:
        page = changes_since(store, device.actor, cursor, 1000)
        out.update({r.id: r.envelope() for r in page.records})
        cursor = page.cursor
        if not page.more:
            return {rid: env for rid, env in out.items() if not env["deleted"]}


def conflicts(store: Store) -> list[Record]:
    """Return every conflict record."""
    page = store.page(UserScope(everything=True), 0, 1_000_000, frozenset())
    return [r for r in page.records if r.type == "conflict"]


def conflict_values(store: Store) -> set[tuple[str, str, object]]:
    """Return (record id, field, lost value) of every conflict record."""
    return {
        (r.fields["record_id"], r.fields["field"], _hashable(r.fields["lost_value"]))
        for r in conflicts(store)
    }


def check_no_install_conflicts_with_itself(store: Store) -> None:
    """Check that no conflict record has the same user and install on both sides."""
    for record in conflicts(store):
        fields = record.fields
        kept, lost = (
            (fields["kept_by"], fields["kept_device"]),
            (fields["lost_by"], fields["lost_device"]),
        )
        assert kept != lost or fields["kept_device"] is None, f"self-conflict: {fields}"


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def check_nothing_lost(store: Store, edits: list[Sent]) -> None:
    """Check every sent text edit ended in the state, a conflict, or was superseded."""
    kept = conflict_values(store)
    accepted = [e for e in edits if e.status in ("applied", "merged")]
    for edit in edits:
        record = store.get(edit.record_id)
        key = (edit.record_id, edit.field, edit.value)
        if edit.status in ("rejected", "unknown") or record is None:
            assert edit.status != "unknown", "an edit never got a result"
            continue
        if record.fields.get(edit.field) == edit.value or key in kept:
            continue
        # Only a concurrent edit (another install's) makes an edit lose, and
        # every loser is kept.
        assert edit.status != "lost", f"lost edit not kept: {edit}"
        same_spot = [e for e in accepted if (e.record_id, e.field) == (edit.record_id, edit.field)]
        assert edit.version is not None
        assert any(
            e.version is not None
            and e.version > edit.version
            and (e.base_version >= edit.version or (e.by, e.device) == (edit.by, edit.device))
            for e in same_spot
        ), f"accepted edit vanished: {edit}"


class World(Protocol):
    """A server the devices talk to, and a store to check it by."""

    server: Server

    def read_store(self) -> Store:
        """Return a store showing everything committed so far."""
        ...


class MemoryWorld:
    """The engine on the in-memory store, seeded."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        seed_world(self.store)
        self.server: Server = EngineServer(self.store)

    def read_store(self) -> Store:
        return self.store


def run(
    steps: list[Step],
    skew_seconds: list[int],
    world: World | None = None,
    installs: tuple[tuple[str, Actor], ...] = INSTALLS,
    synced_start: bool = False,
) -> None:
    """Play ``steps`` on the devices, sync everyone, and check the properties.

    ``world`` is the engine on the in-memory store unless a test brings
    another (``tests/server/test_sql_convergence.py`` brings the SQL store);
    ``installs`` are the devices; with ``synced_start`` each pulls first.
    """
    world = world or MemoryWorld()
    server = world.server
    devices = make_devices(skew_seconds, installs)
    clock = T0
    for device in devices if synced_start else ():
        device.pull(server, 500)
    for index, action, a, b in steps:
        clock += timedelta(seconds=1 + (a % 120 if action == "tick" else 0))
        act(devices[index], server, clock, action, a, b)
    for device in devices:
        clock += timedelta(seconds=1)
        device.push(server, clock)
        assert device.outbox == []
    for device in devices:
        device.pull(server, 500)
    store = world.read_store()
    for device in devices:
        assert device.visible() == server_view(store, device), device.name
    check_nothing_lost(store, [e for d in devices for e in d.field_edits(TRACKED)])
    check_no_install_conflicts_with_itself(store)
    for task_id in set().union(*(d.done_seen for d in devices)):
        record = store.get(task_id)
        assert record is not None and record.fields["status"] == "done"


@settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=steps, skew_seconds=skews)
def test_devices_converge_and_nothing_is_lost(steps: list[Step], skew_seconds: list[int]) -> None:
    run(steps, skew_seconds)


#: Two users on two installs each, editing the seeded tasks' text only.
TWO_BY_TWO = INSTALLS[:4]
same_user_steps = st.lists(
    st.tuples(
        st.integers(0, len(TWO_BY_TWO) - 1),
        st.sampled_from(("text", "status", "push", "pull", "tick")),
        st.integers(0, 1),
        st.integers(0, 10_000),
    ),
    min_size=3,
    max_size=40,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=same_user_steps,
    skew_seconds=st.lists(st.integers(-900, 900), min_size=4, max_size=4),
)
def test_installs_of_one_user_lose_nothing_to_each_other(
    steps: list[Step], skew_seconds: list[int]
) -> None:
    # Issue 7, item 6: causality is per install. Focused on few records so
    # that two installs of one user often edit the same field from one base.
    run(steps, skew_seconds, installs=TWO_BY_TWO, synced_start=True)


@pytest.mark.parametrize("seed", range(40))
def test_long_seeded_runs_converge(seed: int) -> None:
    # Long runs reach states (many moves, page breaks) short examples rarely do;
    # one of these found the tombstone-after-a-page-break bug.
    run(*seeded_steps(random.Random(seed), 120))
