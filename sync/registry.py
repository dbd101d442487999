"""How record types are declared: fields, permissions, scope and rules.

A :class:`RecordType` is a constant table entry. The engine
(:mod:`sync.writer`) reads it in the contract's check order:

1. scope and role  — :class:`Permissions`, ``scope``
2. existence, deleted
3. immutable       — ``immutable``, ``append_only``
4. validation      — ``fields``, ``required``, ``check``
5. kind rules      — ``kind_rules`` (may raise any :class:`SyncError`,
   e.g. ``out_of_stock``; may adjust the fields and ask for side writes)

Feature modules (tasks, supplies, gate, ...) declare their types next to
their rules; :mod:`sync.catalog` gathers them into :data:`REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sync.actors import Actor
from sync.changes import Op
from sync.errors import Code, SyncError
from sync.fields import Fields
from sync.records import Record, Scope

#: Finds a record by id as the push sees it so far (``None`` if unknown).
Lookup = Callable[[str], Record | None]

#: Derives a record's scope from its id and fields (``None``: cannot be told yet).
ScopeRule = Callable[[str, Mapping[str, object], Lookup], Scope | None]


@dataclass(frozen=True, slots=True)
class ChangeContext:
    """What a type's ``check`` and ``kind_rules`` hooks get to judge a change.

    :param fields: the change's validated fields.
    :param current: the record before the change (``None`` on create).
    :param made_at: the changeset's device time, clamped to the receipt.
    :param lookup: finds other records (e.g. a package for a stock check).
    """

    actor: Actor
    op: Op
    record_id: str
    fields: Mapping[str, object]
    current: Record | None
    made_at: datetime
    lookup: Lookup


@dataclass(frozen=True, slots=True)
class SideWrite:
    """A server-made update of another record, in the same changeset.

    For rules whose effect reaches another record, e.g. an order taking from
    a package's ``stock``. The fields are set as given, stamped with the
    change's author and time.
    """

    record_id: str
    fields: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Ruling:
    """What a ``kind_rules`` hook decided: the fields to apply, and side writes."""

    fields: Mapping[str, object]
    side_writes: tuple[SideWrite, ...] = ()


#: A type's check or rule hook.
Check = Callable[[ChangeContext], None]
KindRules = Callable[[ChangeContext], Ruling | None]
#: A value-level permission rule: returns why the change is forbidden, or ``None``.
ValueRule = Callable[[Actor, Op, Mapping[str, object]], str | None]


@dataclass(frozen=True, slots=True)
class Permissions:
    """Which roles may create, update and delete a type.

    :param update_fields: for a role listed here, the only fields it may
        update (roles not listed may update any field).
    :param value_rule: a finer rule on the values (e.g. a volunteer may set a
        task's ``assignee_id`` only to themselves).
    """

    create: frozenset[str] = frozenset()
    update: frozenset[str] = frozenset()
    delete: frozenset[str] = frozenset()
    update_fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    value_rule: ValueRule | None = None


@dataclass(frozen=True, slots=True)
class Parent:
    """A parent record a type takes its scope from (a resident's household).

    :param copies: parent fields copied onto the child by the server (e.g.
        ``compound_id``, ``building_id``) so clients can filter without a join;
        whatever a device sends for them is replaced.
    """

    field: str
    type: str
    copies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordType:
    """The declaration of one record type.

    :param fields: every field the type has, declared (:mod:`sync.fields`).
    :param required: fields a create must carry.
    :param defaults: values a create gets for fields it does not carry.
    :param immutable: fields that may not change after create.
    :param append_only: facts: never updated or deleted (``immutable``).
    :param scope: derives the record's scope.
    :param scope_fields: the fields whose change may move the record.
    :param parent: the parent the scope comes from, if any.
    :param merge_exempt: fields decided by ``kind_rules`` rather than by the
        later-edit-wins conflict rule (a task's ``status``).
    :param private: field → the roles that may see it (others get the record
        without it); fields not listed are seen by everyone in scope.
    :param seen_by: the roles that see this type at all (``None``: all).
    :param check: cross-field validation, run at the validation step.
    :param kind_rules: the type's own rules, run last.
    """

    name: str
    fields: Fields
    required: frozenset[str]
    permissions: Permissions
    scope: ScopeRule
    scope_fields: frozenset[str] = frozenset()
    defaults: Mapping[str, object] = field(default_factory=dict)
    immutable: frozenset[str] = frozenset()
    append_only: bool = False
    parent: Parent | None = None
    merge_exempt: frozenset[str] = frozenset()
    private: Mapping[str, frozenset[str]] = field(default_factory=dict)
    seen_by: frozenset[str] | None = None
    check: Check | None = None
    kind_rules: KindRules | None = None


#: Record type name → declaration.
Registry = Mapping[str, RecordType]


def validate_fields(
    rtype: RecordType, given: Mapping[str, object], creating: bool
) -> dict[str, object]:
    """Validate the fields of a change and return the values to store.

    A create gets ``defaults`` for what it leaves out and must carry every
    ``required`` field; ``null`` is refused for required fields.

    :raises SyncError: ``invalid``, naming the first field at fault.
    """
    out: dict[str, object] = {}
    for name, value in given.items():
        declared = rtype.fields.get(name)
        if declared is None:
            raise SyncError(Code.INVALID, f"{rtype.name} has no field {name!r}", name)
        if value is None and name in rtype.required:
            raise SyncError(Code.INVALID, f"{name}: may not be null", name)
        try:
            out[name] = declared.validate(value)
        except ValueError as error:
            raise SyncError(Code.INVALID, f"{name}: {error}", name) from None
    if creating:
        for name, value in rtype.defaults.items():
            out.setdefault(name, value)
        missing = sorted(rtype.required - out.keys())
        if missing:
            raise SyncError(Code.INVALID, f"{missing[0]}: is required", missing[0])
    return out


def hidden_types(registry: Registry, role: str) -> frozenset[str]:
    """Return the types ``role`` may not see at all."""
    return frozenset(
        name
        for name, rtype in registry.items()
        if rtype.seen_by is not None and role not in rtype.seen_by
    )
