"""Every move of every state machine, pushed through the engine: ``tests/web/fixtures/moves.json``.

For each type with a state machine, each role, each state, each holder
(``self``: the caller holds the record, ``other``: someone else does,
``null``: nobody) and each transition target, a record is put in that state
in a :class:`~sync.memory.MemoryStore` and one update asking for the target
is pushed; the row records the outcome: ``applied``, ``noop`` (applied,
nothing written) or the rejection code. A move to another state carries
what its transition ``requires`` (a reason for failing), as the app sends it.

The web app's ``allowedActions()`` is tested against this file (node), and
``tests/sync/test_moves.py`` checks the file is what the engine does now.
Regenerate with ``python -m tests.sync.moves > tests/web/fixtures/moves.json``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from sync import Actor, Change, Changeset, MemoryStore, Push, UserScope, apply_push
from sync.catalog import REGISTRY
from sync.fields import Enum
from sync.machines import StateMachine
from sync.records import FieldStamp, Record, Scope
from sync.registry import RecordType

SELF_ID, OTHER_ID = 41, 42
AT = datetime(2022, 3, 28, 8, 0, tzinfo=UTC)
COMPOUND = "6a7e4e52-0000-4000-8000-000000000001"
RECORD = "6a7e4e52-0000-4000-8000-000000000002"
HOLDERS = {"self": SELF_ID, "other": OTHER_ID, "null": None}
# Values for the fields a record type requires, by field, for the record under test.
FILLERS: dict[str, object] = {
    "kind": "delivery",
    "title": "Rice to 3-502",
    "priority": 2,
    "compound_id": COMPOUND,
}
ROUND = "6a7e4e52-0000-4000-8000-000000000003"
HOUSEHOLD = "6a7e4e52-0000-4000-8000-000000000004"
PACKAGE = "6a7e4e52-0000-4000-8000-000000000005"
BUILDING = "6a7e4e52-0000-4000-8000-000000000006"
RESIDENT = "6a7e4e52-0000-4000-8000-000000000007"
FILLERS.update(
    supply_round_id=ROUND,
    household_id=HOUSEHOLD,
    channel="proxy",
    lines=[{"package_id": PACKAGE, "qty": 1}],
    resident_id=RESIDENT,
    medicine="insulin",
    urgency="today",
    date="2022-03-28",
)
# Fields of the record under test that say who made it: the caller did (a
# volunteer acts only on the medicine requests they made).
MADE_BY_CALLER = ("requested_by",)
# The records the fillers name, so that kind rules judge the move itself:
# an open round (AT is inside its window) with stock left.
NAMED: tuple[tuple[str, str, dict[str, object]], ...] = (
    (
        "supply_round",
        ROUND,
        {
            "compound_ids": [COMPOUND],
            "opens_at": "2022-03-28T00:00:00.000Z",
            "cutoff_at": "2022-03-28T12:00:00.000Z",
            "delivers_at": "2022-03-28T17:00:00.000Z",
        },
    ),
    ("building", BUILDING, {"compound_id": COMPOUND, "name": "3号楼", "number": 3}),
    (
        "household",
        HOUSEHOLD,
        {"compound_id": COMPOUND, "building_id": BUILDING, "unit": "1", "floor": 5, "room": "502"},
    ),
    ("resident", RESIDENT, {"household_id": HOUSEHOLD, "name": "王秀英"}),
    ("package", PACKAGE, {"supply_round_id": ROUND, "name": "rice", "price_cents": 1, "stock": 9}),
)
REASON = "nobody home"


def states(rtype: RecordType, machine: StateMachine) -> tuple[str, ...]:
    """Return the machine's states, in the order its field declares them."""
    declared = rtype.fields[machine.field]
    assert isinstance(declared, Enum), f"{rtype.name}.{machine.field} is not an enum"
    return declared.choices


def outcome(rtype: RecordType, role: str, state: str, holder: str, target: str) -> str:
    """Push one move and return its outcome."""
    machine = rtype.state_machine
    assert machine is not None
    store = MemoryStore()
    scope = Scope(frozenset({COMPOUND}))
    for type_name, record_id, named in NAMED:
        stamped = dict.fromkeys(named, FieldStamp(store.next_version(), AT, 1))
        store.put(
            Record(type_name, record_id, store.next_version(), False, named, stamped, scope), None
        )
    required = sorted(rtype.required - machine.decided)
    fields: dict[str, Any] = {name: FILLERS[name] for name in required}
    fields[machine.field] = state
    if machine.holder is not None:
        fields[machine.holder] = HOLDERS[holder]
    fields.update({name: SELF_ID for name in MADE_BY_CALLER if name in rtype.fields})
    version = store.next_version()
    stamps = dict.fromkeys(fields, FieldStamp(version, AT, 1))
    store.put(Record(rtype.name, RECORD, version, False, fields, stamps, scope), None)
    move: dict[str, object] = {machine.field: target}
    for edge in machine.transitions:
        if edge.target == target != state:
            move.update(dict.fromkeys(edge.requires, REASON))
    actor = Actor(SELF_ID, role, UserScope(compound_ids=frozenset({COMPOUND})))
    changeset = Changeset("cs-1", AT, (Change(rtype.name, RECORD, "update", version, move),))
    result = apply_push(store, actor, Push("client-1", (changeset,)), AT).results[0].changes[0]
    if result.conflict is not None:
        return str(result.conflict.code)
    return "noop" if result.version == version else "applied"


def targets(machine: StateMachine) -> list[str]:
    """Return the states some transition leads to, in declaration order."""
    return list(dict.fromkeys(edge.target for edge in machine.transitions))


def action_of(machine: StateMachine, role: str, state: str, target: str) -> str:
    """Name the move: the transition ``state -> target`` for ``role``, else any into ``target``."""
    into = [edge for edge in machine.transitions if edge.target == target]
    into.sort(key=lambda edge: (edge.source != state, role not in edge.roles))
    return into[0].action


def moves() -> list[dict[str, object]]:
    """Return every row of ``moves.json``, in a stable order."""
    rows: list[dict[str, object]] = []
    for name in sorted(REGISTRY):
        rtype = REGISTRY[name]
        machine = rtype.state_machine
        if machine is None:
            continue
        holders = list(HOLDERS) if machine.holder is not None else ["null"]
        for role in sorted(rtype.visibility.roles):
            for state in states(rtype, machine):
                for holder in holders:
                    for target in targets(machine):
                        rows.append(
                            {
                                "type": name,
                                "role": role,
                                "state": state,
                                "holder": None if holder == "null" else holder,
                                "action": action_of(machine, role, state, target),
                                "to": target,
                                "outcome": outcome(rtype, role, state, holder, target),
                            }
                        )
    return rows


def dumps(rows: list[dict[str, object]]) -> str:
    """Return the file's text: one row a line, so a diff shows which moves changed."""
    lines = ",\n".join("  " + json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows)
    return "[\n" + lines + "\n]\n"


if __name__ == "__main__":
    sys.stdout.write(dumps(moves()))
