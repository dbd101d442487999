"""Socket.IO glue: token auth on connect, rooms per scope, revocation.

Announcing changes after a commit also lives here (see ``announce``).
"""

from __future__ import annotations

from typing import Any

from flask_socketio import ConnectionRefusedError, join_room

from server import accounts, scopes
from server.extensions import db, socketio


def device_room(device_id: int) -> str:
    """Return the room every socket of one device token joins."""
    return f"device:{device_id}"


@socketio.on("connect")
def on_connect(auth: dict[str, Any] | None = None) -> None:
    """Accept a socket only with a valid token; join the rooms of its scope."""
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    device = accounts.token_in_force(token) if isinstance(token, str) else None
    if device is None:
        db.session.remove()
        raise ConnectionRefusedError("unauthenticated")
    join_room(device_room(device.id))
    for room in scopes.rooms_of(device.user):
        join_room(room)
    db.session.remove()


def disconnect_device(device_id: int) -> None:
    """Disconnect every socket opened with one device token, in any process."""
    server = socketio.server
    if server is None:
        return
    for sid in list(server.manager.get_participants("/", device_room(device_id))):
        server.disconnect(sid[0] if isinstance(sid, tuple) else sid, namespace="/")
