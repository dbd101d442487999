"""Open sockets in the database: which process holds each, kept alive by a heartbeat.

A row per open socket lets a logout in one process disconnect the token's
sockets in every process (:func:`server.live.disconnect_device`). A process
that dies (killed, crashed, its machine gone) leaves its rows behind, so each
serving process marks its own rows alive every ``SOCKET_HEARTBEAT_SECONDS``
and deletes every row that nobody has marked for :data:`STALE_BEATS` beats:
once when it starts and then on each beat. A process that stalls for that
long loses its rows; its clients have given up on it by then (engine.io's
ping timeout is shorter) and reconnect to a process that records them anew.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import delete, select, update

from server.clock import utcnow
from server.extensions import db, socketio
from server.models import SocketSession

# This process, as the owner of its rows.
PROCESS_ID = uuid.uuid4().hex
STALE_BEATS = 4


def opened(sid: str, device_token_id: int) -> None:
    """Record a socket opened in this process with the device token ``device_token_id``."""
    now = utcnow()
    db.session.add(
        SocketSession(
            sid=sid,
            device_token_id=device_token_id,
            process_id=PROCESS_ID,
            opened_at=now,
            seen_at=now,
        )
    )


def closed(sid: str) -> None:
    """Forget a socket that closed."""
    db.session.execute(delete(SocketSession).where(SocketSession.sid == sid))


def none_can_hear() -> bool:
    """Tell whether no socket can receive what this process emits now.

    Without a message queue (``WEIGUANG_MESSAGE_QUEUE``: one process) an
    emit reaches only this process's sockets, and it has none open or
    opening in any namespace (python-socketio registers a socket before
    its connect handler runs). Then the rows of ``socket_session`` need
    not be read: there is nobody to announce to (issue #16, a push's
    announcement cost a transaction of its own). With a message queue,
    other processes' sockets may hear it: ``False``.
    """
    if current_app.config["WEIGUANG"]["MESSAGE_QUEUE"]:
        return False
    return not socketio.server.manager.get_namespaces()


def sids_of(device_token_id: int) -> list[str]:
    """Return the sockets open with a device token, in any process."""
    return list(
        db.session.scalars(
            select(SocketSession.sid).where(SocketSession.device_token_id == device_token_id)
        )
    )


def forget_device(device_token_id: int) -> None:
    """Forget every socket of a device token (after disconnecting them)."""
    db.session.execute(
        delete(SocketSession).where(SocketSession.device_token_id == device_token_id)
    )


def beat(now: datetime, heartbeat_seconds: float, process_id: str = PROCESS_ID) -> int:
    """Mark the rows of ``process_id`` alive at ``now``; delete the stale ones of any process.

    Commits. Returns how many stale rows were deleted.
    """
    db.session.execute(
        update(SocketSession).where(SocketSession.process_id == process_id).values(seen_at=now)
    )
    stale_before = now - timedelta(seconds=heartbeat_seconds * STALE_BEATS)
    swept = db.session.execute(delete(SocketSession).where(SocketSession.seen_at < stale_before))
    db.session.commit()
    return int(swept.rowcount or 0)


def keep_alive(app: Flask) -> None:
    """Beat every ``SOCKET_HEARTBEAT_SECONDS`` for as long as the process serves, from now on."""
    seconds = float(app.config["WEIGUANG"]["SOCKET_HEARTBEAT_SECONDS"])
    while True:
        with app.app_context():
            try:
                beat(utcnow(), seconds)
            except Exception:  # a database hiccup must not end the heartbeat
                app.logger.exception("socket session heartbeat failed")
            finally:
                db.session.remove()
        socketio.sleep(seconds)
