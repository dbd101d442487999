"""Bound what one Socket.IO connection can cost the server: memory and time.

As configured by default, python-socketio and python-engineio take any
message up to the HTTP body limit before anyone has signed in, and queue
without bound what a socket has not read. Weiguang's sockets carry one
thing, the server's ``changes`` events; a client sends only its token. So:

- an inbound message is at most ``SOCKET_MESSAGE_BYTES`` (engine.io's
  ``max_http_buffer_size``, set by ``create_app``; under eventlet,
  :mod:`server.websocket` holds a fragmented message to it too);
- before its token is accepted a connection may send its CONNECT packet and
  nothing else, and must do so within ``SOCKET_CONNECT_SECONDS``;
- once connected, a packet the app has no handler for (any event today, an
  ack, a binary packet) closes the connection without being handled;
- a connection whose unsent packets pass ``SOCKET_QUEUE_BYTES`` is dropped:
  the backlog is freed at once and the transport closed without a goodbye,
  so the client reconnects and catches up by pull (``web/app/live.js``);
- closing a connection waits at most ``CLOSE_WAIT_SECONDS`` for its last
  packets to go out (engine.io would wait for a client that never reads).

A connection that breaks a rule is closed, not answered: the PWA never
breaks one, and anything else may not cost more than closing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import socketio
from socketio import packet

NAMESPACE = "/"
# What an engine.io packet costs besides its data (the Packet object, the queue slot).
PACKET_OVERHEAD_BYTES = 64
RESERVED_EVENTS = frozenset({"connect", "disconnect"})
# How long closing a socket waits for its last packets to be sent, and how often it looks.
CLOSE_WAIT_SECONDS = 5
CLOSE_WAIT_STEP_SECONDS = 0.05


def install(server: socketio.Server, settings: Mapping[str, Any]) -> None:
    """Put the limits on ``server``, a python-socketio server made by Flask-SocketIO.

    Flask-SocketIO builds the server itself, so there is no subclass to
    hand it: the queue and WebSocket classes go into the engine.io server's
    table of async-mode classes (which it reads each time it makes one),
    and the gate wraps the engine.io handlers python-socketio registered.
    """
    eio = server.eio
    classes = dict(eio._async)
    classes["queue"] = bounded_queue(
        classes["queue"], classes["queue_empty"], settings["SOCKET_QUEUE_BYTES"]
    )
    if eio.async_mode == "eventlet":
        from server.websocket import BoundedWebSocketWSGI

        classes["websocket"] = BoundedWebSocketWSGI
    eio._async = classes
    Gate(server, settings["SOCKET_CONNECT_SECONDS"])


def bounded_queue(base: type, empty: type[Exception], max_bytes: int) -> type:
    """Return a subclass of engine.io's per-socket queue ``base`` holding at most ``max_bytes``.

    A packet that would pass the bound, unless the queue is empty (one large
    event never drops a reader that keeps up), clears the queue and closes
    it for good: later packets are dropped, ``get`` raises ``empty`` (which
    ends the socket's writer, or its next poll), and ``on_overflow``, if
    set, is called.
    """

    class BoundedQueue(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.held_bytes = 0
            self.overflowed = False
            self.on_overflow: Callable[[], None] | None = None

        def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
            if self.overflowed:
                return
            # A packet into an empty queue always goes: one big event is no backlog.
            if (
                item is not None
                and self.held_bytes > 0
                and self.held_bytes + cost_of(item) > max_bytes
            ):
                self.overflow()
                return
            super().put(item, block, timeout)

        def get(self, block: bool = True, timeout: float | None = None) -> Any:
            if self.overflowed:
                raise empty
            return super().get(block, timeout)

        def _put(self, item: Any) -> None:
            super()._put(item)
            self.held_bytes += cost_of(item)

        def _get(self) -> Any:
            item = super()._get()
            self.held_bytes -= cost_of(item)
            return item

        def join(self) -> None:
            """Wait until what was queued is sent, or :data:`CLOSE_WAIT_SECONDS` have passed.

            engine.io waits here when it closes a socket, to send the goodbye;
            a client that does not read would hold the closer (a logout, a
            refused long-polling body) forever.
            """
            deadline = time.monotonic() + CLOSE_WAIT_SECONDS
            while self.unfinished_tasks and time.monotonic() < deadline:
                time.sleep(CLOSE_WAIT_STEP_SECONDS)

        def overflow(self) -> None:
            """Free the backlog and close the queue; tell the owner."""
            while True:
                try:
                    super().get(block=False)
                except empty:
                    break
                self.task_done()
            self.overflowed = True
            if self.on_overflow is not None:
                self.on_overflow()

    return BoundedQueue


def cost_of(item: Any) -> int:
    """Return what a queued engine.io packet holds, in bytes (about: the data plus an overhead)."""
    if item is None:
        return 0
    data = getattr(item, "data", None)
    return PACKET_OVERHEAD_BYTES + (len(data) if isinstance(data, str | bytes) else 0)


class Gate:
    """Let through only the packets the app handles, in the order it handles them.

    It wraps the engine.io ``connect`` and ``message`` handlers that
    python-socketio registered; what it lets through reaches them unchanged.
    """

    def __init__(self, server: socketio.Server, connect_seconds: float) -> None:
        self.server = server
        self.eio = server.eio
        self.connect_seconds = connect_seconds
        self.on_engine_connect = self.eio.handlers["connect"]
        self.on_engine_message = self.eio.handlers["message"]
        self.eio.on("connect", self.on_connect)
        self.eio.on("message", self.on_message)

    def on_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        """Open a connection; drop it if it overflows or has not signed in in time."""
        result = self.on_engine_connect(eio_sid, environ)
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None:
            socket.queue.on_overflow = lambda: self.eio.start_background_task(self.drop, eio_sid)
        self.eio.start_background_task(self.expire, eio_sid)
        return result

    def on_message(self, eio_sid: str, data: Any) -> Any:
        """Hand a message on if the app handles it; else close the connection."""
        socket = self.eio.sockets.get(eio_sid)
        if socket is None or socket.closing or socket.closed:
            return None
        if not self.allowed(eio_sid, data):
            self.drop(eio_sid)
            return None
        return self.on_engine_message(eio_sid, data)

    def allowed(self, eio_sid: str, data: Any) -> bool:
        """Return whether the app handles ``data`` from this connection now."""
        if not isinstance(data, str) or not data or data[1:2] == "/":
            return False  # binary, empty, or for a namespace the app does not serve
        kind = int(data[0]) if data[0].isdigit() else None
        manager = self.server.manager
        sid = manager.sid_from_eio_sid(eio_sid, NAMESPACE)
        if kind == packet.CONNECT:
            return sid is None
        if sid is None or not manager.is_connected(sid, NAMESPACE):
            return False
        if kind == packet.DISCONNECT:
            return True
        return kind == packet.EVENT and self.handled(data)

    def handled(self, data: str) -> bool:
        """Return whether an EVENT packet names an event the app handles."""
        try:
            event = self.server.packet_class(encoded_packet=data).data[0]
        except (ValueError, TypeError, IndexError, KeyError):
            return False
        handlers = self.server.handlers.get(NAMESPACE, {})
        return (
            isinstance(event, str)
            and event not in RESERVED_EVENTS
            and (event in handlers or "*" in handlers)
        )

    def expire(self, eio_sid: str) -> None:
        """Close a connection that has not signed in after ``connect_seconds``."""
        self.eio.sleep(self.connect_seconds)
        if self.server.manager.sid_from_eio_sid(eio_sid, NAMESPACE) is None:
            self.drop(eio_sid)

    def drop(self, eio_sid: str) -> None:
        """Close a connection at once, without a goodbye: a client that wants to reconnects."""
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None and not socket.closed:
            socket.close(wait=False, abort=True, reason=self.eio.reason.SERVER_DISCONNECT)
