"""Engine set-up per database: SQLite pragmas and transaction handling; query plans."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 15_000
PG_CONNECT_TIMEOUT_S = 5


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
        "pool_pre_ping": True,
        "pool_size": 10,
        "max_overflow": 20,
        "hide_parameters": True,
        # A database host that stopped answering fails the health check
        # (and a request) in seconds instead of hanging it.
        "connect_args": {"connect_timeout": PG_CONNECT_TIMEOUT_S},
    }


def configure_engine(engine: Engine) -> None:
    """Set WAL, foreign keys and a busy timeout on every SQLite connection.

    pysqlite's own transaction handling defers ``BEGIN`` and breaks
    savepoints, so it is switched off and SQLAlchemy emits ``BEGIN`` itself
    (the recipe from SQLAlchemy's SQLite dialect documentation).
    """
    if engine.dialect.name != "sqlite" or getattr(engine, "_weiguang_configured", False):
        return
    engine._weiguang_configured = True  # type: ignore[attr-defined]

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
        connection.exec_driver_sql("BEGIN")


def upgrade_schema() -> None:
    """Create or upgrade the schema to the latest migration (needs an app context)."""
    upgrade()


def plan_of(action: Callable[[], object], *, avoid_seq_scans: bool = False) -> str:
    """Return the database's plan for the last statement ``action`` runs, as text.

    For the tests and the bench, which check which indexes a query uses.
    ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL, where
    ``avoid_seq_scans`` asks whether an index *can* serve the query on a
    table too small for it to pay. Needs an app context; ends the session's
    transaction.
    """
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    statement, params = seen[-1]
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        explain = "EXPLAIN QUERY PLAN "
    else:
        explain = "EXPLAIN "
        if avoid_seq_scans:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql(explain + statement, params).all()
    db.session.rollback()
    return "\n".join(" ".join(map(str, row)) for row in rows)
