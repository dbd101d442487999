"""Apply one change: the contract's checks, in order, then the write.

Check order (the first failing check gives the code):

1. scope and role — ``forbidden`` (a create outside scope, a role or field
   the permission table refuses, a rule-owned field in an update or a
   rule-made one in a create, a state
   the role can never ask for), ``not_found`` (an update or delete of a
   record outside scope: its existence is not revealed);
2. existence — ``not_found``;
3. deleted — ``deleted``;
4. immutable — ``immutable`` (append-only types, immutable fields);
5. validation — ``invalid`` (unknown fields, bad values, ``Ref`` fields
   naming no live record of their type or one that disagrees with this
   record's scope fields, what a state machine move requires; a move out of
   the caller's scope is ``forbidden`` here, as the new scope can only be
   told from valid values);
6. the record kind's rules — the state machine (``already_claimed``,
   ``stale_transition``), then the type's ``kind_rules`` (e.g.
   ``out_of_stock``, ``round_closed``).

A malformed change (unknown type or op) is ``invalid`` before all of these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sync.actors import Actor
from sync.changes import Change, ChangeResult, ChangeStatus, Op
from sync.conflicts import Author, conflict_id, conflict_record, merge
from sync.errors import Code, SyncError
from sync.fields import Ref, is_uuid
from sync.records import FieldStamp, Record, Scope, restamped
from sync.registry import (
    ChangeContext,
    RecordType,
    Registry,
    SideWrite,
    validate_fields,
)
from sync.scoping import parent_record
from sync.signing import Signer
from sync.workspace import Workspace

#: The ops by their wire name.
_OPS = {op.value: op for op in Op}
# The ops and statuses the checks name, as constants: on Python 3.11 each
# ``Op.CREATE`` is a lookup through ``EnumType.__getattr__``, about 50 ns, and
# a change named a dozen (issue #16).
_CREATE, _UPDATE, _DELETE = Op.CREATE, Op.UPDATE, Op.DELETE
_APPLIED, _MERGED = ChangeStatus.APPLIED, ChangeStatus.MERGED


# Not frozen, unlike the engine's other dataclasses: :meth:`Run.begin` sets
# the changeset it is at, so that a push makes one Run, not one a changeset
# (issue #16).
@dataclass(slots=True)
class Run:
    """What applying the changes of one push needs.

    :param client_id: the install that pushed it (``None`` if unknown);
        stamps record it, the conflict rules judge causality by it.
    :param signer: signs gate passes (:mod:`sync.signing`), if the push may.
    :param changeset_id: the changeset being applied (set by :meth:`begin`).
    :param made_at: its device time, clamped to the receipt (set by :meth:`begin`).
    """

    actor: Actor
    registry: Registry
    workspace: Workspace
    next_version: Callable[[], int]
    received_at: datetime
    client_id: str | None = None
    signer: Signer | None = None
    changeset_id: str = field(init=False, default="")
    made_at: datetime = field(init=False)

    def begin(self, changeset_id: str, made_at: datetime) -> None:
        """Start applying changeset ``changeset_id``, made at device time ``made_at``."""
        self.changeset_id = changeset_id
        self.made_at = min(made_at, self.received_at)

    @property
    def author(self) -> Author:
        """Return who makes this changeset's writes, and when."""
        return Author(self.actor.user_id, self.client_id, self.made_at)


def apply_change(run: Run, index: int, change: Change) -> ChangeResult:
    """Apply ``change`` (the ``index``-th of its changeset) and return its result.

    :raises SyncError: if the change is rejected.
    """
    if change.problem is not None:
        raise SyncError(Code.INVALID, change.problem)
    rtype = run.registry.get(change.type)
    if rtype is None:
        raise SyncError(Code.INVALID, f"unknown record type {change.type!r}")
    op = _OPS.get(change.op)
    if op is None:
        raise SyncError(Code.INVALID, f"unknown op {change.op!r}")
    if op is _CREATE:
        return _create(run, index, rtype, change)
    if op is _UPDATE:
        return _update(run, index, rtype, change, change.base_version)
    return _delete(run, rtype, change)


def _create(run: Run, index: int, rtype: RecordType, change: Change) -> ChangeResult:
    """Create a record (or treat a repeated create as described in ``docs/sync.md``)."""
    _check_create(run.actor, rtype, change.fields)
    current = run.workspace.lookup(change.id)
    if current is not None:
        return _create_existing(run, index, rtype, change, current)
    early = rtype.scope(change.id, change.fields, run.workspace.lookup)
    if early is not None and not run.actor.scope.covers_all(early):
        raise SyncError(Code.FORBIDDEN, "the record would lie outside your scope")
    if not is_uuid(change.id):
        raise SyncError(Code.INVALID, "id: must be a lowercase UUID")
    fields = _own_fields(rtype, validate_fields(rtype, change.fields, creating=True))
    _check_refs(run, rtype, fields, None)
    scope = _scope_of(run, rtype, change.id, fields)
    if rtype.parent is not None:
        fields.update(_copies(run, rtype, fields))
    if rtype.state_machine is not None:
        rtype.state_machine.check(rtype.name, fields, None)
    fields, side_writes = _rule(run, rtype, _CREATE, change.id, fields, None)
    record = _write(run, rtype.name, change.id, None, fields, scope)
    if side_writes:
        _side_writes(run, side_writes)
    return ChangeResult(rtype.name, change.id, _APPLIED, record.version)


def _create_existing(
    run: Run, index: int, rtype: RecordType, change: Change, current: Record
) -> ChangeResult:
    """Answer a create of an id that exists.

    The same content again (a re-queued create) is a no-op; other content
    from a type that allows updates is merged as an update from base 0, so
    every field someone else set since counts as concurrent.
    """
    if current.type != rtype.name or not run.actor.sees(current.scope):
        raise SyncError(Code.INVALID, "id: already used by another record")
    if current.deleted:
        raise SyncError(Code.DELETED, "the record was deleted")
    fields = _own_fields(rtype, validate_fields(rtype, change.fields, creating=False))
    if all(name in current.fields and current.fields[name] == v for name, v in fields.items()):
        return ChangeResult(rtype.name, current.id, _APPLIED, current.version, wrote=False)
    if rtype.append_only:
        raise SyncError(Code.IMMUTABLE, f"a {rtype.name} is never changed once made")
    return _update(run, index, rtype, change, 0)


def _update(
    run: Run, index: int, rtype: RecordType, change: Change, base_version: int
) -> ChangeResult:
    """Update a record field by field, by the conflict rules."""
    if not rtype.append_only:
        _check_update(run.actor, rtype, change.fields)
    current = _find(run, rtype, change.id)
    if current.deleted:
        raise SyncError(Code.DELETED, "the record was deleted")
    if rtype.append_only:
        raise SyncError(Code.IMMUTABLE, f"a {rtype.name} is never changed once made")
    _check_immutable(rtype, current, change.fields)
    fields = _own_fields(rtype, validate_fields(rtype, change.fields, creating=False))
    _check_refs(run, rtype, fields, current.fields)
    moves = not fields.keys().isdisjoint(rtype.scope_fields)
    if moves:
        _scope_of(run, rtype, current.id, {**current.fields, **fields})
    if rtype.state_machine is not None:
        rtype.state_machine.check(rtype.name, fields, current.fields)
    fields, side_writes = _rule(run, rtype, _UPDATE, current.id, fields, current)
    merged = merge(current, fields, base_version, run.author, rtype.merge_exempt)
    record = current
    if merged.winners:
        winners = merged.winners
        scope = current.scope
        if moves and not winners.keys().isdisjoint(rtype.scope_fields):
            after = {**current.fields, **winners}
            scope = _scope_of(run, rtype, current.id, after)
            winners = {**winners, **_copies(run, rtype, after)}
        record = _write(run, rtype.name, current.id, current, winners, scope)
    for loss in merged.losses:
        conflict = conflict_id(run.changeset_id, index, loss.field)
        version = run.next_version()
        run.workspace.stage(
            conflict_record(conflict, loss, record, version, run.received_at), None
        )
    if side_writes:
        _side_writes(run, side_writes)
    status = _MERGED if merged.lost_fields else _APPLIED
    return ChangeResult(
        rtype.name,
        current.id,
        status,
        record.version,
        merged.lost_fields,
        wrote=record is not current,
    )


def _delete(run: Run, rtype: RecordType, change: Change) -> ChangeResult:
    """Delete a record; deleting a deleted record again is a no-op."""
    if not rtype.append_only and run.actor.role not in rtype.permissions.delete:
        raise _may_not(run.actor, _DELETE, rtype)
    current = _find(run, rtype, change.id)
    if current.deleted:
        return ChangeResult(rtype.name, current.id, _APPLIED, current.version, wrote=False)
    if rtype.append_only:
        raise SyncError(Code.IMMUTABLE, f"a {rtype.name} is never deleted")
    _, side_writes = _rule(run, rtype, _DELETE, current.id, {}, current)
    record = _write(run, rtype.name, current.id, current, {}, current.scope, deleted=True)
    if side_writes:
        _side_writes(run, side_writes)
    return ChangeResult(rtype.name, current.id, _APPLIED, record.version)


def _may_not(actor: Actor, op: Op, rtype: RecordType) -> SyncError:
    """Return the ``forbidden`` error of a role the permission table refuses ``op``."""
    return SyncError(Code.FORBIDDEN, f"a {actor.role} may not {op} a {rtype.name}")


def _check_create(actor: Actor, rtype: RecordType, fields: Mapping[str, object]) -> None:
    """Refuse, ``forbidden``, a create the permission table does not allow, or a rule's field."""
    if actor.role not in rtype.permissions.create:
        raise _may_not(actor, _CREATE, rtype)
    if not rtype.rule_made.isdisjoint(fields):
        made = sorted(
            name for name in rtype.rule_made.intersection(fields) if fields[name] is not None
        )
        if made:
            raise SyncError(Code.FORBIDDEN, f"{made[0]}: set only by rules", made[0])


def _check_update(actor: Actor, rtype: RecordType, fields: Mapping[str, object]) -> None:
    """Refuse, ``forbidden``, an update the permission table, rules or machine do not allow."""
    rules = rtype.permissions
    if actor.role not in rules.update:
        raise _may_not(actor, _UPDATE, rtype)
    only = rules.update_fields.get(actor.role)
    if only is not None:
        extra = sorted(fields.keys() - only)
        if extra:
            raise SyncError(Code.FORBIDDEN, f"a {actor.role} may not change {extra[0]}", extra[0])
    if not rtype.rule_owned.isdisjoint(fields):
        owned = min(rtype.rule_owned.intersection(fields))
        raise SyncError(Code.FORBIDDEN, f"{owned}: changed only by rules", owned)
    machine = rtype.state_machine
    if machine is not None:
        reason = machine.permission_problem(actor, fields, actor.role in rules.create)
        if reason is not None:
            raise SyncError(Code.FORBIDDEN, reason, machine.field)


def _find(run: Run, rtype: RecordType, record_id: str) -> Record:
    """Return the record to update or delete; ``not_found`` if not visible."""
    current = run.workspace.lookup(record_id)
    if current is None or current.type != rtype.name or not run.actor.sees(current.scope):
        raise SyncError(Code.NOT_FOUND, f"no {rtype.name} {record_id}")
    return current


def _check_immutable(rtype: RecordType, current: Record, fields: Mapping[str, object]) -> None:
    """Refuse a change to a field that is fixed once the record exists."""
    for name in rtype.immutable.intersection(fields):
        if fields[name] != current.fields.get(name):
            raise SyncError(Code.IMMUTABLE, f"{name}: cannot change once set", name)


def _own_fields(rtype: RecordType, fields: dict[str, object]) -> dict[str, object]:
    """Drop the fields the server copies from the parent (devices may echo them)."""
    if rtype.parent is None or not rtype.parent.copies:
        return fields
    for name in rtype.parent.copies:
        fields.pop(name, None)
    return fields


def _scope_of(run: Run, rtype: RecordType, record_id: str, fields: Mapping[str, object]) -> Scope:
    """Return the scope of a record with ``fields``; it must be the caller's."""
    scope = rtype.scope(record_id, fields, run.workspace.lookup)
    if scope is None:
        name = rtype.parent.field if rtype.parent is not None else None
        raise SyncError(Code.INVALID, f"{name or 'scope'}: refers to no record you can use", name)
    if not run.actor.scope.covers_all(scope):
        raise SyncError(Code.FORBIDDEN, "the record would lie outside your scope")
    return scope


def _check_refs(
    run: Run,
    rtype: RecordType,
    fields: Mapping[str, object],
    before: Mapping[str, object] | None,
) -> None:
    """Check the records the change's ids name: live, of their type, in agreement.

    Checked are the ``Ref`` fields the change sets, and those whose ``same``
    fields it sets (moving a task to another compound must not leave its
    building behind), as the record would be with ``fields`` set on
    ``before`` (its fields now; ``None`` for a create).

    :raises SyncError: ``invalid``, naming the field (contract check order,
        validation; ``docs/security.md``).
    """
    if rtype.referring.isdisjoint(fields):  # most updates (a task's notes)
        return
    after = fields if before is None else {**before, **fields}
    for name, ref in rtype.references.items():
        value = after.get(name)
        if value is None or (name not in fields and fields.keys().isdisjoint(ref.same)):
            continue
        for each in value if isinstance(value, list) else (value,):
            if each is not None:
                _check_ref(run, name, ref, each, after)


def _check_ref(run: Run, name: str, ref: Ref, value: object, after: Mapping[str, object]) -> None:
    """Check one id against the record it names."""
    found = run.workspace.lookup(value) if isinstance(value, str) else None
    if found is None or found.deleted or found.type != ref.type:
        raise SyncError(Code.INVALID, f"{name}: refers to no {ref.type}", name)
    for common in ref.same:
        mine = after.get(common)
        if mine is not None and found.fields.get(common) != mine:
            raise SyncError(
                Code.INVALID, f"{name}: the {ref.type} is not in this record's {common}", name
            )


def _copies(run: Run, rtype: RecordType, fields: Mapping[str, object]) -> dict[str, object]:
    """Return the fields copied from the parent record."""
    if rtype.parent is None or not rtype.parent.copies:
        return {}
    parent = parent_record(rtype.parent, fields, run.workspace.lookup)
    if parent is None:
        return {}
    return {name: parent.fields.get(name) for name in rtype.parent.copies}


def _context(
    run: Run, op: Op, record_id: str, fields: Mapping[str, object], current: Record | None
) -> ChangeContext:
    """Build the context the type's hooks see."""
    return ChangeContext(
        run.actor, op, record_id, fields, current, run.made_at, run.workspace.lookup, run.signer
    )


def _rule(
    run: Run,
    rtype: RecordType,
    op: Op,
    record_id: str,
    fields: dict[str, object],
    current: Record | None,
) -> tuple[dict[str, object], tuple[SideWrite, ...]]:
    """Run the state machine and the kind rules; return the fields and the side writes.

    :param fields: the change's validated fields, the caller's own dict (it
        may be returned as is).
    """
    machine = rtype.state_machine
    if machine is not None and op is not _DELETE:
        before = None if current is None else current.fields
        fields = machine.rule(rtype.name, run.actor, fields, before)
    if rtype.kind_rules is None or not rtype.kind_rules_judge.judge(op, fields):
        return fields, ()
    ruling = rtype.kind_rules(_context(run, op, record_id, fields, current))
    if ruling is None:
        return fields, ()
    return dict(ruling.fields), ruling.side_writes


def _write(
    run: Run,
    type_name: str,
    record_id: str,
    current: Record | None,
    fields: Mapping[str, object],
    scope: Scope,
    deleted: bool = False,
) -> Record:
    """Stage a new version of a record with ``fields`` set and stamped."""
    version = run.next_version()
    stamp = FieldStamp(version, run.made_at, run.actor.user_id, run.client_id)
    stamps: Mapping[str, FieldStamp]
    left: Scope | None
    if current is None:
        after, stamps, left = dict(fields), dict.fromkeys(fields, stamp), None
    else:
        after = {**current.fields, **fields}
        stamps = restamped(current.stamps, fields, stamp)
        # Identity first: a dataclass's == costs ~140 ns, and most writes stay.
        left = None if current.scope is scope or current.scope == scope else current.scope
    record = Record(type_name, record_id, version, deleted, after, stamps, scope)
    run.workspace.stage(record, left)
    return record


def _side_writes(run: Run, side_writes: tuple[SideWrite, ...]) -> None:
    """Apply the server-made updates a kind rule asked for.

    A side write that moves a record's state follows that record's machine
    (:meth:`~sync.machines.StateMachine.check_rule_move`): a rule cannot
    cancel a started task, say, any more than a coordinator can.
    """
    for side in side_writes:
        if side.create is not None:
            _side_create(run, side.create, side)
            continue
        target = run.workspace.lookup(side.record_id)
        if target is None or target.deleted:
            raise SyncError(Code.INVALID, f"no record {side.record_id} to update")
        machine = run.registry[target.type].state_machine
        if machine is not None:
            machine.check_rule_move(target.type, target.fields, side.fields)
        _write(run, target.type, target.id, target, side.fields, target.scope)


def _side_create(run: Run, type_name: str, side: SideWrite) -> None:
    """Create the server-made record a kind rule asked for."""
    rtype = run.registry[type_name]
    scope = rtype.scope(side.record_id, side.fields, run.workspace.lookup)
    if run.workspace.lookup(side.record_id) is not None or scope is None:
        raise SyncError(Code.INVALID, f"cannot make {type_name} {side.record_id}")
    _write(run, type_name, side.record_id, None, side.fields, scope)
