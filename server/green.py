"""Make the process cooperate with eventlet: the standard library, psycopg2, long loops.

:func:`patch` is called only from the ``weiguang serve`` entry point, before
Flask is imported, never on import of the package, so tests and other
commands run unpatched. Long loops call :func:`cooperate` (or iterate
:func:`cooperatively`) so that one large request does not keep every other
connection of the process waiting: eventlet switches only when a green
thread waits on IO or sleeps.
"""

import time
import warnings
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
# Items a long loop handles between two chances for the others: a few
# milliseconds of work at most, a switch costs microseconds.
COOPERATE_EVERY = 100


def cooperate() -> None:
    """Let the process's other green threads run now (under threads: a hint to the scheduler).

    ``time.sleep`` is the patched, cooperative one when :func:`patch` has run.
    """
    time.sleep(0)


def cooperatively(items: Iterable[T], every: int = COOPERATE_EVERY) -> Iterator[T]:
    """Yield ``items``, letting the others run before every ``every``-th one."""
    for index, item in enumerate(items):
        if index and index % every == 0:
            cooperate()
        yield item


def patch() -> None:
    """Monkey-patch the standard library, and psycopg2 to wait cooperatively.

    Among the default patches, eventlet's ``psycopg`` one installs a wait
    callback in psycopg2, so a query waiting on PostgreSQL (a lock, a slow
    plan) yields to the other connections of the process instead of blocking
    them all. (Naming any module as ``True`` would patch only that one.)
    """
    with warnings.catch_warnings():
        # Eventlet announces its own deprecation on import; the team chose it
        # as the production async mode knowingly (see docs/architecture.md).
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

    eventlet.monkey_patch()


def listen(host: str, port: int) -> object:
    """Bind and return the listening socket, alone on its port.

    eventlet's ``listen`` sets ``SO_REUSEPORT`` unless told not to, and with
    it a second server on the same port starts without a word while the
    kernel splits the connections between the two. Without it the bind
    fails with ``EADDRINUSE`` as it should.

    :raises OSError: if the address cannot be bound.
    """
    import eventlet

    return eventlet.listen((host, port), reuse_port=False)


def serve(app: object, listener: object) -> None:
    """Serve ``app`` with eventlet's WSGI server, as Flask-SocketIO would, but with TCP_NODELAY.

    Without it, a response whose last segment is small waits for the
    client's delayed ACK (Nagle's algorithm): a gzipped pull page took 40 ms
    longer than the same page uncompressed. Linux hands the option on from
    the listening socket to every accepted one.
    """
    import socket

    import eventlet.wsgi

    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]
    eventlet.wsgi.server(listener, app, log_output=False)
