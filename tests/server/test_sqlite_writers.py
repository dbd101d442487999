"""SQLite's writers queue on a lock of the process (``server/database.py``, ``queue_writers``).

Every way a write transaction ends frees the next writer; a transaction
that read before another writer committed still writes (restarted at its
first write, as under PostgreSQL's READ COMMITTED); a writer that waits past
the busy timeout gets a retryable 503 and nothing is written. The served
case, where a push yields in the middle of its transaction under eventlet,
is ``tests/server/test_fairness_served.py``.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text, update

from server import database, seed
from server.extensions import db
from server.models import SyncState
from tests.conftest import make_app
from tests.helpers import a_task_create, bearer, sign_in

COMPOUND_A = seed.stable_id("compound", "A")
# Long enough for an uncontended write on a loaded machine, short for a test.
SHORT_BUSY_TIMEOUT_MS = 1_000
MOVE_SEQUENCE = update(SyncState).where(SyncState.id == 1).values(high_water=SyncState.high_water)


@pytest.fixture
def short_timeout_app(sqlite_url, monkeypatch):
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", SHORT_BUSY_TIMEOUT_MS)
    app = make_app(sqlite_url)
    with app.app_context():
        yield app
        db.engine.dispose()


def a_push():
    return {
        "client_id": "c",
        "changesets": [
            {
                "id": str(uuid.uuid4()),
                "made_at": "2022-04-02T10:00:00.000Z",
                "changes": [a_task_create(COMPOUND_A)],
            }
        ],
    }


def end_by_commit(connection):
    connection.commit()


def end_by_rollback(connection):
    connection.rollback()


def end_by_closing(connection):
    connection.close()


def end_by_a_failed_statement_and_rollback(connection):
    with pytest.raises(Exception, match="no such table"):
        connection.execute(text("INSERT INTO no_such_table VALUES (1)"))
    connection.rollback()


def end_by_invalidating(connection):
    connection.invalidate()


@pytest.mark.parametrize(
    "end",
    [
        end_by_commit,
        end_by_rollback,
        end_by_closing,
        end_by_a_failed_statement_and_rollback,
        end_by_invalidating,
    ],
)
def test_every_way_a_write_transaction_ends_frees_the_next_writer(short_timeout_app, end):
    first = db.engine.connect()
    first.execute(MOVE_SEQUENCE)
    end(first)
    # A held lock would make this wait the whole (short) timeout and raise.
    with db.engine.begin() as second:
        second.execute(MOVE_SEQUENCE)
    if not first.invalidated:
        first.close()


def test_a_write_blocked_past_the_busy_timeout_is_a_retryable_503_that_writes_nothing(
    short_timeout_app,
):
    client = short_timeout_app.test_client()
    token = sign_in(client, "coord")
    before = db.session.scalar(select(SyncState.high_water))
    db.session.rollback()
    holder = db.engine.connect()
    holder.execute(MOVE_SEQUENCE)  # another writer, in the middle of its transaction
    try:
        refused = client.post("/api/v1/sync/push", json=a_push(), headers=bearer(token))
    finally:
        holder.rollback()
        holder.close()
    assert refused.status_code == 503, refused.get_json()
    assert refused.mimetype == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["type"].endswith("/database-busy")
    assert db.session.scalar(select(SyncState.high_water)) == before
    db.session.rollback()
    body = a_push()
    retried = client.post("/api/v1/sync/push", json=body, headers=bearer(token))
    assert retried.status_code == 200
    assert retried.get_json()["results"][0]["status"] == "applied"


def test_a_transaction_that_read_before_another_writer_committed_still_writes(
    short_timeout_app,
):
    # SQLite refuses at once the write of a transaction whose snapshot is
    # older than the last commit (SQLITE_BUSY_SNAPSHOT, "database is locked").
    reader = db.engine.connect()
    reader.begin()
    seen = reader.scalar(select(SyncState.high_water))
    with db.engine.begin() as other:
        other.execute(update(SyncState).where(SyncState.id == 1).values(high_water=seen + 1))
    reader.execute(
        update(SyncState).where(SyncState.id == 1).values(high_water=SyncState.high_water + 1)
    )
    reader.commit()
    reader.close()
    # Restarted at its first write, it built on the other writer's commit.
    assert db.session.scalar(select(SyncState.high_water)) == seen + 2


@pytest.mark.parametrize(
    ("statement", "reads"),
    [
        ("SELECT 1", True),
        ("  select * from record", True),
        ("PRAGMA data_version", True),
        ("BEGIN", True),
        ("COMMIT", True),
        ("ROLLBACK TO SAVEPOINT sa_1", True),
        ("RELEASE SAVEPOINT sa_1", True),
        ("EXPLAIN QUERY PLAN SELECT 1", True),
        ("INSERT INTO record VALUES (1)", False),
        ("UPDATE sync_state SET high_water = 1", False),
        ("delete from record", False),
        ("SAVEPOINT sa_1", False),
        ("WITH x AS (SELECT 1) DELETE FROM record", False),
        ("CREATE TABLE t (a)", False),
        ("", False),
    ],
)
def test_statements_are_writes_unless_they_surely_read(statement, reads):
    assert database.statement_reads(statement) is reads


def test_a_request_that_gets_no_pooled_connection_in_time_is_a_retryable_503(
    sqlite_url, monkeypatch
):
    # Under load every connection may be held (pushes queued behind the
    # version sequence): the others are told to come back, not sent a 500.
    engine_options = database.engine_options
    monkeypatch.setattr(
        database,
        "engine_options",
        lambda url: {
            **engine_options(url),
            "pool_size": 1,
            "max_overflow": 0,
            "pool_timeout": 0.2,
        },
    )
    app = make_app(sqlite_url)
    with app.app_context():
        client = app.test_client()
        token = sign_in(client, "coord")
        db.session.remove()
        holder = db.engine.connect()  # the pool's only connection
        try:
            refused = client.get("/api/v1/sync/pull", headers=bearer(token))
        finally:
            holder.close()
        assert refused.status_code == 503
        assert refused.mimetype == "application/problem+json"
        assert int(refused.headers["Retry-After"]) > 0
        assert client.get("/api/v1/sync/pull", headers=bearer(token)).status_code == 200
        db.engine.dispose()
