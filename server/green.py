"""Make the process cooperate with eventlet: the standard library, psycopg2, long loops.

:func:`patch` is called only from the ``weiguang serve`` entry point, before
Flask is imported, never on import of the package, so tests and other
commands run unpatched. Long loops call :func:`cooperate` (or iterate
:func:`cooperatively`) so that one large request does not keep every other
connection of the process waiting: eventlet switches only when a green
thread waits on IO or sleeps. A block that makes many short-lived objects
runs with the cyclic collector paused (:func:`collector_paused`).
"""

import functools
import gc
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, TypeVar

T = TypeVar("T")
# Items a long loop handles between two chances for the others: a few
# milliseconds of work at most, a switch costs microseconds.
COOPERATE_EVERY = 100
# Connections the kernel queues before the server accepts them (eventlet's
# default, 50, overflowed when a thousand devices reconnected at once; Linux
# caps it at net.core.somaxconn).
LISTEN_BACKLOG = 1024
# How often a serving process looks whether it was asked to stop.
STOP_POLL_SECONDS = 0.2


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


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block, if it runs.

    For a block that makes thousands of objects that hold no cycle and die
    with it (a first sync's page of records): the collector, which runs
    every 700 new objects, went over them again and again while they
    lived, about a tenth of a page's time (issue #16); reference counting
    frees them all the same. Pauses of other threads or green threads may
    overlap; the collector runs again when the one that paused it ends.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def readable_now(fd: int) -> bool:
    """Tell whether ``fd`` has bytes to read or was closed by its peer, without waiting.

    Asks the kernel through the standard library's ``select.poll``: eventlet's
    patch removes it from ``select``, and the green ``select.select`` would
    switch to the hub for a question the kernel answers at once.
    """
    import select

    poller = _poll()()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


@functools.cache
def _poll() -> Callable[[], Any]:
    """Return ``select.poll``, the original one if eventlet has patched ``select``."""
    import select

    if hasattr(select, "poll"):
        return select.poll
    from eventlet.patcher import original

    return original("select").poll  # type: ignore[no-any-return]


def os_threading() -> ModuleType:
    """Return the standard library's ``threading`` as it was before eventlet's patch, if any.

    For work that must run on an operating-system thread beside eventlet's
    loop, a C call that blocks (an fsync) without stopping every green
    thread: its ``Thread`` is a real one, and its ``Event`` and ``Lock``
    are real ones too, which that thread can wait on (a green lock waited
    on from another thread would switch to a hub of that thread, never to
    be woken).
    """
    if "eventlet.patcher" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("thread"):
            return patcher.original("threading")  # type: ignore[no-any-return]
    return threading


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

    return eventlet.listen((host, port), reuse_port=False, backlog=LISTEN_BACKLOG)


def serve(
    app: object,
    listener: object,
    *,
    on_stop: Callable[[], object],
    drain_seconds: float,
    max_connections: int,
) -> None:
    """Serve ``app`` with eventlet's WSGI server until SIGTERM or SIGINT, then stop gracefully.

    TCP_NODELAY: without it, a response whose last segment is small waits for
    the client's delayed ACK (Nagle's algorithm): a gzipped pull page took
    40 ms longer than the same page uncompressed. Linux hands the option on
    from the listening socket to every accepted one.

    ``max_connections`` bounds the green threads serving connections at once.
    Each live socket holds one for its whole life, so eventlet's default
    (1,024) left no room for pulls and pushes once a thousand devices were
    connected: the rest waited unaccepted and nginx answered 502 and 504.

    A graceful stop (:func:`drain`) on the first signal; a second one ends the
    process at once.
    """
    import socket

    import eventlet
    import eventlet.wsgi

    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]
    server = eventlet.spawn(
        eventlet.wsgi.server, listener, app, log_output=False, max_size=max_connections
    )
    asked: list[int] = []

    def ask_to_stop(signum: int, frame: object) -> None:
        # Runs between two bytecodes of whichever green thread: note it only.
        if asked:
            os._exit(128 + signum)
        asked.append(signum)

    signal.signal(signal.SIGTERM, ask_to_stop)
    signal.signal(signal.SIGINT, ask_to_stop)
    while not asked and not server.dead:
        eventlet.sleep(STOP_POLL_SECONDS)
    if asked:
        drain(server, listener, on_stop, drain_seconds)
    else:
        server.wait()  # it ended by itself: raise what ended it


def drain(server: Any, listener: Any, on_stop: Callable[[], object], drain_seconds: float) -> None:
    """Stop accepting, send the sockets elsewhere, let requests in flight finish.

    eventlet's WSGI server, stopped by ``SystemExit``, stops accepting, closes
    its idle keep-alive connections and lets busy ones finish their request
    (a push to its commit and answer) before closing them. The listening
    socket is closed at once, so that new connections are refused (nginx
    sends them to another process) rather than left in its backlog.
    ``on_stop`` then drops the live sockets, which are requests that never
    end by themselves. After ``drain_seconds`` whatever still runs is cut.
    """
    import eventlet

    server.kill(SystemExit)
    listener.close()
    on_stop()
    with eventlet.Timeout(drain_seconds, False):
        server.wait()
