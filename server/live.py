"""Socket.IO glue: token auth on connect, rooms per scope and role, revocation.

A socket joins one room per compound (or building) of its user's scope,
qualified by the user's role, because what a record shows depends on both.
Announcing changes after a commit lives here too (``announce``).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import delete, select

from server import accounts, scopes
from server.clock import utcnow
from server.extensions import db, socketio
from server.models import SocketSession


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
        db.session.add(
            SocketSession(sid=request.sid, device_token_id=device.id, opened_at=utcnow())
        )
        db.session.commit()
    finally:
        db.session.remove()


@socketio.on("disconnect")
def on_disconnect(reason: Any = None) -> None:
    """Forget a closed socket."""
    try:
        db.session.execute(delete(SocketSession).where(SocketSession.sid == request.sid))
        db.session.commit()
    finally:
        db.session.remove()


def disconnect_device(device_id: int) -> None:
    """Disconnect every socket opened with one device token, in any server process."""
    sids = list(
        db.session.scalars(
            select(SocketSession.sid).where(SocketSession.device_token_id == device_id)
        )
    )
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")
    db.session.execute(delete(SocketSession).where(SocketSession.device_token_id == device_id))
    db.session.commit()
