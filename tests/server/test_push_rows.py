"""A push's multi-row writes (``server.store.RowsWrite``) store each value as pushed (issue #16).

SQLite's rows go through each column's bind processor, a value the whole
column shares processed once; PostgreSQL's go as one parameter a column (a
JSON column's values joined by U+001E, another's a JSON array), unpacked
side by side by the server. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy import JSON, select
from sqlalchemy.dialects import postgresql

from server.extensions import db
from server.models import RecordRow
from server.store import (
    WRITE_NEW_RECORDS,
    WRITE_RECORDS,
    WRITE_RESULTS,
    WRITE_SCOPES,
    _processed_column,
    send_together,
)
from tests.conftest import app_on
from tests.helpers import bearer, sign_in
from tests.server.test_push_answer import PUSH, a_changeset, a_create


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    yield from app_on(database_url)


def test_awkward_values_are_stored_as_pushed(app):
    # On PostgreSQL a push's rows go as JSON parameters, unpacked by the
    # server (server.store.RowsWrite): what a pull reads back is what was pushed.
    client = app.test_client()
    token = sign_in(client, "coord")
    title = '%s %(x)s 送菜 "é" \\ 😀 {"a": [1]}'
    task_id = str(uuid.uuid4())
    change = a_create(task_id, title)
    change["fields"]["notes"] = "line one\nline\ttwo \\n"
    reply = client.post(PUSH, json={"changesets": [a_changeset(change)]}, headers=bearer(token))
    assert json.loads(reply.data)["results"][0]["status"] == "applied"
    page = client.get("/api/v1/sync/pull?cursor=0&limit=1000", headers=bearer(token)).get_json()
    while page["more"]:
        cursor = page["cursor"]
        page = client.get(f"/api/v1/sync/pull?cursor={cursor}", headers=bearer(token)).get_json()
    (task,) = [c for c in page["changes"] if c["id"] == task_id]
    assert task["fields"]["title"] == title
    assert task["fields"]["notes"] == change["fields"]["notes"]
    assert task["deleted"] is False


@pytest.mark.parametrize("rows", [WRITE_RECORDS, WRITE_SCOPES, WRITE_RESULTS])
def test_postgresql_reads_a_parameter_a_column_not_an_array_of_rows(rows):
    # Issue 16: an array of row arrays, read with -> and ->>, cost the
    # server 9 ms more a 250-record push than an array a column read in step.
    statement = rows.statement(postgresql.dialect())
    assert " FROM ROWS FROM (" in statement
    assert "->" not in statement
    # A JSON column's values are split apart, each parsed once by its cast,
    # not read as a JSON array's elements (parsed two or three times).
    json_columns = sum(isinstance(column.type, JSON) for column in rows.columns)
    other_columns = len(rows.columns) - json_columns
    assert statement.count("string_to_array(%s, chr(30))") == json_columns
    assert statement.count("json_array_elements_text(%s::json)") == other_columns
    assert "json_array_elements(" not in statement


def test_json_values_holding_the_separator_are_stored_whole(app):
    # PostgreSQL gets a JSON column's values joined by U+001E, which JSON
    # text holds only escaped: a value with the character in a string, and
    # the rows after it, are stored as written.
    ids = [str(uuid.uuid4()) for _ in range(3)]
    fields = [{"title": "a\x1eb", "list": ["\x1e", 1]}, {}, {"notes": "\x1f\x1e"}]
    stamps = ['{"title": [1, "2022-04-02T10:00:00.000Z", 3, "a\\u001eb"]}', "{}", "{}"]
    rows = [
        (record_id, "task", 10**9 + n, False, fields[n], stamps[n], "c|")
        for n, record_id in enumerate(ids)
    ]
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            send_together([(WRITE_NEW_RECORDS, rows)])
        else:
            WRITE_NEW_RECORDS.send(rows)
        query = select(RecordRow.id, RecordRow.fields_text, RecordRow.stamps, RecordRow.version)
        found = db.session.execute(query.where(RecordRow.id.in_(ids)))
        stored = {row[0]: tuple(row[1:]) for row in found}
        db.session.rollback()
    for n, record_id in enumerate(ids):
        text, stamp_map, version = stored[record_id]
        assert json.loads(text) == fields[n]
        assert (stamp_map, version) == (json.loads(stamps[n]), 10**9 + n)


def test_a_column_is_processed_value_by_value_unless_one_object_fills_it():
    def process(moment):
        return moment.isoformat()

    now = datetime(2022, 4, 2, 10, 0, tzinfo=UTC)
    shared = (now,) * 3
    assert list(_processed_column(process, shared)) == [now.isoformat()] * 3
    # Equal instants in other zones are other values: each is formatted.
    eastern = now.astimezone(timezone(timedelta(hours=8)))
    varied = (now, eastern, now + timedelta(seconds=1))
    assert list(_processed_column(process, varied)) == [m.isoformat() for m in varied]
