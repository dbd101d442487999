"""Resolve what a user may see: the compounds and buildings of their scope."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from server.extensions import db
from server.models import DeviceToken, RecordRow, SocketSession, User, UserScopeItem
from server.models.expressions import FieldText
from sync.actors import Actor, UserScope


def neighbourhood_compounds(neighbourhood_id: str) -> frozenset[str]:
    """Return the ids of the compounds of one neighbourhood."""
    return live_ids("compound", "neighbourhood_id", [neighbourhood_id])


def resolve(user: User) -> UserScope:
    """Return ``user``'s scope as the compounds and buildings it names."""
    return scope_of(user.scope_kind, user.neighbourhood_id, user.scope_ids)


def scope_of(scope_kind: str, neighbourhood_id: str, scope_ids: Iterable[str]) -> UserScope:
    """Return the compounds and buildings of a scope of ``scope_kind`` (``User.scope_kind``)."""
    if scope_kind == "neighbourhood":
        return UserScope(compound_ids=neighbourhood_compounds(neighbourhood_id))
    if scope_kind == "compounds":
        return UserScope(compound_ids=frozenset(scope_ids))
    return UserScope(building_ids=frozenset(scope_ids))


def rooms_of(user: User) -> list[str]:
    """Return the Socket.IO rooms a socket of ``user`` joins: one, its audience's."""
    return [audience_room(user.role, user.scope_kind, user.neighbourhood_id, user.scope_ids)]


def audience_room(
    role: str, scope_kind: str, neighbourhood_id: str, scope_ids: Iterable[str]
) -> str:
    """Name the room of every socket whose user has this role and scope.

    Each socket is in exactly one room, so one emit per audience brings each
    socket one event per commit, each record in it once (``docs/sync.md``,
    rule 21); a socket in a room per compound would get a commit once per
    compound it touched, a moved record as a tombstone in one of them.
    """
    refs = [neighbourhood_id] if scope_kind == "neighbourhood" else sorted(scope_ids)
    return f"{role}:{scope_kind}:{','.join(refs)}"


def connected_audiences() -> dict[str, Actor]:
    """Return the audience room of every user with an open socket, and who it stands for.

    Sockets are those in ``socket_session``, so every server process's are
    counted. The actor of a room has the room's role and scope (user id 0:
    it stands for all the room's users).
    """
    rows = db.session.execute(
        select(User.id, User.role, User.scope_kind, User.neighbourhood_id, UserScopeItem.ref_id)
        .join(DeviceToken, DeviceToken.user_id == User.id)
        .join(SocketSession, SocketSession.device_token_id == DeviceToken.id)
        .outerjoin(UserScopeItem, UserScopeItem.user_id == User.id)
        .where(User.active.is_(True), DeviceToken.revoked_at.is_(None))
        .distinct()
    )
    users: dict[int, tuple[str, str, str, set[str]]] = {}
    for row in rows:
        _, _, _, refs = users.setdefault(
            row.id, (row.role, row.scope_kind, row.neighbourhood_id, set())
        )
        if row.ref_id is not None:
            refs.add(row.ref_id)
    audiences: dict[str, Actor] = {}
    for role, kind, neighbourhood_id, refs in users.values():
        room = audience_room(role, kind, neighbourhood_id, refs)
        if room not in audiences:
            audiences[room] = Actor(0, role, scope_of(kind, neighbourhood_id, refs))
    return audiences


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
