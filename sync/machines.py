"""State machines as data: one field's states, the moves between them, a holder.

A record type with a lifecycle (a task; later an order, a medicine request,
a testing round) declares a :class:`StateMachine`; the engine
(:mod:`sync.writer`) asks it at three steps of the contract's check order.
``docs/sync.md`` ("State machines") and ``docs/declarations.md`` give the
rules; in short, for a change asking for state ``t`` of a record in state
``s`` by a user of role ``r``:

1. *scope and role*: ``r`` may ask only for the states it can ever put a
   record in — the targets of its transitions, and the initial states if it
   may create the type — else ``forbidden``. A role in ``holder_roles``
   sets the holder only to itself, with a claim.
2. *validation*: a create starts in an initial state; the fields a
   transition into ``t`` ``requires`` are non-empty after the change
   (``invalid``).
3. *kind rules*, in this order:

   - a claim (``t`` is the target of a ``claim`` transition): in a ``held``
     state held by another user, ``already_claimed`` with the holder; held
     by the claimant, a no-op; otherwise the claim transition from ``s``
     must exist for ``r`` (else ``stale_transition``) and fills the holder
     with the claimant (the given holder, else the caller);
   - a role in ``holder_roles`` acting on a record it does not hold:
     ``already_claimed`` in a held state, ``stale_transition`` for a move,
     ``forbidden`` for any other edit;
   - ``t == s`` is a no-op for the state field; a transition ``s -> t``
     for ``r`` is applied; anything else is ``stale_transition`` (the
     device saw an older state; final states are never left, as no
     transition leaves them).

The state field and the holder are decided here, never by later-edit-wins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.actors import Actor
from sync.errors import Code, SyncError


@dataclass(frozen=True, slots=True)
class Transition:
    """One edge of a machine.

    :param action: the move's name (``claim``, ``start``, ...), for the app
        and its message catalogue (``action.<type>.<action>``).
    :param roles: the roles that may take it.
    :param claim: taking it makes the caller (or the given user) the holder.
    :param requires: fields that must be non-empty after the move (a reason
        for failing a task).
    """

    action: str
    source: str
    target: str
    roles: frozenset[str]
    claim: bool = False
    requires: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Describe the transition as in the published declarations."""
        return {
            "action": self.action,
            "from": self.source,
            "to": self.target,
            "roles": sorted(self.roles),
            "claim": self.claim,
            "requires": list(self.requires),
        }


@dataclass(frozen=True, slots=True)
class StateMachine:
    """The lifecycle of a record type, kept in one field.

    :param field: the field holding the state.
    :param initial: the states a record may be created in.
    :param final: states never left.
    :param holder: the field naming the user who holds the record (e.g. a
        task's ``assignee_id``), if the machine has claims.
    :param held: the states in which the holder holds it.
    :param holder_roles: roles that act on a record only while they hold it.
    """

    field: str
    initial: frozenset[str]
    final: frozenset[str]
    transitions: tuple[Transition, ...]
    holder: str | None = None
    held: frozenset[str] = frozenset()
    holder_roles: frozenset[str] = frozenset()
    #: The fields this machine decides (never merged by later-edit-wins).
    decided: frozenset[str] = dataclasses.field(init=False, repr=False, compare=False)
    #: Role → the states its transitions lead to, worked out once (every update asks).
    targets: Mapping[str, frozenset[str]] = dataclasses.field(
        init=False, repr=False, compare=False
    )
    #: The states a claim leads to.
    claimed: frozenset[str] = dataclasses.field(init=False, repr=False, compare=False)
    #: State → the fields a move into it requires, worked out once (every
    #: create and move asks; the transitions into a state agree on them).
    requirements: Mapping[str, tuple[str, ...]] = dataclasses.field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for edge in self.transitions:
            if edge.source in self.final:
                raise ValueError(f"{edge.action}: final state {edge.source} is never left")
            if {e.requires for e in self.transitions if e.target == edge.target} != {
                edge.requires
            }:
                raise ValueError(f"transitions into {edge.target} must require the same fields")
        roles = {role for edge in self.transitions for role in edge.roles}
        targets = {
            role: frozenset(edge.target for edge in self.transitions if role in edge.roles)
            for role in roles
        }
        decided = frozenset(name for name in (self.field, self.holder) if name is not None)
        object.__setattr__(self, "decided", decided)
        object.__setattr__(self, "targets", targets)
        claimed = frozenset(edge.target for edge in self.transitions if edge.claim)
        object.__setattr__(self, "claimed", claimed)
        requirements = {edge.target: edge.requires for edge in self.transitions}
        object.__setattr__(self, "requirements", requirements)

    def settable(self, role: str, may_create: bool) -> frozenset[str]:
        """Return the states ``role`` may ask for."""
        targets = self.targets.get(role, frozenset())
        return targets | self.initial if may_create else targets

    def edge(self, source: object, target: object, role: str) -> Transition | None:
        """Return the transition ``source -> target`` that ``role`` may take, if any."""
        for each in self.transitions:
            if (each.source, each.target) == (source, target) and role in each.roles:
                return each
        return None

    def leads(self, source: object, target: object) -> bool:
        """Tell whether a transition leads ``source -> target`` (for a rule's side write)."""
        return any((each.source, each.target) == (source, target) for each in self.transitions)

    def check_rule_move(
        self, type_name: str, current: Mapping[str, object], fields: Mapping[str, object]
    ) -> None:
        """Refuse a rule's move of a record (a side write) that no transition leads.

        A rule acts for the server, so any role's transition will do; a
        record held by someone (a started task) is ``already_claimed``
        with its holder, any other move ``stale_transition``.

        :param current: the record's fields now; ``fields``: the side write's.
        """
        if self.field not in fields:
            return
        state, target = current.get(self.field), fields[self.field]
        if target == state or self.leads(state, target):
            return
        if state in self.held and self.holder is not None:
            raise _already_claimed(type_name, current.get(self.holder), self.field)
        raise _stale(type_name, state, target, self.field)

    def permission_problem(
        self, actor: Actor, fields: Mapping[str, object], may_create: bool
    ) -> str | None:
        """Return why ``actor`` may not make this update, or ``None`` (step 1)."""
        if self.field in fields:
            # Not validated yet (step 5): a device may send any JSON, and a
            # list or an object is no state (nor can it be looked up in a set).
            target = fields[self.field]
            if not isinstance(target, str) or target not in self.settable(actor.role, may_create):
                return f"a {actor.role} may not set {self.field} to {target}"
        holding = self.holder is not None and self.holder in fields
        if holding and actor.role in self.holder_roles:
            assert self.holder is not None
            if fields[self.holder] != actor.user_id or not self._claims(fields.get(self.field)):
                return f"a {actor.role} sets {self.holder} only to themselves, by claiming"
        return None

    def check(
        self, type_name: str, fields: Mapping[str, object], current: Mapping[str, object] | None
    ) -> None:
        """Refuse, ``invalid``, a bad start or a move without what it requires (step 5)."""
        target = fields.get(self.field)
        if current is None and target not in self.initial:
            starts = " or ".join(sorted(self.initial))
            raise SyncError(
                Code.INVALID, f"{self.field}: a {type_name} is created {starts}", self.field
            )
        before = None if current is None else current.get(self.field)
        if target is None or target == before:
            return
        # Keys are states (str); any other value finds nothing, as it should.
        requires = self.requirements.get(target)  # type: ignore[call-overload]
        if not requires:
            return
        after = {**(current or {}), **fields}
        for name in requires:
            if _empty(after.get(name)):
                raise SyncError(Code.INVALID, f"{name}: needed to become {target}", name)

    def rule(
        self,
        type_name: str,
        actor: Actor,
        fields: Mapping[str, object],
        current: Mapping[str, object] | None,
    ) -> dict[str, object]:
        """Apply the machine to a create or update; return the fields to write (step 6)."""
        out = dict(fields)
        if current is None:
            unheld = self.holder is not None and out.get(self.holder) is None
            if unheld and out.get(self.field) in self.held:
                assert self.holder is not None
                out[self.holder] = actor.user_id
            return out
        state = current.get(self.field)
        holder = current.get(self.holder) if self.holder is not None else None
        target = out.get(self.field)
        if self._claims(target):
            self._claim(type_name, actor, state, holder, out)
            return out
        self._check_holder(type_name, actor, state, holder, target)
        if target is None:
            return out
        if target == state:
            del out[self.field]
        elif self.edge(state, target, actor.role) is None:
            raise _stale(type_name, state, target, self.field)
        return out

    def to_json(self) -> dict[str, Any]:
        """Describe the machine as in the published declarations."""
        return {
            "field": self.field,
            "initial": sorted(self.initial),
            "final": sorted(self.final),
            "holder": self.holder,
            "held": sorted(self.held),
            "holder_roles": sorted(self.holder_roles),
            "transitions": [edge.to_json() for edge in self.transitions],
        }

    def _claims(self, target: object) -> bool:
        """Return whether asking for ``target`` is a claim."""
        return target in self.claimed

    def _claim(
        self, type_name: str, actor: Actor, state: object, holder: object, out: dict[str, object]
    ) -> None:
        """Claim the record for the given holder or the caller."""
        assert self.holder is not None, "a claim transition needs a holder field"
        claimant = out.get(self.holder) or actor.user_id
        if state in self.held:
            if holder != claimant:
                raise _already_claimed(type_name, holder, self.field)
            del out[self.field]  # the holder claiming again: nothing to do
            out.pop(self.holder, None)
            return
        if self.edge(state, out[self.field], actor.role) is None:
            raise _stale(type_name, state, out[self.field], self.field)
        out[self.holder] = claimant

    def _check_holder(
        self, type_name: str, actor: Actor, state: object, holder: object, target: object
    ) -> None:
        """Let a holder role act only on records it holds."""
        if actor.role not in self.holder_roles or holder == actor.user_id:
            return
        if state in self.held:
            raise _already_claimed(type_name, holder, self.field)
        if target is not None:
            raise _stale(type_name, state, target, self.field)
        raise SyncError(Code.FORBIDDEN, f"only the {actor.role} holding a {type_name} may edit it")


def _empty(value: object) -> bool:
    """Return whether a required value is missing: null, blank text or an empty list."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == [] or value == {}


def _already_claimed(type_name: str, holder: object, field: str) -> SyncError:
    """Return the ``already_claimed`` error naming the holder."""
    who = holder if isinstance(holder, int) else None
    return SyncError(Code.ALREADY_CLAIMED, f"the {type_name} is held by user {who}", field, who)


def _stale(type_name: str, state: object, target: object, field: str) -> SyncError:
    """Return the ``stale_transition`` error for a move the machine refuses."""
    return SyncError(
        Code.STALE_TRANSITION, f"a {type_name} that is {state} cannot become {target}", field
    )
