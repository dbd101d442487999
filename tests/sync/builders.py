"""Builders for sync tests: actors, changes, changesets and a small world.

Every builder takes keyword overrides, so a test states only what matters
to it: ``a_changeset(an_update(TASK_A, status="claimed"))``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sync import (
    Actor,
    Change,
    Changeset,
    ChangesetResult,
    MemoryStore,
    Push,
    PushOutcome,
    Record,
    UserScope,
    apply_push,
)
from sync.catalog import REGISTRY
from sync.registry import Registry
from sync.signing import Signer

T0 = datetime(2022, 3, 23, 10, 0, tzinfo=UTC)
#: When pushes arrive unless a test says otherwise: an hour after T0.
RECEIVED = T0 + timedelta(hours=1)


def stable_id(*parts: object) -> str:
    """Return a fixed UUID for a test record named by ``parts``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "weiguang-test/" + "/".join(map(str, parts))))


def new_id() -> str:
    """Return a fresh UUID."""
    return str(uuid.uuid4())


COMPOUND_A, COMPOUND_B = stable_id("compound", "A"), stable_id("compound", "B")
BUILDING_A, BUILDING_B = stable_id("building", "A"), stable_id("building", "B")
HOUSEHOLD_A, HOUSEHOLD_B = stable_id("household", "A"), stable_id("household", "B")
RESIDENT_A = stable_id("resident", "A")
TASK_A, TASK_B = stable_id("task", "A"), stable_id("task", "B")


def an_actor(
    role: str = "coordinator",
    user_id: int = 1,
    compounds: tuple[str, ...] = (),
    buildings: tuple[str, ...] = (),
    everything: bool = False,
) -> Actor:
    """Return an actor."""
    scope = UserScope(everything, frozenset(compounds), frozenset(buildings))
    return Actor(user_id, role, scope)


COORD = an_actor("coordinator", 1, everything=True)
VOL_A = an_actor("volunteer", 2, (COMPOUND_A,))
VOL_B = an_actor("volunteer", 3, (COMPOUND_B,))
GUARD_A = an_actor("guard", 4, (COMPOUND_A,))
VOL_A2 = an_actor("volunteer", 5, (COMPOUND_A,))
LEADER_A = an_actor("team_leader", 6, (COMPOUND_A,))
MEDIC = an_actor("clinician", 7, everything=True)
COORD_A = an_actor("coordinator", 8, (COMPOUND_A,))


def a_change(**overrides: Any) -> Change:
    """Return a change; by default an empty update of task A."""
    values: dict[str, Any] = {"type": "task", "id": TASK_A, "op": "update", "base_version": 0}
    values["fields"] = {}
    values.update(overrides)
    return Change(**values)


def a_create(type_: str, record_id: str | None = None, **fields: Any) -> Change:
    """Return a create of a ``type_`` record with ``fields``."""
    return Change(type_, record_id or new_id(), "create", 0, fields)


def an_update(record_id: str, base: int = 0, *, type_: str = "task", **fields: Any) -> Change:
    """Return an update of ``record_id`` made on top of version ``base``."""
    return Change(type_, record_id, "update", base, fields)


def a_delete(record_id: str, type_: str = "task", base: int = 0) -> Change:
    """Return a delete of ``record_id``."""
    return Change(type_, record_id, "delete", base, {})


def a_changeset(*changes: Change, **overrides: Any) -> Changeset:
    """Return a changeset of ``changes`` made at T0 with a fresh id."""
    values: dict[str, Any] = {"id": new_id(), "made_at": T0, "changes": tuple(changes)}
    values.update(overrides)
    return Changeset(**values)


def device_of(actor: Actor, name: str = "phone") -> str:
    """Return the install id of ``actor``'s device called ``name``."""
    return stable_id("install", actor.user_id, name)


def a_push(*changesets: Changeset, client_id: str | None = None) -> Push:
    """Return a push of ``changesets`` from install ``client_id`` (a fresh one by default)."""
    return Push(client_id if client_id is not None else new_id(), tuple(changesets))


def push(
    store: MemoryStore,
    actor: Actor,
    *changesets: Changeset,
    at: datetime = RECEIVED,
    registry: Registry = REGISTRY,
    device: str | None = None,
    signer: Signer | None = None,
) -> PushOutcome:
    """Apply a push of ``changesets`` by ``actor`` received at ``at``.

    It comes from ``device`` (an install id), by default the actor's one
    device, :func:`device_of` ``(actor)``; ``signer`` signs gate passes.
    """
    client_id = device if device is not None else device_of(actor)
    pushed = a_push(*changesets, client_id=client_id)
    return apply_push(store, actor, pushed, at, registry, signer)


def only(outcome: PushOutcome) -> ChangesetResult:
    """Return the result of a push's only changeset."""
    (result,) = outcome.results
    return result


def code_of(outcome: PushOutcome, change: int = 0) -> str | None:
    """Return the conflict code of one change of a push's only changeset."""
    conflict = only(outcome).changes[change].conflict
    return None if conflict is None else str(conflict.code)


def task_fields(compound_id: str = COMPOUND_A, **overrides: Any) -> dict[str, Any]:
    """Return the fields of a new open task."""
    fields = {"kind": "delivery", "title": "Rice to 3-502", "compound_id": compound_id}
    fields.update(priority=2, **overrides)
    return fields


def compound_fields(letter: str) -> dict[str, Any]:
    """Return the fields of a compound."""
    return {"name": f"Compound {letter}", "neighbourhood_id": "n1", "tier": "controlled"}


def seed_world(store: MemoryStore) -> None:
    """Create compounds A and B, a building, household and task in each, a resident in A."""
    changes = []
    for letter, compound, building, household, task in (
        ("A", COMPOUND_A, BUILDING_A, HOUSEHOLD_A, TASK_A),
        ("B", COMPOUND_B, BUILDING_B, HOUSEHOLD_B, TASK_B),
    ):
        changes += [
            a_create("compound", compound, **compound_fields(letter)),
            a_create("building", building, compound_id=compound, name="3号楼", number=3),
            a_create(
                "household",
                household,
                compound_id=compound,
                building_id=building,
                unit="1",
                floor=5,
                room="502",
            ),
            a_create("task", task, **task_fields(compound, building_id=building)),
        ]
    changes.append(
        a_create(
            "resident",
            RESIDENT_A,
            household_id=HOUSEHOLD_A,
            name="王秀英",
            phone="13800000000",
            birth_year=1941,
            needs=["elderly_alone"],
            languages=["zh"],
        )
    )
    outcome = push(store, COORD, a_changeset(*changes, made_at=T0 - timedelta(days=1)))
    assert only(outcome).status == "applied", only(outcome).to_wire()


def version_of(store: MemoryStore, record_id: str) -> int:
    """Return the current version of a stored record."""
    record = store.get(record_id)
    assert record is not None
    return record.version


def stored(store: MemoryStore, record_id: str) -> Record:
    """Return a stored record (it must exist)."""
    record = store.get(record_id)
    assert record is not None
    return record


def conflicts_of(store: MemoryStore, record_id: str) -> list[Record]:
    """Return the conflict records kept for ``record_id``."""
    page = store.page(UserScope(everything=True), 0, 100_000, frozenset())
    return [r for r in page.records if r.type == "conflict" and r.fields["record_id"] == record_id]
