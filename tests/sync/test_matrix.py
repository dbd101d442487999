"""The role-and-scope matrix, push side: every role × record type × write, from the declarations.

For each type of :data:`sync.catalog.REGISTRY` (the types features add
later included: nothing here names one) and each role, a world with one
record of every type in compound A (``tests/matrix.py``) is put in a
:class:`~sync.memory.MemoryStore`, and the role pushes a create, an update
and a delete of that type — once as a user of compound A, once as a user of
compound B. What the declared ``permissions`` allow must not be refused for
want of permission (it may still be refused by the type's own rules: a
stale move, a bad value); what they do not allow must be; and nothing is
allowed outside one's scope (a create there is ``forbidden``, anything else
``not_found``: its existence is not revealed). Each check that passes is
counted into the reliability ledger.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from sync import Actor, MemoryStore, UserScope
from sync import fields as f
from sync.catalog import REGISTRY
from sync.changes import Change
from sync.protocol import apply_push
from sync.records import Record
from sync.registry import RecordType
from tests import reliability
from tests.matrix import build_world
from tests.sync.builders import a_changeset, a_push

NOW = datetime(2022, 4, 2, 9, 0, tzinfo=UTC)
ROLES = sorted({role for rtype in REGISTRY.values() for role in rtype.visibility.roles})
USERS = {role: number for number, role in enumerate(ROLES, start=1)}
#: Codes that mean "not yours to write" (``immutable``: nobody's, for append-only facts).
DENIED = {"forbidden", "not_found", "immutable"}


@pytest.fixture(scope="module")
def ledger() -> reliability.Row:
    return reliability.record(reliability.Row("role-and-scope matrix: pushes", "memory"))


def a_world() -> tuple[MemoryStore, dict[str, Record], dict[str, str]]:
    """Return a store holding a world in compound A and one in compound B, and their compounds."""
    store = MemoryStore()
    worlds = {letter: build_world(letter, {}, USERS, NOW, store.next_version) for letter in "AB"}
    for world in worlds.values():
        for record in world.values():
            store.put(record, None)
    return store, worlds["A"], {letter: w["compound"].id for letter, w in worlds.items()}


def outcome_code(store: MemoryStore, actor: Actor, change: Change) -> str | None:
    """Push one change alone; return its rejection code, ``None`` if applied."""
    result = apply_push(store, actor, a_push(a_changeset(change)), NOW).results[0].changes[0]
    return None if result.conflict is None else str(result.conflict.code)


def held_by(store: MemoryStore, record: Record, role: str) -> Record:
    """Return ``record``, held by ``role``'s user where its machine lets only holders act."""
    machine = REGISTRY[record.type].state_machine
    if machine is None or machine.holder is None or role not in machine.holder_roles:
        return record
    fields = {**record.fields, machine.holder: USERS[role], machine.field: min(machine.held)}
    held = replace(record, fields=fields)
    store.put(held, None)
    return held


def an_edit(rtype: RecordType, role: str) -> tuple[str, object]:
    """Return a field the role would change and a new value: text first, as a device edits."""
    allowed = rtype.permissions.update_fields.get(role)
    candidates = [
        name
        for name in rtype.fields
        if name not in rtype.immutable | rtype.rule_owned | rtype.scope_fields
        and (allowed is None or name in allowed)
    ] or sorted(rtype.fields)
    candidates.sort(key=lambda name: (not is_text(rtype.fields[name]), name))
    name = candidates[0]
    return name, "mx edited" if is_text(rtype.fields[name]) else None


def is_text(declared: f.Field) -> bool:
    inner = declared.inner if isinstance(declared, f.Nullable) else declared
    return isinstance(inner, f.Text)


def expect(code: str | None, allowed: bool, what: str, out_of_scope: str | None = None) -> None:
    """Assert the outcome of a write: allowed ones are not refused for permission."""
    if out_of_scope is not None:
        assert code in ({out_of_scope} if allowed else DENIED), f"{what}: {code}"
    elif allowed:
        assert code not in DENIED, f"{what}: declared allowed, refused {code}"
    else:
        assert code in DENIED, f"{what}: declared denied, got {code or 'applied'}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_each_write_is_allowed_or_denied_as_declared(ledger, type_name, role):
    rtype = REGISTRY[type_name]
    permissions = rtype.permissions
    store, world, compounds = a_world()
    record = held_by(store, world[type_name], role)
    made = {k: v for k, v in record.fields.items() if k not in rtype.rule_made}
    create = Change(type_name, str(uuid.uuid4()), "create", 0, made)
    inside = Actor(USERS[role], role, UserScope(compound_ids=frozenset({compounds["A"]})))
    created = rtype.scope(create.id, create.fields, store.get)
    if created is None or not inside.sees(created):
        # A record that is its own scope (a new compound): only a
        # neighbourhood-wide user has it in scope.
        inside = Actor(USERS[role], role, UserScope(everything=True))
    outside = Actor(USERS[role], role, UserScope(compound_ids=frozenset({compounds["B"]})))
    field_name, value = an_edit(rtype, role)
    if value is None:
        value = record.fields[field_name]
    update = Change(type_name, record.id, "update", record.version, {field_name: value})
    delete = Change(type_name, record.id, "delete", record.version, {})
    for actor, scope_note, creates_as, writes_as in (
        (outside, "outside its scope", "forbidden", "not_found"),
        (inside, "in its scope", None, None),
    ):
        # The outside user first: their refusals change nothing.
        for change, allowed, out in (
            (create, role in permissions.create, creates_as),
            (update, role in permissions.update and not rtype.append_only, writes_as),
            (delete, role in permissions.delete and not rtype.append_only, writes_as),
        ):
            what = f"{role} {change.op}s a {type_name} {scope_note}"
            if actor is inside and change.op == "update":
                what += f" ({field_name})"
            code = outcome_code(store, actor, change)
            expect(code, allowed, what, out)
            ledger.scope_checks += 1
