"""What a push, a pull and a sign-in cost the database: statements counted, not timed (issue #16).

A push's path from request to answer is a fixed handful of statements,
whatever its size: the sign-in's generation read (without the marks), the version lock, one read
of its records and one of its changesets' recorded results, one multi-row
write per table (the push's ``push_log`` row among them) and the move of
the high-water mark (on PostgreSQL the
lock and the results read are one statement, the writes and the move
another). The live announcement
comes after the answer and is not counted. A scoped pull is two: the
sign-in's read (with the high-water mark) and its page (records and
tombstones); a pull from the high-water mark is the sign-in's read alone.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

import server.live
import server.socket_sessions
import server.store
from server import database, scopes, seed, sign_ins
from server.extensions import db
from server.models import DeviceToken, RecordScope, User
from tests.conftest import app_on
from tests.helpers import a_coordinator_of, bearer, sign_in

COMPOUND_A = seed.stable_id("compound", "A")
PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
# The sign-in's generation read, the lock, the records read, the results read,
# the writes of records, scope rows, the push's row (push_log, whose id its
# results name) and results, and the high-water mark.
PUSH_STATEMENTS = 9
# On PostgreSQL the lock (a large push's claim) and the results read are one
# statement, the writes and the move of the mark another (a large push's
# block of versions is taken on a connection of its own, not counted).
PG_PUSH_STATEMENTS = 4
WRITE = re.compile(r"\b(INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b", re.IGNORECASE)
# The sign-in's read of the generation and the high-water mark, and the page.
PULL_STATEMENTS = 2
# An up-to-date device's pull: the sign-in's read, whose high-water mark shows nothing is newer.
EMPTY_PULL_STATEMENTS = 1


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    yield from app_on(database_url)


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements the app runs (transaction control left out).

    A prepared statement's ``EXECUTE`` as the statement it runs; its ``PREPARE``,
    once a connection (:func:`server.database.execute_prepared`), left out.
    """
    sent: list[str] = []
    with app.app_context():
        engine = db.engine

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("PREPARE "):
            return
        if statement.strip().upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            sent.append(database.prepared_sql(statement))

    event.listen(engine, "before_cursor_execute", note)
    yield sent
    event.remove(engine, "before_cursor_execute", note)


@pytest.fixture
def after_response(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Hold back what runs after the response (the live announcement), as eventlet does."""
    held: list[Any] = []
    monkeypatch.setattr(server.live, "after_response", lambda job, failure: held.append(job))
    return held


@pytest.fixture
def scaled_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """As with a message queue: sockets of other processes may hear this one, so it announces."""
    monkeypatch.setattr(server.socket_sessions, "none_can_hear", lambda: False)


def task_changesets(count: int) -> list[dict[str, Any]]:
    """Return ``count`` changesets, each creating one task in compound A."""
    return [
        {
            "id": str(uuid.uuid4()),
            "made_at": "2022-04-02T10:00:00.000Z",
            "changes": [
                {
                    "type": "task",
                    "id": str(uuid.uuid4()),
                    "op": "create",
                    "base_version": 0,
                    "fields": {
                        "kind": "delivery",
                        "title": "送菜",
                        "status": "open",
                        "compound_id": COMPOUND_A,
                        "priority": 2,
                    },
                }
            ],
        }
        for _ in range(count)
    ]


def task_update(task_id: str, base_version: int, fields: dict[str, Any]) -> dict[str, Any]:
    """Return a changeset updating ``fields`` of the task ``task_id`` from ``base_version``."""
    change = {"type": "task", "id": task_id, "op": "update", "base_version": base_version}
    return {
        "id": str(uuid.uuid4()),
        "made_at": "2022-04-02T10:01:00.000Z",
        "changes": [{**change, "fields": fields}],
    }


def push_tasks(client: FlaskClient, token: str, count: int) -> dict[str, Any]:
    """Push :func:`task_changesets` as ``token``'s user; return the answer, which must be a 200."""
    reply = client.post(
        PUSH,
        json={"client_id": "statements", "changesets": task_changesets(count)},
        headers=bearer(token),
    )
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()  # type: ignore[no-any-return]


def writes(sent: list[str]) -> list[str]:
    """Return the statements among ``sent`` that write (a ``WITH`` of writes among them)."""
    return [s for s in sent if WRITE.search(s)]


@pytest.mark.parametrize("count", [1, 250])
def test_a_push_is_a_few_statements_whatever_its_size(
    app, statements, after_response, scaled_out, count
):
    client = app.test_client()
    token = sign_in(client, "coord")
    client.get(f"{PULL}?cursor=0&limit=1", headers=bearer(token))  # the sign-in is cached
    statements.clear()
    answer = push_tasks(client, token, count)
    assert {r["status"] for r in answer["results"]} == {"applied"}
    assert len(statements) <= PUSH_STATEMENTS, statements
    assert after_response, "the announcement waits for the response"
    with app.app_context():
        dialect = db.engine.dialect
        postgresql = dialect.name == "postgresql"
    # Issue 16: the sign-in's check reads the generation alone; the marks,
    # a scan of PostgreSQL's locks, are a pull's.
    assert statements[0] == sign_ins.check_sql(dialect, marks=False)
    if postgresql:
        # Issue 16: each statement was a round trip and an execution.
        assert len(statements) <= PG_PUSH_STATEMENTS, statements
        inserts = [s for s in statements if "INSERT INTO" in s]
        assert len(inserts) == 1, inserts


def test_a_sign_in_check_writes_nothing_within_a_minute(app, statements):
    client = app.test_client()
    token = sign_in(client, "coord")
    with app.app_context():
        device = db.session.scalar(select(DeviceToken).order_by(DeviceToken.id.desc()))
        device.last_seen_at = device.last_seen_at - timedelta(minutes=1)
        db.session.commit()
    statements.clear()
    for _ in range(3):
        reply = client.get(f"{PULL}?cursor=0&limit=1", headers=bearer(token))
        assert reply.status_code == 200
    assert writes(statements) == []


def test_a_small_pull_is_two_statements_an_up_to_date_one_one(app, statements, after_response):
    client = app.test_client()
    token = sign_in(client, "coord")
    reader = bearer(a_coordinator_of(client, [COMPOUND_A], "coord-a"))
    changesets = task_changesets(1)
    task = changesets[0]["changes"][0]
    assert (
        client.post(PUSH, json={"changesets": changesets}, headers=bearer(token)).status_code
        == 200
    )
    end = client.get(f"{PULL}?cursor=1000000000", headers=reader).get_json()["cursor"]
    # The task leaves compound A: the next page of A's coordinator holds its tombstone.
    moved = task_update(task["id"], end, {"compound_id": seed.stable_id("compound", "B")})
    reply = client.post(PUSH, json={"changesets": [moved]}, headers=bearer(token)).get_json()
    assert reply["results"][0]["status"] == "applied", reply
    statements.clear()
    page = client.get(f"{PULL}?cursor={end}", headers=reader).get_json()
    assert len(statements) == PULL_STATEMENTS, statements
    with app.app_context():
        assert statements[0] == sign_ins.check_sql(db.engine.dialect, marks=True)
    statements.clear()
    empty = client.get(f"{PULL}?cursor={page['cursor']}", headers=reader).get_json()
    assert len(statements) == EMPTY_PULL_STATEMENTS, statements
    assert empty["changes"] == [] and empty["cursor"] == page["cursor"]
    statements.clear()
    beyond = client.get(f"{PULL}?cursor={page['cursor'] + 5}", headers=reader).get_json()
    assert len(statements) == EMPTY_PULL_STATEMENTS, statements
    assert (beyond["changes"], beyond["cursor"], beyond["more"]) == ([], page["cursor"], False)
    assert [(c["id"], c["deleted"]) for c in page["changes"]] == [(task["id"], True)]


def test_on_sqlite_an_up_to_date_pull_opens_no_session_transaction(app, statements):
    # Issue 16: the session's begin and teardown were a fifth of an
    # up-to-date pull's time on SQLite; its one statement (the sign-in's
    # read with the marks) runs on a connection of its own there
    # (server.sign_ins.check_row). On PostgreSQL that cost a pull with
    # changes two round trips more, so the session reads it as before.
    client = app.test_client()
    reader = bearer(sign_in(client, "coord"))
    end = client.get(f"{PULL}?cursor=1000000000", headers=reader).get_json()["cursor"]
    begun: list[Any] = []

    def note(session: Any, transaction: Any, connection: Any) -> None:
        begun.append(connection)

    statements.clear()
    event.listen(Session, "after_begin", note)
    try:
        empty = client.get(f"{PULL}?cursor={end}", headers=reader).get_json()
    finally:
        event.remove(Session, "after_begin", note)
    assert (empty["changes"], empty["cursor"]) == ([], end)
    assert len(statements) == EMPTY_PULL_STATEMENTS, statements
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
    assert len(begun) == (0 if sqlite else 1)


def test_an_announcement_reads_who_is_connected_and_their_grants_in_few_statements(
    app, statements, after_response, scaled_out
):
    client = app.test_client()
    token = sign_in(client, "coord")
    push_tasks(client, token, 1)
    with app.app_context():
        users = {u.username: u.id for u in db.session.scalars(select(User))}
        # Nobody connected in any process: who is, and no grants to read for nobody.
        statements.clear()
        for job in after_response:
            job()
        assert len(statements) == 1, statements
        # The grants in force of some users: the grants and their early ends in one read.
        statements.clear()
        assert scopes.granted_compounds([users["vol-a"], users["vol-b"]]) == {}
        assert len(statements) == 1, statements
        db.session.remove()


def test_a_push_and_its_announcement_send_nothing_through_the_orm(app, after_response, scaled_out):
    # Every statement of a push is Core or the driver's own SQL, on the
    # session's connection: the ORM session's execution of a statement cost
    # more CPU than SQLite's, on every push however small (issue #16).
    client = app.test_client()
    token = sign_in(client, "coord")
    client.get(f"{PULL}?cursor=0&limit=1", headers=bearer(token))  # the sign-in is cached
    through_orm: list[str] = []

    def note(state: Any) -> None:
        through_orm.append(str(state.statement))

    event.listen(Session, "do_orm_execute", note)
    try:
        push_tasks(client, token, 1)
        with app.app_context():
            for job in after_response:
                job()
            db.session.remove()
    finally:
        event.remove(Session, "do_orm_execute", note)
    assert after_response, "the announcement waits for the response"
    assert through_orm == []


@pytest.mark.parametrize(("count", "gives_way"), [(1, False), (250, True)])
def test_only_a_large_push_gives_way_between_its_writes(
    app, after_response, monkeypatch, count, gives_way
):
    # A give-way is a round of eventlet's hub under SQLite's writer lock:
    # worth it between the statements of a large push, not on every edit.
    client = app.test_client()
    token = sign_in(client, "coord")
    ways: list[None] = []
    monkeypatch.setattr(server.store, "cooperate", lambda: ways.append(None))
    push_tasks(client, token, count)
    assert bool(ways) is gives_way


def test_an_edit_leaves_the_record_type_and_its_index_alone(app, statements, after_response):
    """SQLite rewrites an index's entry whenever an UPDATE sets its column, same value or not."""
    client = app.test_client()
    token = sign_in(client, "coord")
    created = push_tasks(client, token, 1)["results"][0]["changes"][0]
    statements.clear()
    edit = task_update(created["id"], created["version"], {"notes": "门口"})
    reply = client.post(
        PUSH, json={"client_id": "statements", "changesets": [edit]}, headers=bearer(token)
    )
    assert reply.get_json()["results"][0]["changes"][0]["status"] == "applied"
    upserts = [s for s in statements if re.search(r"INSERT INTO record\b", s)]
    assert upserts and all("version = excluded.version" in s for s in upserts), upserts
    assert not [s for s in upserts if re.search(r"\btype = excluded\.type\b", s)], upserts
    with app.app_context():
        kind = db.session.execute(
            select(server.store.RecordRow.type).where(server.store.RecordRow.id == created["id"])
        ).scalar_one()
    assert kind == "task"


def test_a_push_replaces_the_scope_rows_of_the_version_a_record_had(
    app, statements, after_response
):
    """Issue 16: scope rows are keyed by place and version, never upserted.

    A create inserts its rows and deletes none; an edit deletes the rows of
    the version it replaces (no look-up of each row's key first, no second
    index by record) and inserts its new version's.
    """
    with app.app_context():
        dialect = db.engine.dialect
    deleted = server.store.DELETE_SCOPES.statement(dialect)
    inserted = server.store.WRITE_SCOPES.statement(dialect)
    assert "ON CONFLICT" not in inserted
    client = app.test_client()
    token = sign_in(client, "coord")
    statements.clear()
    created = push_tasks(client, token, 1)["results"][0]["changes"][0]
    assert any(inserted in s for s in statements), statements
    assert not any(deleted in s for s in statements), statements
    statements.clear()
    edit = task_update(created["id"], created["version"], {"notes": "门口"})
    reply = client.post(
        PUSH, json={"client_id": "statements", "changesets": [edit]}, headers=bearer(token)
    )
    edited = reply.get_json()["results"][0]["changes"][0]
    assert edited["status"] == "applied"
    assert any(deleted in s for s in statements), statements
    assert any(inserted in s for s in statements), statements
    with app.app_context():
        table = RecordScope.__table__.c
        rows = db.session.execute(
            select(table.version).where(table.record_id == created["id"])
        ).scalars()
        assert list(rows) == [edited["version"]]
