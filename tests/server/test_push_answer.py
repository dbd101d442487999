"""A push's answer splices in the text each result was recorded as (issue #16).

Each changeset's result is built and encoded once, for the changeset log, and
the answer carries that text (``server.jsontext.push_body``). These tests pin
what that must not change: the answer is the contract's JSON, a replayed
push answers the very bytes of the first answer, what only the log keeps
(``wrote``) never reaches the wire, and a surrogate reaches the client as
U+FFFD. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from server import seed
from server.extensions import db
from server.store import SqlStore
from tests.conftest import app_on
from tests.helpers import bearer, sign_in

COMPOUND_A = seed.stable_id("compound", "A")
PUSH = "/api/v1/sync/push"
# Quotes, a backslash, markup, non-ASCII text.
AWKWARD = '送菜 "é" \\ </script> end'


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    yield from app_on(database_url)


def a_changeset(*changes: dict[str, Any], changeset_id: str | None = None) -> dict[str, Any]:
    return {
        "id": changeset_id or str(uuid.uuid4()),
        "made_at": "2022-04-02T10:00:00.000Z",
        "changes": list(changes),
    }


def a_create(task_id: str, title: str) -> dict[str, Any]:
    fields = {
        "kind": "delivery",
        "title": title,
        "status": "open",
        "compound_id": COMPOUND_A,
        "priority": 2,
    }
    return {"type": "task", "id": task_id, "op": "create", "base_version": 0, "fields": fields}


def a_bad_update(task_id: str) -> dict[str, Any]:
    """An update rejected ``invalid``, whose conflict carries the server's record."""
    fields = {"priority": "not a number"}
    return {"type": "task", "id": task_id, "op": "update", "base_version": 1, "fields": fields}


def test_a_replayed_push_answers_the_bytes_of_the_first_answer(app):
    client = app.test_client()
    token = sign_in(client, "coord")
    task_id = str(uuid.uuid4())
    made = a_changeset(a_create(task_id, AWKWARD))
    assert client.post(PUSH, json={"changesets": [made]}, headers=bearer(token)).status_code == 200
    fresh = a_changeset(a_create(str(uuid.uuid4()), AWKWARD))
    changesets = [
        fresh,
        a_changeset(a_bad_update(task_id)),  # rejected, the record (awkward title) in its conflict
        a_changeset(a_create(task_id, AWKWARD)),  # the same create again: wrote nothing
        fresh,  # a replay within the push
    ]
    body = {"client_id": "answers", "changesets": changesets}
    first = client.post(PUSH, json=body, headers=bearer(token))
    again = client.post(PUSH, json=body, headers=bearer(token))
    assert first.status_code == again.status_code == 200
    assert first.mimetype == "application/json"
    # The same bytes up to the cursor, which is null for a push that wrote nothing.
    assert again.data.rpartition(b',"cursor":')[0] == first.data.rpartition(b',"cursor":')[0]
    assert again.data.endswith(b',"cursor":null}\n')
    answer = json.loads(first.data)
    assert list(answer) == ["results", "cursor"]
    results = answer["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied", "applied"]
    assert results[3] == results[0]
    assert results[1]["changes"][0]["conflict"]["record"]["fields"]["title"] == AWKWARD
    change_keys = ["type", "id", "status", "version", "lost_fields", "conflict"]
    assert all(list(c) == change_keys for r in results for c in r["changes"])  # never "wrote"
    assert answer["cursor"] == results[0]["changes"][0]["version"]


def test_a_surrogate_in_a_result_reaches_the_client_replaced(app):
    client = app.test_client()
    token = sign_in(client, "coord")
    task_id = str(uuid.uuid4())
    made = a_changeset(a_create(task_id, "送菜"))
    assert client.post(PUSH, json={"changesets": [made]}, headers=bearer(token)).status_code == 200
    with app.app_context():
        store = SqlStore.for_writing()
        # Stored before the push boundary refused it (SQLite); PostgreSQL's jsonb takes pairs only.
        sqlite = db.session.get_bind().dialect.name == "sqlite"
        title = "王\udc80" if sqlite else "王😀"
        task = store.get(task_id)
        assert task is not None
        store.put(
            replace(task, version=store.next_version(), fields={**task.fields, "title": title}),
            None,
        )
        store.flush()
        db.session.commit()
        db.session.remove()
    body = {"changesets": [a_changeset(a_bad_update(task_id))]}
    reply = client.post(PUSH, json=body, headers=bearer(token))
    assert reply.status_code == 200
    (result,) = json.loads(reply.data)["results"]
    conflict = result["changes"][0]["conflict"]
    assert conflict["record"]["fields"]["title"] == ("王\ufffd" if sqlite else "王😀")
