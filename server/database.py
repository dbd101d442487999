"""Engine set-up: SQLite pragmas, transactions, writer lock; prepared statements; query plans."""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import weakref
from collections.abc import Callable
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.exc import DisconnectionError

from server import checkpoints, green
from server.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 15_000
PG_CONNECT_TIMEOUT_S = 5
# Connections per process: 10 kept, 20 more under load. Under eventlet a
# process serves thousands of requests at once; the rest wait for a pooled
# connection, in turn, up to PG_POOL_WAIT_S, and only then get a retryable
# 503 (server/errors.py): a wait that long means the process is overloaded.
PG_POOL_SIZE, PG_POOL_OVERFLOW, PG_POOL_WAIT_S = 10, 20, 30
# The allocator's connections per process (``allocator``): one kept, a few
# more when pushes take blocks at once; its wait for the sequence's row, at
# most, before the push is run again (``server.store.RACES``).
ALLOCATOR_POOL_SIZE, ALLOCATOR_POOL_OVERFLOW, ALLOCATOR_LOCK_TIMEOUT_MS = 1, 4, 2_000
# Statements that never write, by their first keyword. A savepoint counts
# as a write: the transaction must not be restarted under it (see below).
READING_STATEMENTS = frozenset(
    {"SELECT", "VALUES", "PRAGMA", "EXPLAIN", "BEGIN", "COMMIT", "ROLLBACK", "RELEASE"}
)
# Where a DBAPI connection notes that its transaction holds the writer lock.
HOLDS_WRITER_LOCK = "weiguang_holds_writer_lock"
# Where a PostgreSQL connection's pool entry keeps the names of the statements
# prepared on it (:func:`execute_prepared`).
PREPARED_NAMES = "weiguang_prepared"
# Statements prepared on one connection at most (:func:`execute_prepared`): each
# holds its plan in the server's backend, some 100 KB for a push's writes, so at
# most a few MB a connection; and statements whose prepared forms are kept
# (each push's combination of tables written is a statement, a dozen or two).
MOST_PREPARED, MOST_PREPARED_FORMS = 32, 1024
# psycopg2's placeholders, and its escaped percent sign, in a statement's text.
_PLACEHOLDER = re.compile(r"%[%s]")
# The name a prepared statement's ``EXECUTE`` or ``PREPARE`` runs.
_EXECUTED = re.compile(r"(?:EXECUTE|PREPARE) (weiguang_[0-9a-f]{16})\b")
_PREPARED_FORMS: dict[str, tuple[str, str, str, int]] = {}


class DatabaseBusy(Exception):
    """Another write transaction held SQLite's writer lock for the whole busy timeout.

    Retryable: answered 503 with ``Retry-After`` (``server/errors.py``).
    """


def engine_options(url: str) -> dict[str, Any]:
    """Return SQLAlchemy engine options suited to the database in ``url``.

    ``hide_parameters`` keeps a statement's values (a resident's name, a
    phone) out of the error messages that reach the logs.
    """
    if url.startswith("sqlite"):
        return {
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            "hide_parameters": True,
        }
    return {
        "pool_size": PG_POOL_SIZE,
        "max_overflow": PG_POOL_OVERFLOW,
        "pool_timeout": PG_POOL_WAIT_S,
        "hide_parameters": True,
        # A database host that stopped answering fails the health check
        # (and a request) in seconds instead of hanging it.
        "connect_args": {"connect_timeout": PG_CONNECT_TIMEOUT_S},
    }


_allocators: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def allocator(engine: Engine) -> Engine:
    """Return the engine of ``engine``'s transactions of their own (PostgreSQL; made on first use).

    Autocommit: each statement commits at once (durably: the database's
    ``synchronous_commit``). A large push takes its versions there, so
    that the row of ``sync_state`` is locked only for that statement, not
    to the push's commit (``docs/sync.md``, "Parallel pushes on
    PostgreSQL"). A wait for that row longer than
    :data:`ALLOCATOR_LOCK_TIMEOUT_MS` fails (``55P03``): the push holding
    it may be waiting for this one's rows. Disposed of with ``engine``.
    """
    own = _allocators.get(engine)
    if own is None:
        own = create_engine(
            engine.url,
            isolation_level="AUTOCOMMIT",
            pool_size=ALLOCATOR_POOL_SIZE,
            max_overflow=ALLOCATOR_POOL_OVERFLOW,
            pool_timeout=PG_POOL_WAIT_S,
            hide_parameters=True,
            connect_args={
                "connect_timeout": PG_CONNECT_TIMEOUT_S,
                "options": f"-c lock_timeout={ALLOCATOR_LOCK_TIMEOUT_MS}",
            },
        )
        configure_engine(own)
        event.listen(engine, "engine_disposed", lambda _engine: own.dispose())
        _allocators[engine] = own
    return own


def configure_engine(engine: Engine) -> None:
    """Check each PostgreSQL connection as it leaves the pool; set up SQLite's connections.

    PostgreSQL: :func:`refuse_closed_connection`. SQLite: WAL, foreign keys
    and a busy timeout on every connection, and its writers queued.
    pysqlite's own transaction handling defers ``BEGIN`` and breaks
    savepoints, so it is switched off and SQLAlchemy emits ``BEGIN`` itself
    (the recipe from SQLAlchemy's SQLite dialect documentation). Writers
    queue on a lock of the process (:func:`queue_writers`); a thread
    checkpoints the WAL (:func:`server.checkpoints.checkpoint_in_background`).
    """
    if getattr(engine, "_weiguang_configured", False):
        return
    engine._weiguang_configured = True  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", refuse_closed_connection)
    if engine.dialect.name != "sqlite":
        return
    queue_writers(engine)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # Straight to the driver: a BEGIN needs none of SQLAlchemy's
        # statement machinery (a twentieth of an empty pull, issue #16), and
        # the writer lock's hooks let it through anyway (it only reads).
        connection.connection.dbapi_connection.execute("BEGIN")

    checkpoints.checkpoint_in_background(engine)  # after on_connect: WAL first


def refuse_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Have the pool replace a PostgreSQL connection the server has closed (a ``checkout`` hook).

    A pooled connection is idle: the server sends it nothing unless it ends
    it (a restart, ``pg_terminate_backend``, an idle timeout), with an error
    message and the socket's end. So a connection with anything to read is
    gone, and the pool, told by :class:`~sqlalchemy.exc.DisconnectionError`,
    connects afresh: the first request after a database restart is answered,
    not failed. SQLAlchemy's ``pool_pre_ping`` did the same with a round
    trip at every checkout, a third of an up-to-date pull's time (issue #16).
    """
    if green.readable_now(dbapi_connection.fileno()):
        raise DisconnectionError("the database closed this connection")


def queue_writers(engine: Engine) -> None:
    """Make the write transactions of ``engine``'s connections take turns on a lock of the process.

    SQLite has one writer at a time; a second one waits in SQLite's busy
    handler, a sleep in C that blocks every green thread of an eventlet
    process. A push that yields in the middle of its transaction
    (``server/store.py``) while another green thread sleeps there never
    resumes: both wait the whole busy timeout and one fails with "database is
    locked". So a transaction takes this lock before its first write (any
    statement but :data:`READING_STATEMENTS`) and keeps it until its commit
    or rollback; a waiter waits on the lock, which is a green one once
    eventlet has patched ``threading`` (``weiguang serve``), an ordinary one
    under threads. SQLite's own lock is then free whenever ours is, and the
    busy handler only ever waits for another process (a command line run
    beside the server).

    A transaction that read before its first write restarts at that write
    (``COMMIT``, then ``BEGIN IMMEDIATE``): its snapshot may predate the
    writer it waited for, and SQLite refuses a stale snapshot's write at once
    (``SQLITE_BUSY_SNAPSHOT``). Its later statements see the database as it
    is, as every statement of a PostgreSQL ``READ COMMITTED`` transaction
    does, which the code already expects.

    :raises DatabaseBusy: from a write that waited :data:`SQLITE_BUSY_TIMEOUT_MS`
        for the lock (the busy timeout's bound, now kept in Python).
    """
    lock = threading.Lock()  # created after eventlet's patch, so green under it
    timeout_s = SQLITE_BUSY_TIMEOUT_MS / 1000

    def release(info: dict[str, Any]) -> None:
        if info.pop(HOLDS_WRITER_LOCK, False):
            lock.release()

    @event.listens_for(engine, "before_cursor_execute")
    def before_write(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if conn.info.get(HOLDS_WRITER_LOCK) or statement_reads(statement):
            return
        if not lock.acquire(timeout=timeout_s):
            raise DatabaseBusy(
                f"another write held the database for {timeout_s:g} s; try again shortly"
            )
        conn.info[HOLDS_WRITER_LOCK] = True
        dbapi_connection = conn.connection.dbapi_connection
        if dbapi_connection.in_transaction:
            try:
                dbapi_connection.execute("COMMIT")  # it only read: nothing is lost
                dbapi_connection.execute("BEGIN IMMEDIATE")
            except BaseException:
                release(conn.info)
                raise

    @event.listens_for(engine, "after_cursor_execute")
    def after_autocommit_write(conn: Any, *rest: Any) -> None:
        # A write outside a transaction (none of ours) ends with its statement.
        if not conn.connection.dbapi_connection.in_transaction:
            release(conn.info)

    # A transaction ends by commit or rollback; the pool's events catch a
    # connection returned, reset or dropped without either.
    for name in ("commit", "rollback"):
        event.listen(engine, name, lambda conn: release(conn.info))

    @event.listens_for(engine, "reset")
    def on_reset(dbapi_connection: Any, record: Any, reset_state: Any) -> None:
        release(record.info)

    @event.listens_for(engine, "invalidate")
    def on_invalidate(dbapi_connection: Any, record: Any, exception: Any) -> None:
        release(record.info)

    for name in ("checkin", "close"):
        event.listen(engine, name, lambda dbapi_connection, record: release(record.info))


def statement_reads(statement: str) -> bool:
    """Tell whether an SQL statement never writes: its first word is in :data:`READING_STATEMENTS`.

    Conservative: anything else (a ``WITH``, say) counts as a write.
    """
    words = statement.split(None, 1)
    return bool(words) and words[0].upper() in READING_STATEMENTS


def execute_prepared(
    connection: Connection, sql: str, params: tuple[Any, ...]
) -> CursorResult[Any]:
    """Run ``sql`` with ``params`` as a statement prepared on the connection (PostgreSQL).

    The first run on a database connection sends ``PREPARE`` (the statement
    with ``$1``, ``$2``... for psycopg2's ``%s``), every run ``EXECUTE`` with
    the parameters, so that the server parses, analyses and plans the
    statement once a connection instead of at every run: for a push's
    statement of writes (``server.store.send_together``) that was about a
    tenth of the server's CPU, 1.4 of 14 ms a 250-change push (issue #16).

    The names prepared are kept in the pool entry's ``info``, which lives as
    long as the database connection: a connection replaced (invalidated,
    recycled) starts with none, as its new session does. A prepared statement
    outlives the transaction that prepared it, committed or rolled back
    (PostgreSQL's ``PREPARE``); one that fails to prepare is not noted. Past
    :data:`MOST_PREPARED` on a connection, all of them are let go first
    (``DEALLOCATE ALL``). For statements that return no rows: a prepared
    query's result columns may not change under it (a migration's).

    :param sql: psycopg2's form: ``%s`` placeholders, ``%%`` for a percent sign.
    :raises ValueError: if ``params`` are not one a placeholder.
    """
    name, prepare, execute, count = _prepared_forms(sql)
    if len(params) != count:
        raise ValueError(f"{count} placeholders, {len(params)} parameters")
    prepared = connection.connection.info.setdefault(PREPARED_NAMES, set())
    if name not in prepared:
        if len(prepared) >= MOST_PREPARED:
            connection.exec_driver_sql("DEALLOCATE ALL")
            prepared.clear()
        connection.exec_driver_sql(prepare)
        prepared.add(name)
    return connection.exec_driver_sql(execute, params)


def prepared_sql(statement: str) -> str:
    """Return the SQL ``statement`` runs: for a prepared one's ``EXECUTE`` or ``PREPARE``, its own.

    Any other statement as it is. For the tests, which read what a push sends
    (:func:`execute_prepared`).
    """
    named = _EXECUTED.match(statement)
    if named is None:
        return statement
    return next((sql for sql, forms in _PREPARED_FORMS.items() if forms[0] == named[1]), statement)


def _prepared_forms(sql: str) -> tuple[str, str, str, int]:
    """Return the name, ``PREPARE`` and ``EXECUTE`` texts and placeholder count of ``sql``."""
    forms = _PREPARED_FORMS.get(sql)
    if forms is None:
        if len(_PREPARED_FORMS) >= MOST_PREPARED_FORMS:  # never, with the statements made now
            _PREPARED_FORMS.clear()
        name = "weiguang_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest()
        numbers = itertools.count(1)
        body = _PLACEHOLDER.sub(lambda m: m[0] if m[0] == "%%" else f"${next(numbers)}", sql)
        count = next(numbers) - 1
        marks = f"({', '.join(['%s'] * count)})" if count else ""
        forms = name, f"PREPARE {name} AS {body}", f"EXECUTE {name}{marks}", count
        _PREPARED_FORMS[sql] = forms
    return forms


def upgrade_schema() -> None:
    """Create or upgrade the schema to the latest migration (needs an app context)."""
    upgrade()


def last_statement(action: Callable[[], object]) -> tuple[str, Any]:
    """Run ``action``; return the last SQL statement it sent and its parameters (DB-API form).

    For the tests and the bench, which look at how the database runs a query.
    Needs an app context.
    """
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return seen[-1]


def plan_of(
    action: Callable[[], object], *, avoid_seq_scans: bool = False, avoid_sorts: bool = False
) -> str:
    """Return the database's plan for the last statement ``action`` runs, as text.

    For the tests and the bench, which check which indexes a query uses.
    ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL, where
    ``avoid_seq_scans`` asks whether an index *can* serve the query on a
    table too small for it to pay, and ``avoid_sorts`` whether one can give
    its ORDER BY (a sort of a test-sized table costs nothing). Needs an app
    context; ends the session's transaction.
    """
    statement, params = last_statement(action)
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        explain = "EXPLAIN QUERY PLAN "
    else:
        explain = "EXPLAIN "
        if avoid_seq_scans:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        if avoid_sorts:
            connection.exec_driver_sql("SET LOCAL enable_sort = off")
    rows = connection.exec_driver_sql(explain + statement, params).all()
    db.session.rollback()
    return "\n".join(" ".join(map(str, row)) for row in rows)
