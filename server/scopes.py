"""Resolve what a user may see: the compounds and buildings of their scope."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from server.extensions import db
from server.models import RecordRow, User
from server.models.expressions import FieldText
from sync.actors import Actor, UserScope


def neighbourhood_compounds(neighbourhood_id: str) -> frozenset[str]:
    """Return the ids of the compounds of one neighbourhood."""
    return live_ids("compound", "neighbourhood_id", [neighbourhood_id])


def resolve(user: User) -> UserScope:
    """Return ``user``'s scope as the compounds and buildings it names."""
    if user.scope_kind == "neighbourhood":
        return UserScope(compound_ids=neighbourhood_compounds(user.neighbourhood_id))
    if user.scope_kind == "compounds":
        return UserScope(compound_ids=frozenset(user.scope_ids))
    return UserScope(building_ids=frozenset(user.scope_ids))


def rooms_of(user: User) -> list[str]:
    """Return the Socket.IO rooms a socket of ``user`` joins (see ``room``)."""
    scope = resolve(user)
    return [room(user.role, "compound", c) for c in sorted(scope.compound_ids)] + [
        room(user.role, "building", b) for b in sorted(scope.building_ids)
    ]


def room(role: str, kind: str, ref_id: str) -> str:
    """Name the room of one role in one compound or building."""
    return f"{role}:{kind}:{ref_id}"


def buildings_of(compound_ids: frozenset[str]) -> frozenset[str]:
    """Return the ids of the buildings in the given compounds."""
    return live_ids("building", "compound_id", compound_ids)


def live_ids(record_type: str, field: str, values: Iterable[str]) -> frozenset[str]:
    """Return the ids of the undeleted records of a type whose ``field`` is one of ``values``."""
    rows = db.session.scalars(
        select(RecordRow.id).where(
            RecordRow.type == record_type,
            RecordRow.deleted.is_(False),
            FieldText(RecordRow.fields, field).in_(list(values)),
        )
    )
    return frozenset(rows)


def actor_for(user: User) -> Actor:
    """Return the sync engine's view of ``user``."""
    return Actor(user.id, user.role, resolve(user))
