"""Socket.IO glue: token auth on connect, one room per audience, revocation.

A socket joins one room, its audience's: the users of one role and one
scope, because what a record shows depends on both. Announcing changes
after a commit lives here too (``announce``): one event per audience.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_socketio import ConnectionRefusedError, join_room

from server import accounts, metrics, scopes, socket_sessions
from server.clock import utcnow
from server.extensions import db, socketio
from server.green import cooperatively
from server.request_context import when_sent
from sync.actors import Actor
from sync.protocol import PushOutcome
from sync.pull import event_for

# A commit that writes more records than this is announced as a poke.
POKE_AFTER = 200
log = logging.getLogger(__name__)
# This process's jobs (announcements, gate alerts) waiting for its announcer
# green thread (``after_response``), in commit order, each with the event set
# once its request's response is sent; made when the first comes.
_waiting: queue.Queue[tuple[Callable[[], None], str, threading.Event]] | None = None
# How long the announcer waits for a job's response to be sent before running
# the job anyway (a request that failed after queuing it sends no response of its own).
RESPONSE_SENT_WAIT_S = 2.0


@socketio.on("connect")
def on_connect(auth: dict[str, Any] | None = None) -> None:
    """Accept a socket only with a valid token; join the room of its audience."""
    token = auth.get("token") if isinstance(auth, dict) else None
    try:
        device = accounts.token_in_force(token) if isinstance(token, str) else None
        if device is None:
            raise ConnectionRefusedError("unauthenticated")
        for room in scopes.rooms_of(device.user):
            join_room(room)
        socket_sessions.opened(request.sid, device.id)
        db.session.commit()
        metrics.current().sockets.inc()
    finally:
        db.session.remove()


@socketio.on("disconnect")
def on_disconnect(reason: Any = None) -> None:
    """Forget a closed socket."""
    metrics.current().sockets.dec()
    try:
        socket_sessions.closed(request.sid)
        db.session.commit()
    finally:
        db.session.remove()


def send_everyone_elsewhere() -> int:
    """Drop the transport of every socket of this process; return how many (a graceful stop).

    The reconnect hint: Socket.IO clients (the PWA's, python-socketio's)
    reconnect after a transport that drops, and take a Socket.IO disconnect
    (a logout, a refusal) as final. So no Socket.IO or Engine.IO close packet
    is sent, only the transport closed (python-socketio's client takes an
    Engine.IO close packet as final too). Behind nginx the clients come back
    on another process, whose first answer makes them pull from their cursor
    (``web/app/live.js``). Each socket's disconnect handler forgets its row.
    """
    engine = socketio.server.eio
    sids = list(engine.sockets)
    for sid in cooperatively(sids):
        dropped = engine.sockets.pop(sid, None)
        if dropped is not None:
            dropped.close(wait=False, abort=True, reason=engine.reason.SERVER_DISCONNECT)
    return len(sids)


def disconnect_device(device_id: int) -> None:
    """Disconnect every socket opened with one device token, in any server process."""
    for sid in socket_sessions.sids_of(device_id):
        socketio.server.disconnect(sid, namespace="/")
    socket_sessions.forget_device(device_id)
    db.session.commit()


def announce_soon(outcome: PushOutcome, prev: int) -> None:
    """Announce a committed push without keeping its author waiting (issue #16).

    Nothing is queued when no socket can hear this process
    (:func:`server.socket_sessions.none_can_hear`): a socket that opens
    later pulls from its cursor once connected (``web/app/live.js``), after
    this push's commit.
    """
    if outcome.cursor is None or socket_sessions.none_can_hear():
        return
    committed_at = time.perf_counter()
    after_response(
        lambda: announce(outcome, prev, committed_at),
        f"announcing the push up to version {outcome.cursor} failed",
    )


def after_response(job: Callable[[], None], failure: str) -> None:
    """Run ``job`` for a committed request without keeping its author waiting (issue #16).

    Under eventlet (``weiguang serve``) the job is queued for this process's
    announcer green thread, which runs it once the request's response has
    been sent (the WSGI server closes it after writing it:
    :meth:`~flask.Response.call_on_close`), or after
    :data:`RESPONSE_SENT_WAIT_S` if none is. Before, the job could start
    while the request gave way on its last round trip to the database (the
    pool's rollback as the request ends), and the author's answer waited
    for it. One thread, so jobs run in the order queued (announcements
    leave in commit order). Other async modes (tests, debugging) run it at
    once, in the request. Either way a job that raises is rolled back and
    logged with ``failure``, never raised: what it follows has committed,
    and its author must hear so.
    """
    global _waiting
    if socketio.server.eio.async_mode != "eventlet":
        _run(job, failure)
        return
    if _waiting is None:
        _waiting = queue.Queue()
        socketio.start_background_task(_announcer, current_app._get_current_object(), _waiting)
    sent = threading.Event()  # a green event under eventlet's monkey-patching
    if has_request_context():
        when_sent(sent.set)
    else:
        sent.set()
    _waiting.put((job, failure, sent))


def _announcer(
    app: Flask, waiting: queue.Queue[tuple[Callable[[], None], str, threading.Event]]
) -> None:
    """Run queued jobs in order, each once its response is sent, while the process lives."""
    while True:
        job, failure, sent = waiting.get()
        sent.wait(RESPONSE_SENT_WAIT_S)
        with app.app_context():
            try:
                _run(job, failure)
            finally:
                db.session.remove()


def _run(job: Callable[[], None], failure: str) -> None:
    """Run ``job``; roll back and log ``failure`` if it raises (one job must not stop the next)."""
    try:
        job()
    except Exception:
        db.session.rollback()
        log.exception(failure)


def announce(outcome: PushOutcome, prev: int, committed_at: float | None = None) -> None:
    """Emit ``changes`` once to every audience that sees something of a committed push.

    Call after the commit. An audience is the users of one role and scope
    (:func:`server.scopes.audience_room`); its room gets the written records
    as it sees them, each once in its latest state — a tombstone only where
    a record left everything it sees (:func:`sync.pull.event_for`). A push
    of more than :data:`POKE_AFTER` records is a poke (an empty list) to
    every audience it touches, after which clients pull. Each emit's lag is
    measured from ``committed_at`` (``time.perf_counter()`` at the commit;
    this call if not given).
    """
    if outcome.cursor is None:
        return
    committed_at = time.perf_counter() if committed_at is None else committed_at
    now = utcnow()
    touched = {record.scope for record in outcome.written} | set(outcome.moved.values())
    # Many rooms: let the process's other requests run as it goes.
    for room, viewer in cooperatively(scopes.connected_audiences().items()):
        if not any(viewer.sees(scope) for scope in touched):
            continue
        changes = _changes_for(viewer, outcome, now)
        if changes is not None:
            payload = {"prev": prev, "cursor": outcome.cursor, "changes": changes}
            socketio.emit("changes", payload, to=room)
            metrics.observe_live_event(time.perf_counter() - committed_at)


def _changes_for(
    viewer: Actor, outcome: PushOutcome, now: datetime
) -> list[dict[str, object]] | None:
    """Return the ``changes`` of ``viewer``'s event: ``[]`` for a poke, ``None`` for none."""
    if len(outcome.written) > POKE_AFTER:
        return []
    views = event_for(viewer, outcome.written, outcome.moved, now=now)
    return [view.envelope() for view in views] if views else None
