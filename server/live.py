"""Socket.IO glue: token auth on connect, rooms per scope and role, revocation.

A socket joins one room per compound (or building) of its user's scope,
qualified by the user's role, because what a record shows depends on both.
Announcing changes after a commit lives here too (``announce``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import islice
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, join_room

from server import accounts, scopes, socket_sessions
from server.clock import utcnow
from server.extensions import db, socketio
from server.green import cooperatively
from server.models.accounts import ROLES
from sync.actors import Actor, UserScope
from sync.protocol import PushOutcome
from sync.pull import view_for
from sync.records import Record, Scope

# A commit that shows a room more records than this is announced as a poke.
POKE_AFTER = 200


@socketio.on("connect")
def on_connect(auth: dict[str, Any] | None = None) -> None:
    """Accept a socket only with a valid token; join the rooms of its scope."""
    token = auth.get("token") if isinstance(auth, dict) else None
    try:
        device = accounts.token_in_force(token) if isinstance(token, str) else None
        if device is None:
            raise ConnectionRefusedError("unauthenticated")
        for room in scopes.rooms_of(device.user):
            join_room(room)
        socket_sessions.opened(request.sid, device.id)
        db.session.commit()
    finally:
        db.session.remove()


@socketio.on("disconnect")
def on_disconnect(reason: Any = None) -> None:
    """Forget a closed socket."""
    try:
        socket_sessions.closed(request.sid)
        db.session.commit()
    finally:
        db.session.remove()


def disconnect_device(device_id: int) -> None:
    """Disconnect every socket opened with one device token, in any server process."""
    for sid in socket_sessions.sids_of(device_id):
        socketio.server.disconnect(sid, namespace="/")
    socket_sessions.forget_device(device_id)
    db.session.commit()


def announce(outcome: PushOutcome, prev: int) -> None:
    """Emit ``changes`` to every room whose users see something of a committed push.

    Call after the commit. Each room (a role in a compound or building) gets
    the written records as that role sees them there, a tombstone where a
    record left; more than :data:`POKE_AFTER` records become a poke (an empty
    list) after which clients pull.
    """
    if outcome.cursor is None:
        return
    now = utcnow()
    by_place: dict[tuple[str, str], list[Record]] = {}
    for record in outcome.written:
        for place in places_of(record.scope, outcome.moved.get(record.id)):
            by_place.setdefault(place, []).append(record)
    for (kind, ref_id), records in by_place.items():
        for role in ROLES:
            viewer = Actor(0, role, viewer_scope(kind, ref_id))
            views = room_views(viewer, records, outcome.moved, now)
            if views:
                socketio.emit(
                    "changes",
                    {
                        "prev": prev,
                        "cursor": outcome.cursor,
                        "changes": views if len(views) <= POKE_AFTER else [],
                    },
                    to=scopes.room(role, kind, ref_id),
                )


def room_views(
    viewer: Actor, records: list[Record], moved: Mapping[str, Scope], now: datetime
) -> list[dict[str, Any]]:
    """Return ``records`` as ``viewer`` sees them, as envelopes; past :data:`POKE_AFTER`, one more.

    More than :data:`POKE_AFTER` means a poke, so the rest are not built; a
    large push lets the process's other requests run as it goes.
    """
    views = (
        view_for(viewer, record, moved.get(record.id), now=now)
        for record in cooperatively(records)
    )
    return [view.envelope() for view in islice(filter(None, views), POKE_AFTER + 1)]


def places_of(scope: Scope, moved_from: Scope | None) -> set[tuple[str, str]]:
    """Return the compounds and building a record is (or was, before a move) in."""
    places = set()
    for each in (scope, moved_from) if moved_from else (scope,):
        places.update(("compound", c) for c in each.compound_ids)
        if each.building_id:
            places.add(("building", each.building_id))
    return places


def viewer_scope(kind: str, ref_id: str) -> UserScope:
    """Return the scope of a user who sees exactly one compound or building."""
    if kind == "compound":
        return UserScope(compound_ids=frozenset({ref_id}))
    return UserScope(building_ids=frozenset({ref_id}))
