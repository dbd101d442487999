"""Checkpoint a file-backed SQLite database's WAL on a thread of its own, off the request path.

In WAL mode a commit appends its pages to the ``-wal`` file; a checkpoint
copies them back into the database file and syncs both. SQLite runs one
automatically inside the commit that takes the WAL past
``wal_autocheckpoint`` pages (1,000 by default), so under eventlet every few
pushes one push's ``COMMIT`` wrote back megabytes and waited for two fsyncs
with every green thread of the process stopped: 21–30 ms of the loop's time
for a push of 250 changesets (issue 16).

:func:`checkpoint_in_background` gives each engine on a database file an
operating-system thread (:func:`server.green.os_threading`, so a real one
under eventlet too) that every :data:`CHECKPOINT_EVERY_S` runs ``PRAGMA
wal_checkpoint(PASSIVE)`` on a connection of its own. The checkpoint's IO
happens in SQLite's C code without the GIL, beside the event loop; a
250-changeset push's commit time (mean) fell from 12–16 ms to 3–7 ms. A
passive checkpoint runs beside readers and writers, other processes'
included: it waits for none of them and they do not wait for it. It copies
the frames that no reader's snapshot still needs and leaves the rest for the
next round.

How big the WAL gets: SQLite starts it over from its beginning only at a
writer that begins after a complete checkpoint. Under pushes back to back
(a bench run, a busy morning) a commit nearly always lands while a round is
running, so the WAL grows until the committing connection checkpoints by
itself at :data:`AUTOCHECKPOINT_PAGES` pages (80 MiB of 4 KiB pages): the
backstop, which is also what keeps the WAL bounded if the thread falls
behind or fails. That commit syncs what the thread has not synced yet and
copies what it has not copied, with the loop stopped, so the thread runs
often (:data:`CHECKPOINT_EVERY_S`) to leave it little: at 0.5 s such a
commit took 20–90 ms, about once every 70 pushes of 250 changesets, and a
push's commit 2.8–3.0 ms on average; at 0.1 s, 10–28 ms and 1.7–1.9 ms
(issue #16, 400 pushes in process). A reader's snapshot (a long pull,
``weiguang backup``) pins the frames after it until it ends, and no
checkpoint of any kind can pass it; the WAL then grows with the writes made
meanwhile.

When the WAL starts over, a file grown past :data:`JOURNAL_SIZE_LIMIT_BYTES`
is truncated to that size (``journal_size_limit``), so a burst a reader
pinned does not leave a large file behind. The limit is above what the
backstop lets the WAL reach: the file is then written over in place, where
cutting it back from 80 to 32 MiB at each restart took 16–23 ms of the
committing push, and writing into the freshly extended file made every
commit slower (median 1.9 against 1.6 ms).

Durability is unchanged or better. With ``synchronous=NORMAL`` (the server's
and the ceiling's setting) a commit is not synced: it survives a crash of
the process at once, and a power cut or a crash of the system only once a
checkpoint has synced the WAL after it, which a checkpoint does before it
copies anything. That is now within a round or two (unless a reader pins
every frame), not after the next 1,000 pages of writes.

Lifecycle: the thread starts at the engine's first connection (in each
process: a forked child starts its own) and stops, closing its connection,
when the engine is disposed or garbage-collected. It never creates the
database file (it opens it ``mode=rw``). A failure (the file gone, an IO
error) does not stop it: it tries again next round; the first one is
logged, once, by the next request returning its connection to the pool,
since logging from a thread of its own could wait on one of eventlet's
green locks.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import weakref
from typing import Any
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import Engine

from server import green

LOGGER = logging.getLogger(__name__)
#: How often the thread checkpoints (seconds).
CHECKPOINT_EVERY_S = 0.1
#: WAL pages past which a commit checkpoints by itself: the backstop.
AUTOCHECKPOINT_PAGES = 20_000
#: Size the WAL file is truncated to when it starts over after growing (bytes):
#: above the backstop's WAL (:data:`AUTOCHECKPOINT_PAGES` frames of a page
#: and a 24-byte header, after a 32-byte file header), so that only a WAL a
#: reader let grow past it is cut back.
JOURNAL_SIZE_LIMIT_BYTES = 128 * 1024 * 1024
#: How long disposing of the engine waits for a checkpoint in progress (seconds).
STOP_WAIT_S = 5.0
THREAD_NAME = "weiguang-wal-checkpoints"


class Checkpointer:
    """The checkpoint thread of one engine in one process, started and stopped with it."""

    def __init__(self) -> None:
        threading = green.os_threading()
        self._lock = threading.Lock()
        self._thread: Any = None
        self._stopping: Any = None
        self._pid = 0
        self._failure: sqlite3.Error | None = None
        self._failed = False

    def running(self) -> bool:
        """Tell whether this process's thread is alive."""
        return self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()

    def start(self, path: str) -> None:
        """Start the thread on the database file at ``path``, unless it runs already."""
        threading = green.os_threading()
        with self._lock:
            if self.running():
                return
            self._stopping = threading.Event()
            self._thread = threading.Thread(
                target=self._checkpoint, args=(path, self._stopping), name=THREAD_NAME, daemon=True
            )
            self._pid = os.getpid()
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait (up to :data:`STOP_WAIT_S`) for it to close its connection."""
        with self._lock:
            thread, stopping = self._thread, self._stopping
            self._thread = self._stopping = None
        if thread is not None and self._pid == os.getpid():
            stopping.set()
            thread.join(STOP_WAIT_S)

    def report(self) -> None:
        """Log the thread's first failure, if it has failed and it is not logged yet."""
        failure, self._failure = self._failure, None
        if failure is None:
            return
        busy = getattr(failure, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
        LOGGER.log(
            logging.DEBUG if busy else logging.WARNING,
            "WAL checkpoint failed (%s); commits checkpoint past %d WAL pages meanwhile",
            failure,
            AUTOCHECKPOINT_PAGES,
        )

    def _checkpoint(self, path: str, stopping: Any) -> None:
        """Checkpoint every :data:`CHECKPOINT_EVERY_S` until ``stopping`` is set: the thread."""
        uri = f"file:{quote(path)}?mode=rw"
        connection = None
        try:
            while not stopping.wait(CHECKPOINT_EVERY_S):
                try:
                    if connection is None:
                        connection = sqlite3.connect(
                            uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False
                        )
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:
                    if not self._failed:
                        self._failed, self._failure = True, error
        finally:
            if connection is not None:
                connection.close()


def checkpoint_in_background(engine: Engine) -> None:
    """Checkpoint the WAL of ``engine``'s database file on a thread (see the module's docstring).

    Each new connection of the pool gets the backstop (``wal_autocheckpoint``)
    and ``journal_size_limit``; the first one in a process whose database is
    a file (not ``:memory:``, a temporary or an in-memory URI database: no
    file in ``PRAGMA database_list``) starts the thread. Disposing of the
    engine stops it; the next connection starts it again.
    """
    checkpointer = Checkpointer()

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT_BYTES}")
        if not checkpointer.running():
            path = next(
                file for _, name, file in cursor.execute("PRAGMA database_list") if name == "main"
            )
            if path:
                checkpointer.start(path)
        cursor.close()

    event.listen(engine, "checkin", lambda dbapi_connection, record: checkpointer.report())
    event.listen(engine, "engine_disposed", lambda engine: checkpointer.stop())
    weakref.finalize(engine, checkpointer.stop)
