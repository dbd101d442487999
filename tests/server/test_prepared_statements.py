"""Statements prepared once a PostgreSQL connection (issue #16).

``server.database.execute_prepared``: a push's statement of writes is
prepared on the first push a connection runs and only executed afterwards;
the bookkeeping of what is prepared follows the connection (a replaced one
prepares again), not the transaction (a rolled-back ``PREPARE`` stays),
and is bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from server import database
from server.extensions import db
from tests.conftest import app_on
from tests.helpers import bearer, sign_in
from tests.server.test_push_statements import PUSH, task_changesets

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(pg_url: str) -> Iterator[Flask]:
    yield from app_on(pg_url)


@pytest.fixture
def sent(app: Flask) -> Iterator[list[str]]:
    """Collect the statements the app sends, as sent."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield statements
    event.remove(engine, "before_cursor_execute", note)


def prepared_here() -> set[str]:
    """Return the names of the statements prepared on the session's connection."""
    rows = db.session.connection().exec_driver_sql("SELECT name FROM pg_prepared_statements")
    return {name for (name,) in rows}


def test_a_push_prepares_its_writes_once_a_connection(app, sent):
    client = app.test_client()
    token = sign_in(client, "coord")
    for count in (3, 3, 3):
        body = {"client_id": "prepared", "changesets": task_changesets(count)}
        reply = client.post(PUSH, json=body, headers=bearer(token))
        assert reply.status_code == 200, reply.get_json()
        assert {r["status"] for r in reply.get_json()["results"]} == {"applied"}
    prepares = [s for s in sent if s.startswith("PREPARE ")]
    executes = [s for s in sent if s.startswith("EXECUTE ")]
    assert len(executes) == 3, executes
    run = {database.prepared_sql(s) for s in executes}
    assert len(run) == 1 and "INSERT INTO record " in run.pop()
    # Requests one after the other share the pool's one connection: prepared once.
    assert len(prepares) == 1, prepares
    assert not [s for s in sent if s.startswith("WITH ") and "INSERT INTO record " in s]


def test_a_prepare_outlives_its_transaction_and_a_new_connection_prepares_again(app, sent):
    sql = "SELECT %s::int + %s::int"
    with app.app_context():
        connection = db.session.connection()
        assert database.execute_prepared(connection, sql, (1, 2)).scalar_one() == 3
        db.session.rollback()
        connection = db.session.connection()
        assert database.execute_prepared(connection, sql, (2, 3)).scalar_one() == 5
        assert len([s for s in sent if s.startswith("PREPARE ")]) == 1
        assert database.prepared_sql(sent[-1]) == sql
        connection.invalidate()
        db.session.rollback()
        connection = db.session.connection()
        assert prepared_here() == set()
        assert database.execute_prepared(connection, sql, (3, 4)).scalar_one() == 7
        assert len([s for s in sent if s.startswith("PREPARE ")]) == 2
        db.session.rollback()


def test_placeholders_are_numbered_and_percent_signs_kept(app):
    with app.app_context():
        connection = db.session.connection()
        sql = "SELECT %s::text || '%%' || %s::text, 'a%%s'"
        assert database.execute_prepared(connection, sql, ("5", "6")).one() == ("5%6", "a%s")
        assert database.execute_prepared(connection, "SELECT 42", ()).scalar_one() == 42
        with pytest.raises(ValueError, match="2 placeholders, 1 parameters"):
            database.execute_prepared(connection, sql, ("5",))
        db.session.rollback()


def test_a_connection_keeps_a_bounded_number_of_prepared_statements(app, monkeypatch):
    monkeypatch.setattr(database, "MOST_PREPARED", 2)
    with app.app_context():
        connection = db.session.connection()
        for n in range(5):
            sql = f"SELECT %s::int + {n}"
            assert database.execute_prepared(connection, sql, (1,)).scalar_one() == 1 + n
            assert len(prepared_here()) <= 2
        # The latest is prepared and runs again without a new PREPARE.
        assert database.execute_prepared(connection, sql, (2,)).scalar_one() == 2 + n
        db.session.rollback()
