"""The WebSocket endpoint of the Socket.IO server under eventlet, with bounds eventlet lacks.

python-engineio hands eventlet's WebSocket its ``max_http_buffer_size`` as
the largest *frame*. eventlet checks a frame's length before reading it, but
joins the frames of a fragmented message without limit, unmasks each byte in
a Python loop (9 MiB froze the process for seconds) and still speaks the
2010 drafts (hixie-75/76), which buffer until a terminator comes. This
module is imported only when the server runs on eventlet.
"""

from __future__ import annotations

from typing import Any

import eventlet
from engineio.async_drivers.eventlet import WebSocketWSGI
from eventlet.websocket import FailedConnectionError, RFC6455WebSocket

# RFC 6455, 7.4.1: "a message that is too big for it to process".
MESSAGE_TOO_BIG = 1009


class BoundedWebSocket(RFC6455WebSocket):  # type: ignore[misc]
    """An RFC 6455 WebSocket whose messages, fragmented or not, stay within the frame limit."""

    def _recv_frame(self, message: Any = None) -> Any:
        """Read one frame; fail the connection once its message passes the limit."""
        message = super()._recv_frame(message)
        if not message.opcode & 8 and sum(map(len, message.data)) > self.max_frame_length:
            raise FailedConnectionError(
                MESSAGE_TOO_BIG, f"A message is at most {self.max_frame_length} bytes."
            )
        return message

    def wait(self) -> Any:
        """Return the next message, after letting the process's other green threads run.

        A client that keeps the socket's buffer full would otherwise have
        every packet handled in one run, and no other connection served.
        """
        eventlet.sleep(0)
        return super().wait()

    @staticmethod
    def _apply_mask(data: bytes, mask: Any, length: int | None = None, offset: int = 0) -> bytes:
        """Unmask ``data`` (RFC 6455, 5.3), XOR-ing it as one integer instead of byte by byte.

        ``mask`` holds the frame's four key bytes; ``offset`` is where ``data``
        starts within the frame's payload.
        """
        length = len(data) if length is None else length
        key = bytes(mask[(offset + i) % 4] for i in range(4))
        stream = (key * (length // 4 + 1))[:length]
        unmasked = int.from_bytes(data[:length], "big") ^ int.from_bytes(stream, "big")
        return unmasked.to_bytes(length, "big")


class BoundedWebSocketWSGI(WebSocketWSGI):  # type: ignore[misc]
    """engine.io's eventlet WebSocket endpoint, speaking RFC 6455 only, with bounded messages."""

    def __init__(self, handler: Any, server: Any) -> None:
        super().__init__(handler, server)
        # No browser has spoken the drafts since 2012; their reader buffers without bound.
        self.support_legacy_versions = False

    def _handle_hybi_request(self, environ: dict[str, Any]) -> BoundedWebSocket:
        """Complete the handshake as eventlet does; read on as :class:`BoundedWebSocket`."""
        accepted = super()._handle_hybi_request(environ)
        return BoundedWebSocket(
            accepted.socket,
            environ,
            accepted.version,
            protocol=accepted.protocol,
            extensions=accepted.extensions,
            max_frame_length=accepted.max_frame_length,
        )
