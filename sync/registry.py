"""How record types are declared: fields, permissions, scope and rules.

A :class:`RecordType` is a constant table entry. The engine
(:mod:`sync.writer`) reads it in the contract's check order:

1. scope and role  — :class:`Permissions`, ``scope``, ``rule_owned``,
   ``rule_made``, the roles of ``state_machine``'s transitions
2. existence, deleted
3. immutable       — ``immutable``, ``append_only``
4. validation      — ``fields`` (with the records their ``Ref`` fields
   name), ``required``, what ``state_machine`` requires
5. kind rules      — ``state_machine``, then ``kind_rules`` (may raise any
   :class:`SyncError`, e.g. ``out_of_stock``; may adjust the fields and ask
   for side writes)

Who receives a type is declared too: ``visibility`` (closed by default: a
type or a field with no declared audience reaches nobody) and
``sync_policy`` (what of it each role's devices receive).

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
from sync.fields import Fields, Ref, refs
from sync.machines import StateMachine
from sync.policy import Policy
from sync.records import Record, Scope
from sync.signing import Signer
from sync.values import value_class

#: Finds a record by id as the push sees it so far (``None`` if unknown).
Lookup = Callable[[str], Record | None]

#: Derives a record's scope from its id and fields (``None``: cannot be told yet).
ScopeRule = Callable[[str, Mapping[str, object], Lookup], Scope | None]


@value_class
class ChangeContext:
    """What a type's ``kind_rules`` hook gets to judge a change.

    :param fields: the change's validated fields.
    :param current: the record before the change (``None`` on create).
    :param made_at: the changeset's device time, clamped to the receipt.
    :param lookup: finds other records (e.g. a package for a stock check).
    :param signer: the server's pass signer (:mod:`sync.signing`); ``None``
        where nothing may be signed.
    """

    actor: Actor
    op: Op
    record_id: str
    fields: Mapping[str, object]
    current: Record | None
    made_at: datetime
    lookup: Lookup
    signer: Signer | None = None


@dataclass(frozen=True, slots=True)
class SideWrite:
    """A server-made update of another record, in the same changeset.

    For rules whose effect reaches another record, e.g. an order taking from
    a package's ``stock``. The fields are set as given (rule-owned ones
    included), stamped with the change's author and time.

    :param create: the type of a record to create under ``record_id`` (an
        approved medicine request's task), scoped by that type's rule;
        ``None`` updates an existing record.
    """

    record_id: str
    fields: Mapping[str, object]
    create: str | None = None


@dataclass(frozen=True, slots=True)
class Ruling:
    """What a ``kind_rules`` hook decided: the fields to apply, and side writes."""

    fields: Mapping[str, object]
    side_writes: tuple[SideWrite, ...] = ()


#: A type's own rules.
KindRules = Callable[[ChangeContext], Ruling | None]


@dataclass(frozen=True, slots=True)
class Judges:
    """Which changes a type's ``kind_rules`` judge (by default, every one).

    The engine does not call the hook for any other change, so a hook that
    declares this must return ``None`` for every change outside it
    (``tests/sync/test_kind_rules.py`` checks the task's on random changes).
    Skipping the hook, its context unmade, saved a push of 250 task creates
    and notes edits about 0.2 ms of 3.4 (issue #16).

    :param create: whether it judges creates.
    :param update: the fields of which an update must set one to be judged,
        as the state machine leaves them (a state asked for again is not
        set); ``None``: every update.
    :param delete: whether it judges deletes.
    """

    create: bool = True
    update: frozenset[str] | None = None
    delete: bool = True

    def judge(self, op: Op, fields: Mapping[str, object]) -> bool:
        """Return whether the hook judges an ``op`` setting ``fields``."""
        if op is Op.UPDATE:
            return self.update is None or not self.update.isdisjoint(fields)
        return self.create if op is Op.CREATE else self.delete


@dataclass(frozen=True, slots=True)
class Permissions:
    """Which roles may create, update and delete a type.

    :param update_fields: for a role listed here, the only fields it may
        update (roles not listed may update any field).
    """

    create: frozenset[str] = frozenset()
    update: frozenset[str] = frozenset()
    delete: frozenset[str] = frozenset()
    update_fields: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """Describe the permissions as in the published declarations."""
        return {
            "create": sorted(self.create),
            "update": sorted(self.update),
            "delete": sorted(self.delete),
            "update_fields": {
                role: sorted(names) for role, names in sorted(self.update_fields.items())
            },
        }


@dataclass(frozen=True, slots=True)
class Visibility:
    """Who receives a type, and which of its fields.

    Closed by default: a type reaches only ``roles``; a field reaches the
    roles listed for it in ``fields``, or, if it is not listed, every role in
    ``roles``; a stored field the type does not declare reaches nobody.
    """

    roles: frozenset[str] = frozenset()
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """Describe the audience as in the published declarations."""
        return {
            "roles": sorted(self.roles),
            "fields": {name: sorted(roles) for name, roles in sorted(self.fields.items())},
        }


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
    :param visibility: who receives the type and its fields (nobody unless
        declared).
    :param sync_policy: role → what of the type that role's devices receive
        (:mod:`sync.policy`; a role not listed receives all it may see).
    :param state_machine: the type's lifecycle, if it has one.
    :param rule_owned: fields only rules change (a package's ``stock``): a
        create may set them, a device's update of them is ``forbidden``;
        kind rules and side writes set them, never later-edit-wins.
    :param rule_made: rule-owned fields that only rules set, on create too
        (the links between a medicine request and its runs): a device's
        create naming one is ``forbidden``.
    :param rule_decided: fields a device may set but whose effect kind rules
        account for (an order's ``lines`` take stock): they reach the record
        as the rules return them, never by later-edit-wins.
    :param kind_rules: the type's own rules, run last.
    :param kind_rules_judge: the changes ``kind_rules`` judge (all unless
        declared).
    :param personal: fields holding a person's data (a name, a phone, a
        health need, a free-text note about them): what ``weiguang
        purge-personal-data`` blanks once a lockdown ends (``server/purge.py``).
    :param personal_record: the record as a whole is a person's (a pass):
        the purge deletes it, keeping only its fields not in ``personal``.
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
    visibility: Visibility = Visibility()
    sync_policy: Mapping[str, Policy] = field(default_factory=dict)
    state_machine: StateMachine | None = None
    rule_owned: frozenset[str] = frozenset()
    rule_made: frozenset[str] = frozenset()
    rule_decided: frozenset[str] = frozenset()
    kind_rules: KindRules | None = None
    kind_rules_judge: Judges = Judges()
    personal: frozenset[str] = frozenset()
    personal_record: bool = False
    #: The fields naming other records (:func:`sync.fields.refs`), worked out once.
    references: Mapping[str, Ref] = field(init=False, repr=False, compare=False)
    #: Role → the fields it may see, worked out once (pulls ask for every record).
    readable: Mapping[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    #: Fields decided by rules rather than by the later-edit-wins conflict
    #: rule (the machine's, ``rule_owned``, ``rule_decided``), worked out once.
    merge_exempt: frozenset[str] = field(init=False, repr=False, compare=False)
    #: The fields whose change makes the engine check references: the
    #: ``Ref`` fields and their ``same`` fields, worked out once.
    referring: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.rule_made <= self.rule_owned:
            raise ValueError(f"{self.name}: rule_made fields must be rule_owned")
        restricted = self.visibility.fields
        readable = {
            role: frozenset(
                name for name in self.fields if name not in restricted or role in restricted[name]
            )
            for role in self.visibility.roles
        }
        decided = self.state_machine.decided if self.state_machine is not None else frozenset()
        object.__setattr__(self, "references", refs(self.fields))
        object.__setattr__(self, "readable", readable)
        object.__setattr__(self, "merge_exempt", decided | self.rule_owned | self.rule_decided)
        same = {name for ref in self.references.values() for name in ref.same}
        object.__setattr__(self, "referring", frozenset(self.references).union(same))


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
        # Keys against the set, not the set minus the keys: that makes a set
        # of the keys first, a fifth of a create's validation (issue #16).
        if not out.keys() >= rtype.required:
            first = min(rtype.required - out.keys())
            raise SyncError(Code.INVALID, f"{first}: is required", first)
    return out


def visible_types(registry: Registry, role: str) -> frozenset[str]:
    """Return the types ``role`` receives at all."""
    return frozenset(name for name, rtype in registry.items() if role in rtype.visibility.roles)
