"""Bench-only floor endpoints: the same work as push, pull and announce, bare.

Each endpoint does the least a real one could and still move the same data,
so that a real figure can be given as a ratio of it:

- ``POST /bench/floor/upsert`` writes the rows a push would (``record`` and
  ``record_scope``, versions from ``sync_state``) in one transaction, with
  no auth, validation, conflict rules or changeset log;
- ``GET /bench/floor/query`` runs the one query a pull of one compound needs;
- ``POST /bench/floor/generate``, ``GET /bench/floor/records`` and
  ``POST /bench/floor/analyze`` serve the scale curve's bulk loads
  (``bench/ceiling.py``): the database itself makes the rows, so that a
  million records load in minutes;
- ``POST /bench/floor/emit`` emits a given payload to a Socket.IO room.

``GET /bench/floor/demo`` tells the bench the demo compounds' ids and the
room a volunteer of compound A listens in, as the server names them, so the
bench process imports nothing of the server; ``GET /bench/floor/process``,
the server's process id.

Registered only by ``bench/serve.py``; never part of the app.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request
from sqlalchemy import delete, func, insert, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from bench.ids import unix_ms_of, uuid7
from server import scopes, seed
from server.extensions import db, socketio
from server.models import RecordRow, RecordScope, SyncState
from server.store import scope_from_text, scope_to_text
from sync.records import Scope

bp = Blueprint("bench_floor", __name__, url_prefix="/bench/floor")
BENCH_USER_ID = 0
UPDATED_COLUMNS = ("version", "deleted", "fields", "stamps", "scope")


def dialect_insert(table: Any) -> Any:
    """Return the dialect's ``INSERT`` construct that knows ``ON CONFLICT``."""
    module = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def take_versions(count: int) -> range:
    """Take ``count`` versions from the one sequence, as a push does."""
    high_water = db.session.execute(
        update(SyncState)
        .where(SyncState.id == 1)
        .values(high_water=SyncState.high_water + count)
        .returning(SyncState.high_water)
    ).scalar_one()
    return range(high_water - count + 1, high_water + 1)


def upsert_records() -> Any:
    """Return ``INSERT ... ON CONFLICT (id) DO UPDATE`` into ``record``, batched.

    ``RETURNING`` is there for speed, not for its rows: without it SQLAlchemy
    does not batch an ``ON CONFLICT`` statement ("insertmanyvalues") and
    psycopg2's ``executemany`` sends it to PostgreSQL one row at a time.
    """
    table = RecordRow.__table__
    statement = dialect_insert(table)
    return statement.on_conflict_do_update(
        index_elements=["id"],
        set_={name: statement.excluded[name] for name in UPDATED_COLUMNS if name in table.c},
    ).returning(table.c.id)


def replaced_scopes(ids: list[str]) -> Any:
    """Return the ``DELETE`` of the scope rows of the stored versions of records ``ids``.

    As a push replaces a record's scope rows (``server.store.SqlStore.flush``):
    the rows are keyed by place and version.
    """
    stored = db.session.execute(
        select(RecordRow.version, RecordRow.scope).where(RecordRow.id.in_(ids))
    ).all()
    keys = [
        (place, version)
        for version, scope in stored
        for place in scope_from_text(scope).compound_ids
    ]
    key = tuple_(RecordScope.compound_id, RecordScope.version)
    return delete(RecordScope).where(key.in_(keys)) if keys else None


@bp.post("/upsert")
def upsert() -> Any:
    """Upsert ``{"rows": [{"type", "id", "fields", "compound_id", "building_id"?}]}``."""
    # A record twice in one statement is an error on PostgreSQL; the last write wins,
    # as in the real store, which buffers a push's writes by record id.
    rows = list({row["id"]: row for row in request.get_json()["rows"]}.values())
    made_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    versions = take_versions(len(rows))
    records = [
        {
            "id": row["id"],
            "type": row["type"],
            "version": version,
            "deleted": False,
            "fields": row["fields"],
            "stamps": {name: [version, made_at, BENCH_USER_ID] for name in row["fields"]},
            "scope": scope_to_text(Scope(frozenset({row["compound_id"]}), row.get("building_id"))),
        }
        for version, row in zip(versions, rows, strict=True)
    ]
    scopes = [
        {
            "record_id": row["id"],
            "compound_id": row["compound_id"],
            "building_id": row.get("building_id"),
            "record_type": row["type"],
            "version": version,
        }
        for version, row in zip(versions, rows, strict=True)
    ]
    if rows:
        replaced = replaced_scopes([row["id"] for row in rows])
        if replaced is not None:
            db.session.execute(replaced)
        db.session.execute(upsert_records(), records).all()
        db.session.execute(insert(RecordScope), scopes)
    db.session.commit()
    return {"rows": len(rows), "cursor": versions[-1] if rows else None}


#: Records a transaction of ``/generate``: other requests get the writer lock between them.
GENERATE_BATCH = 50_000
#: Each record's id, as a device would make it (``bench/ids.py``): a UUID version 7
#: (RFC 9562 §5.7) whose time and version, ``:id_prefix`` (``xxxxxxxx-xxxx-7``),
#: are made once a request, and whose 32-bit counter is the record's version
#: (``:first + i``), so ids made later sort later; 42 random bits end it.
V7_TAIL = {
    "sqlite": (
        "printf('%03x-%x%03x-%02x', ((:first + i) >> 20) & 4095, 8 | (((:first + i) >> 18) & 3),"
        " ((:first + i) >> 6) & 4095, (((:first + i) & 63) << 2) | (abs(random()) % 4))"
        " || lower(hex(randomblob(5)))"
    ),
    "postgresql": (
        "lpad(to_hex(((:first + i::bigint) >> 20) & 4095), 3, '0') || '-'"
        " || to_hex(8 | (((:first + i::bigint) >> 18) & 3))"
        " || lpad(to_hex(((:first + i::bigint) >> 6) & 4095), 3, '0') || '-'"
        " || lpad(to_hex((((:first + i::bigint) & 63) << 2) | floor(random() * 4)::bigint),"
        " 2, '0')"
        " || left(md5(random()::text), 10)"
    ),
}
#: Stands for each record's version in the stamps text ``/generate`` is given.
VERSION_MARK = '"@version"'
GENERATE = {
    "sqlite": text(
        "INSERT INTO record (id, type, version, deleted, fields, stamps, scope)"
        " WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :count)"
        f" SELECT :id_prefix || {V7_TAIL['sqlite']}, :type, :first + i, 0, :fields,"
        f" replace(:stamps, '{VERSION_MARK}', CAST(:first + i AS TEXT)), :scope FROM n"
    ),
    "postgresql": text(
        "INSERT INTO record (id, type, version, deleted, fields, stamps, scope)"
        f" SELECT :id_prefix || {V7_TAIL['postgresql']}, :type, :first + i, false,"
        " CAST(:fields AS jsonb),"
        f" CAST(replace(:stamps, '{VERSION_MARK}', (:first + i)::text) AS json), :scope"
        " FROM generate_series(0, :count - 1) AS i"
    ),
}
GENERATE_SCOPES = text(
    "INSERT INTO record_scope (record_id, compound_id, building_id, record_type, version)"
    " SELECT id, :compound_id, NULL, type, version FROM record WHERE version >= :first"
)


@bp.post("/generate")
def generate() -> Any:
    """Append ``{"count", "type", "compound_id", "fields"}``: that many new records, made in SQL.

    Each record is what ``/upsert`` writes for a row with those fields (a
    stamp a field at the record's version, the compound's scope row), with a
    UUID version 7 of now (:data:`V7_TAIL`), versions taken from the sequence;
    :data:`GENERATE_BATCH` records a transaction. Answers ``{"rows", "cursor"}``.
    """
    body = request.get_json()
    count, compound_id = int(body["count"]), str(body["compound_id"])
    # As the engine encodes the JSON columns of the rows a push writes.
    serialize = db.engine.dialect._json_serializer or json.dumps
    now = datetime.now(UTC)
    made_at = now.isoformat().replace("+00:00", "Z")
    stamps = serialize({name: ["@version", made_at, BENCH_USER_ID] for name in body["fields"]})
    params = {
        "type": str(body["type"]),
        "fields": serialize(body["fields"]),
        "stamps": stamps,
        "scope": scope_to_text(Scope(frozenset({compound_id}), None)),
        "compound_id": compound_id,
        "id_prefix": uuid7(unix_ms_of(now), 0)[: len("xxxxxxxx-xxxx-7")],
    }
    statement = GENERATE[db.engine.dialect.name]
    cursor = None
    for start in range(0, count, GENERATE_BATCH):
        size = min(GENERATE_BATCH, count - start)
        first = take_versions(size)[0]
        db.session.execute(statement, {**params, "count": size, "first": first})
        db.session.execute(GENERATE_SCOPES, {"compound_id": compound_id, "first": first})
        db.session.commit()
        cursor = first + size - 1
    return {"rows": count, "cursor": cursor}


@bp.get("/query")
def query() -> Any:
    """Return one compound's records with versions above ``cursor``, as a pull page."""
    compound_id = request.args["compound_id"]
    cursor = request.args.get("cursor", 0, type=int)
    limit = request.args.get("limit", 1000, type=int)
    rows = db.session.execute(
        select(
            RecordRow.type, RecordRow.id, RecordRow.version, RecordRow.deleted, RecordRow.fields
        )
        .join(RecordScope, RecordScope.version == RecordRow.version)
        .where(RecordScope.compound_id == compound_id, RecordRow.version > cursor)
        .order_by(RecordRow.version)
        .limit(limit)
    ).all()
    changes = [row._asdict() for row in rows]
    db.session.rollback()  # end the read transaction at once, as a pull view would
    return {
        "changes": changes,
        "cursor": changes[-1]["version"] if changes else cursor,
        "more": len(changes) == limit,
    }


@bp.post("/emit")
def emit() -> Any:
    """Emit ``{"room", "event", "payload"}`` to one room, with no database at all."""
    body = request.get_json()
    socketio.emit(body.get("event", "changes"), body["payload"], to=body["room"])
    return "", 204


@bp.get("/demo")
def demo() -> Any:
    """Return the demo compounds' ids by letter and the volunteer room of compound A."""
    compounds = {letter: seed.stable_id("compound", letter) for letter in "ABC"}
    return {
        "compounds": compounds,
        "volunteer_room_a": scopes.audience_room("volunteer", "compounds", "", [compounds["A"]]),
    }


@bp.get("/process")
def process() -> Any:
    """Return this server's process id (the ceiling bench reads its CPU time from /proc)."""
    return {"pid": os.getpid()}


@bp.get("/records")
def records() -> Any:
    """Return how many rows ``record`` holds (the scale curve's bulk loader tops it up)."""
    return {"records": db.session.scalar(select(func.count()).select_from(RecordRow))}


@bp.post("/analyze")
def analyze() -> Any:
    """``ANALYZE`` on PostgreSQL after a bulk load, as autovacuum would; nothing on SQLite."""
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return {"analyzed": db.engine.dialect.name == "postgresql"}
