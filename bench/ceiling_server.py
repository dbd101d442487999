"""The physical ceiling: the thinnest Flask push/pull server on a single table.

What any sync server on this machine, this Python, this WSGI server and this
database must at least spend, so that Weiguang's figures can be read as a
factor of it (issue #16). One table ``item`` (client id, row id, sequence,
JSON body) and a one-row counter; no sign-in, scopes, stamps, idempotency or
conflict rules:

- ``POST /push`` ``{"client_id", "rows": [{"id", "body"}]}``: takes as many
  sequence numbers as rows from the counter (``UPDATE ... RETURNING``, which
  serializes writers as Weiguang's version sequence does) and upserts the
  batch with one multi-row statement, all in one transaction; answers
  ``{"cursor"}``.
- ``GET /pull?since=&limit=``: rows with ``seq > since`` in sequence order,
  bodies parsed, ``{"rows", "cursor", "more"}``.
- ``POST /fill`` ``{"count", "body"}``: appends ``count`` rows with that body,
  made by the database in one statement (the bench's bulk loader for the
  scale curve).
- Live: every Socket.IO client joins one room on connect (no sign-in), and a
  push, once committed, emits one ``changes`` event ``{"prev", "cursor",
  "changes"}`` with its rows to that room before answering: the thinnest live
  announcement (Flask-SocketIO, as Weiguang's).

Same process model as ``weiguang serve``: eventlet patched first, one
process, eventlet's WSGI server with TCP_NODELAY (``server.green.serve``);
SQLite in WAL mode with ``synchronous=NORMAL`` as Weiguang sets it, or
PostgreSQL through psycopg2 (green). Run as
``python -m bench.ceiling_server --port 5001 --database-url sqlite:////tmp/x.db``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS item (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE,"
    " client TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO counter VALUES (1, 0)",
)
POSTGRES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS item (id TEXT PRIMARY KEY, seq BIGINT NOT NULL UNIQUE,"
    " client TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)",
    "INSERT INTO counter VALUES (1, 0) ON CONFLICT DO NOTHING",
)
TAKE = "UPDATE counter SET n = n + {p} WHERE id = 1 RETURNING n"
UPSERT = (
    "INSERT INTO item (id, seq, client, body) VALUES {values} ON CONFLICT (id) DO UPDATE"
    " SET seq = excluded.seq, client = excluded.client, body = excluded.body"
)
ROOM = "everyone"
FILL = {
    "sqlite": "INSERT INTO item (id, seq, client, body)"
    " WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)"
    " SELECT lower(hex(randomblob(16))), ? + i, 'fill', ? FROM n",
    "postgresql": "INSERT INTO item (id, seq, client, body)"
    " SELECT md5(random()::text || i::text), %s + i, 'fill', %s"
    " FROM generate_series(0, %s - 1) AS i",
}
PULL = "SELECT id, seq, client, body FROM item WHERE seq > {p} ORDER BY seq LIMIT {p}"
MAX_LIMIT = 1000


class Database:
    """A small pool of DB-API connections to SQLite (WAL) or PostgreSQL."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine, event

        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.mark = "?" if self.sqlite else "%s"
        if self.sqlite:
            self.engine = create_engine(url, connect_args={"timeout": 15})

            @event.listens_for(self.engine, "connect")
            def on_connect(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.isolation_level = None  # BEGIN is ours
                for pragma in ("journal_mode=WAL", "busy_timeout=15000", "synchronous=NORMAL"):
                    dbapi_connection.execute(f"PRAGMA {pragma}")
        else:
            # psycopg2, as Weiguang's server uses (a bare postgresql:// means psycopg 3).
            url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
            self.engine = create_engine(url, pool_size=10, max_overflow=20)
        with self.transaction() as cursor:
            for statement in SQLITE_SCHEMA if self.sqlite else POSTGRES_SCHEMA:
                cursor.execute(statement)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Any]:
        """Yield a cursor inside one transaction, committed at the end (rolled back on error)."""
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            if self.sqlite:
                cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield cursor
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        finally:
            connection.close()

    def upsert(self, client: str, rows: list[dict[str, Any]]) -> int:
        """Give the rows the next sequence numbers and upsert them in one transaction.

        Returns the last sequence number taken (the new high water).
        """
        rows = list({row["id"]: row for row in rows}.values())
        with self.transaction() as cursor:
            cursor.execute(TAKE.format(p=self.mark), (len(rows),))
            last = int(cursor.fetchone()[0])
            first = last - len(rows) + 1
            values = [
                (row["id"], first + i, client, json.dumps(row["body"], ensure_ascii=False))
                for i, row in enumerate(rows)
            ]
            if values:
                self._insert(cursor, values)
        return last

    def fill(self, count: int, body: dict[str, Any]) -> int:
        """Append ``count`` rows of ``body``, random ids, made in SQL; return the high water."""
        text = json.dumps(body, ensure_ascii=False)
        with self.transaction() as cursor:
            cursor.execute(TAKE.format(p=self.mark), (count,))
            last = int(cursor.fetchone()[0])
            first = last - count + 1
            if self.sqlite:
                cursor.execute(FILL["sqlite"], (count, first, text))
            else:
                cursor.execute(FILL["postgresql"], (first, text, count))
        return last

    def _insert(self, cursor: Any, values: list[tuple[Any, ...]]) -> None:
        """Send the batch as multi-row statements (as SQLAlchemy's insertmanyvalues does)."""
        if self.sqlite:
            # 4 parameters a row, well under SQLite's limit of 32,766 a statement.
            for start in range(0, len(values), 1000):
                chunk = values[start : start + 1000]
                placeholders = ",".join(["(?,?,?,?)"] * len(chunk))
                flat = [value for row in chunk for value in row]
                cursor.execute(UPSERT.format(values=placeholders), flat)
        else:
            from psycopg2.extras import execute_values

            execute_values(cursor, UPSERT.format(values="%s"), values, page_size=1000)

    def pull(self, since: int, limit: int) -> dict[str, Any]:
        """Return the rows after ``since``, at most ``limit``, in sequence order."""
        with self.transaction(write=False) as cursor:
            cursor.execute(PULL.format(p=self.mark), (since, limit))
            fetched = cursor.fetchall()
            if len(fetched) < limit:
                cursor.execute("SELECT n FROM counter WHERE id = 1")
                high_water = int(cursor.fetchone()[0])
        rows = [
            {"id": row[0], "seq": row[1], "client": row[2], "body": json.loads(row[3])}
            for row in fetched
        ]
        more = len(rows) == limit
        return {"rows": rows, "cursor": rows[-1]["seq"] if more else high_water, "more": more}


def create_app(database: Database) -> Any:
    """Return the Flask app of the ceiling server (Socket.IO attached, eventlet mode)."""
    from flask import Flask, request
    from flask_socketio import SocketIO, join_room

    app = Flask("weiguang-ceiling")
    socketio = SocketIO(app, async_mode="eventlet")

    @socketio.on("connect")
    def connect(_auth: Any = None) -> None:
        join_room(ROOM)

    @app.post("/push")
    def push() -> Any:
        body = request.get_json()
        rows = body["rows"]
        cursor = database.upsert(str(body["client_id"]), rows)
        taken = len({row["id"] for row in rows})
        event = {"prev": cursor - taken, "cursor": cursor, "changes": rows}
        socketio.emit("changes", event, to=ROOM)
        return {"cursor": cursor}

    @app.get("/pull")
    def pull() -> Any:
        since = request.args.get("since", 0, type=int)
        limit = max(1, min(request.args.get("limit", MAX_LIMIT, type=int), MAX_LIMIT))
        return database.pull(since, limit)

    @app.post("/fill")
    def fill() -> Any:
        body = request.get_json()
        return {"cursor": database.fill(int(body["count"]), body["body"])}

    @app.get("/health")
    def health() -> Any:
        return {"ok": True}

    return app


def main() -> None:
    """Patch for eventlet first, as ``weiguang serve`` does, then serve the ceiling."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=5001, type=int)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()

    from server import green
    from server.config import DEFAULTS

    green.patch()
    app = create_app(Database(args.database_url))
    # Nothing to hand over on a stop: no sockets, no requests worth draining.
    green.serve(
        app,
        green.listen(args.host, args.port),
        on_stop=lambda: None,
        drain_seconds=0,
        max_connections=DEFAULTS["MAX_CONNECTIONS"],
    )


if __name__ == "__main__":
    main()
