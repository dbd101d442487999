"""Resolve what a user may see: the compounds and buildings of their scope.

A user's scope is their account's, widened by the compounds they broke the
glass into while those grants are in force (``server/break_glass.py``):
judged afresh at every live announcement, and for requests whenever a
token's cached identity ends (:mod:`server.sign_ins`: at a grant's start,
and at the end of the earliest grant it holds), so a grant ends by itself.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from server import clock, socket_sessions
from server.extensions import db
from server.models import AuditEntry, DeviceToken, RecordRow, SocketSession, User, UserScopeItem
from server.models.expressions import FieldText
from sync.actors import Actor, UserScope

#: The audit action that records (and is) a break-the-glass grant.
BREAK_GLASS_ACTION = "break-glass"
#: The audit action that ends a grant before its time (detail ``grant_id``).
END_GRANT_ACTION = "break-glass-end"
#: The longest a grant may last.
LONGEST_GRANT = timedelta(hours=12)


def neighbourhood_compounds(neighbourhood_id: str) -> frozenset[str]:
    """Return the ids of the compounds of one neighbourhood."""
    return live_ids("compound", "neighbourhood_id", [neighbourhood_id])


def resolve(user: User) -> UserScope:
    """Return ``user``'s scope: the compounds and buildings it names, and its grants in force."""
    scope = scope_of(user.scope_kind, user.neighbourhood_id, user.scope_ids)
    if user.scope_kind == "neighbourhood":
        return scope
    return widened(scope, granted_compounds([user.id]).get(user.id, frozenset()))


def widened(scope: UserScope, compound_ids: frozenset[str]) -> UserScope:
    """Return ``scope`` with ``compound_ids`` added."""
    if not compound_ids:
        return scope
    return UserScope(
        everything=scope.everything,
        compound_ids=scope.compound_ids | compound_ids,
        building_ids=scope.building_ids,
    )


def grants_in_force(now: datetime, user_ids: Collection[int] | None = None) -> list[AuditEntry]:
    """Return the break-the-glass grants in force at ``now`` (of some users, if given).

    In force: not expired, and not ended early (an ``END_GRANT_ACTION`` entry names it).
    One statement reads the grants and the ends of the last :data:`LONGEST_GRANT`
    together (an announcement asks at every push); none when ``user_ids`` is empty.
    """
    if user_ids is not None and not user_ids:
        return []
    query = select(AuditEntry).where(
        AuditEntry.action.in_([BREAK_GLASS_ACTION, END_GRANT_ACTION]),
        AuditEntry.at > now - LONGEST_GRANT,
    )
    if user_ids is not None:
        # An end is another user's entry as often as not (a coordinator ends a volunteer's grant).
        query = query.where(
            or_(AuditEntry.action == END_GRANT_ACTION, AuditEntry.user_id.in_(list(user_ids)))
        )
    entries = list(db.session.scalars(query))
    ended = {e.detail.get("grant_id") for e in entries if e.action == END_GRANT_ACTION}
    return [
        entry
        for entry in entries
        if entry.action == BREAK_GLASS_ACTION
        and grant_expiry(entry) > now
        and entry.id not in ended
    ]


def grant_expiry(entry: AuditEntry) -> datetime:
    """Return when a grant ends: its time plus its minutes, never past the longest grant."""
    minutes = timedelta(minutes=int(entry.detail.get("minutes", 0)))
    return clock.aware(entry.at) + min(minutes, LONGEST_GRANT)


def granted_compounds(user_ids: Collection[int]) -> dict[int, frozenset[str]]:
    """Return, by user, the compounds their grants in force open now."""
    out: dict[int, frozenset[str]] = {}
    for entry in grants_in_force(clock.utcnow(), user_ids):
        if entry.user_id is not None and entry.record_id is not None:
            out[entry.user_id] = out.get(entry.user_id, frozenset()) | {entry.record_id}
    return out


def scope_of(scope_kind: str, neighbourhood_id: str, scope_ids: Iterable[str]) -> UserScope:
    """Return the compounds and buildings of a scope of ``scope_kind`` (``User.scope_kind``)."""
    if scope_kind == "neighbourhood":
        return UserScope(compound_ids=neighbourhood_compounds(neighbourhood_id))
    if scope_kind == "compounds":
        return UserScope(compound_ids=frozenset(scope_ids))
    return UserScope(building_ids=frozenset(scope_ids))


def rooms_of(user: User) -> list[str]:
    """Return the Socket.IO rooms a socket of ``user`` joins: one, its audience's."""
    granted = granted_compounds([user.id]).get(user.id, frozenset())
    return [
        audience_room(user.role, user.scope_kind, user.neighbourhood_id, user.scope_ids, granted)
    ]


def audience_room(
    role: str,
    scope_kind: str,
    neighbourhood_id: str,
    scope_ids: Iterable[str],
    granted: Iterable[str] = (),
) -> str:
    """Name the room of every socket whose user has this role and scope.

    Each socket is in exactly one room, so one emit per audience brings each
    socket one event per commit, each record in it once (``docs/sync.md``,
    rule 21); a socket in a room per compound would get a commit once per
    compound it touched, a moved record as a tombstone in one of them.
    """
    refs = [neighbourhood_id] if scope_kind == "neighbourhood" else sorted(scope_ids)
    room = f"{role}:{scope_kind}:{','.join(refs)}"
    extra = sorted(granted)
    return f"{room}+{','.join(extra)}" if extra and scope_kind != "neighbourhood" else room


#: The users with an open socket, a row per scope item (``ref_id``, ``None`` for none).
#: Built once: building it cost most of an announcement with nobody connected (issue #16).
CONNECTED_USERS = (
    select(User.id, User.role, User.scope_kind, User.neighbourhood_id, UserScopeItem.ref_id)
    .join(DeviceToken, DeviceToken.user_id == User.id)
    .join(SocketSession, SocketSession.device_token_id == DeviceToken.id)
    .outerjoin(UserScopeItem, UserScopeItem.user_id == User.id)
    .where(User.active.is_(True), DeviceToken.revoked_at.is_(None))
    .distinct()
)


def connected_audiences() -> dict[str, Actor]:
    """Return the audience room of every user with an open socket, and who it stands for.

    Sockets are those in ``socket_session``, so every server process's are
    counted; none are read, and none returned, when no socket can hear
    this process (:func:`server.socket_sessions.none_can_hear`). The actor
    of a room has the room's role and scope (user id 0: it stands for all
    the room's users).
    """
    if socket_sessions.none_can_hear():
        return {}
    # On the session's connection: the ORM's execution of this Core query
    # cost a quarter of an announcement to nobody (issue #16).
    rows = db.session.connection().execute(CONNECTED_USERS)
    users: dict[int, tuple[str, str, str, set[str]]] = {}
    for row in rows:
        _, _, _, refs = users.setdefault(
            row.id, (row.role, row.scope_kind, row.neighbourhood_id, set())
        )
        if row.ref_id is not None:
            refs.add(row.ref_id)
    granted = granted_compounds([uid for uid, user in users.items() if user[1] != "neighbourhood"])
    audiences: dict[str, Actor] = {}
    for user_id, (role, kind, neighbourhood_id, refs) in users.items():
        extra = granted.get(user_id, frozenset()) if kind != "neighbourhood" else frozenset()
        room = audience_room(role, kind, neighbourhood_id, refs, extra)
        if room not in audiences:
            scope = widened(scope_of(kind, neighbourhood_id, refs), extra)
            audiences[room] = Actor(0, role, scope)
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
