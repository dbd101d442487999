"""A database filled through the API, and the checks that it survived (a migration, a restore).

``fill`` signs several users in (their tokens) and pushes records of several
types — households, residents, visits, tasks claimed and done, a conflict, a
task moved to another compound, a deletion, a rejected changeset — then
pulls to each user's cursor. ``rows_of`` reads every row of every table (the
changeset log as one table, whichever revision split it);
``assert_survived`` checks that a database has the same rows and that the
tokens, cursors and recorded changeset results still work through the API.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, MetaData, Select, Table, create_engine, select, text
from sqlalchemy.exc import SAWarning

from server.config import normalise_database_url
from tests.helpers import bearer, sign_in
from tests.server.test_sync_api import (
    COMPOUND_B,
    PULL,
    PUSH,
    a_changeset,
    a_task,
    create,
    pull_all,
    push,
    update,
)

USERS = ("coord", "vol-a", "vol-b", "guard-a", "leader-a", "medic")


@dataclass
class Filled:
    """What a fill left to check: each user's token and cursor, and the pushes made."""

    tokens: dict[str, str] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)
    pushes: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    def push(self, client: FlaskClient, username: str, *changesets: dict[str, Any]) -> Any:
        """Push as ``username`` and remember the request and its answer."""
        body = {"client_id": "filled", "changesets": list(changesets)}
        answer = push(client, self.tokens[username], *changesets)
        self.pushes.append((username, body, answer))
        return answer


def fill(client: FlaskClient) -> Filled:
    """Fill the database behind ``client`` through the API; return what to check."""
    filled = Filled(tokens={user: sign_in(client, user) for user in USERS})
    records = pull_all(client, filled.tokens["vol-a"])[0]
    building = next(r for r in records if r["type"] == "building")
    household = create(
        "household",
        {
            "compound_id": building["fields"]["compound_id"],
            "building_id": building["id"],
            "unit": "2",
            "floor": 5,
            "room": "502",
        },
    )
    resident = create(
        "resident",
        {"household_id": household["id"], "name": "林秀英", "phone": "13800001111"},
    )
    visit = create("visit", {"household_id": household["id"], "outcome": "ok", "present": 2})
    filled.push(client, "vol-a", a_changeset(household, resident), a_changeset(visit))
    task, moved = create("task", a_task()), create("task", a_task())
    version = filled.push(client, "coord", a_changeset(task, moved))["cursor"]
    claim = update("task", task["id"], 0, status="claimed")
    claimed = filled.push(client, "vol-a", a_changeset(claim))["cursor"]
    late = "2022-04-02T11:00:00.000Z"
    filled.push(
        client,
        "coord",
        a_changeset(update("task", task["id"], claimed, notes="门口放"), made_at=late),
    )
    filled.push(client, "vol-a", a_changeset(update("task", task["id"], claimed, notes="敲门")))
    filled.push(
        client, "coord", a_changeset(update("task", moved["id"], version, compound_id=COMPOUND_B))
    )
    filled.push(
        client,
        "vol-a",
        a_changeset(create("task", a_task())),  # a volunteer creates no task: rejected
        a_changeset(update("task", task["id"], 0, status="done", proof="照片")),
    )
    extra = create("task", a_task())
    filled.push(client, "coord", a_changeset(extra))
    gone = {**update("task", extra["id"], 0), "op": "delete", "fields": {}}
    filled.push(client, "coord", a_changeset(gone))
    filled.cursors = {user: pull_all(client, token)[1] for user, token in filled.tokens.items()}
    return filled


def rows_of(database_url: str, shape: MetaData | None = None) -> dict[str, list[str]]:
    """Return every row of every table but Alembic's, as sorted JSON strings, by table.

    With ``shape`` (another database's reflected tables), only its tables and
    columns are read: the rows as that schema holds them. The changeset log
    is read as one table, ``changeset_log``, each changeset with who pushed
    it and when, as every revision holds it: since ``e9d1b3f5a7c2`` those
    facts are its push's ``push_log`` row's (:func:`rows_read`), whose id is
    a key of no meaning outside the database.
    """
    engine = engine_for(database_url)
    try:
        present = reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted(
                    json.dumps(dict(row._mapping), sort_keys=True, default=str, ensure_ascii=False)
                    for row in connection.execute(rows_read(table, present))
                )
                for name, table in (shape or present).tables.items()
                # The revision is not data; the pushes are read with the log.
                if name not in ("alembic_version", "push_log")
            }
    finally:
        engine.dispose()


def rows_read(table: Table, present: MetaData) -> Select[Any]:
    """Return the statement reading ``table``'s rows from a database whose tables are ``present``.

    ``changeset_log`` from a database that has ``push_log`` (migration
    ``e9d1b3f5a7c2``) is read joined to it: each changeset's id and result
    with its push's user, device token, install and receipt time, as the
    log held them before. Generated columns (``record.fields_text``) are
    left out: the database makes them from the others, and a copy through
    SQLAlchemy writes JSON in the standard library's spacing, not the
    compact text a push stores (``server.jsontext.stored_json``).
    """
    if table.name != "changeset_log" or "push_log" not in present.tables:
        return select(*[column for column in table.columns if column.computed is None])
    log, pushes = present.tables["changeset_log"], present.tables["push_log"]
    facts = [column for column in pushes.columns if column.name != "id"]
    return select(log.c.id, *facts, log.c.result).join_from(
        log, pushes, pushes.c.id == log.c.push_id
    )


def engine_for(database_url: str) -> Engine:
    """Return an engine of its own on a database URL as Weiguang takes it."""
    return create_engine(normalise_database_url(database_url))


def reflect(engine: Engine) -> MetaData:
    """Return the tables and columns of ``engine``'s database as they are."""
    metadata = MetaData()
    with warnings.catch_warnings():
        # Expression indexes are not reflected on SQLite; only columns matter here.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        metadata.reflect(engine)
    return metadata


def copy_rows(source_url: str, target_url: str) -> MetaData:
    """Copy every row of the target's tables and columns from the source; return its shape.

    The target is an older schema (a migration's): what the source holds of
    it is what a database of that age would have held (:func:`rows_read`).
    """
    source, target = engine_for(source_url), engine_for(target_url)
    try:
        present = reflect(source)
        shape = reflect(target)
        shape.remove(shape.tables["alembic_version"])  # the target's revision stays its own
        with source.connect() as reading, target.begin() as writing:
            for table in reversed(shape.sorted_tables):  # what the migrations put in (sync_state)
                writing.execute(table.delete())
            for table in shape.sorted_tables:
                rows = [dict(row._mapping) for row in reading.execute(rows_read(table, present))]
                if rows:
                    writing.execute(table.insert(), rows)
                if target.dialect.name == "postgresql":
                    restart_sequences(writing, table)
        return shape
    finally:
        source.dispose()
        target.dispose()


def restart_sequences(connection: Connection, table: Table) -> None:
    """Move a PostgreSQL table's id sequence past the ids copied in."""
    for column in table.primary_key.columns:
        sequence = connection.scalar(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        )
        if sequence:
            highest = f"COALESCE(MAX({column.name}), 0) + 1"
            connection.execute(text(f"SELECT setval('{sequence}', {highest}, false) FROM {table}"))


def assert_survived(
    app: Flask, filled: Filled, rows_before: dict[str, list[str]], added_audit: int = 0
) -> None:
    """Check every row, token, cursor and recorded push result of ``filled`` in ``app``.

    :param added_audit: audit entries the database gained since (a restore's).
    """
    rows_now = rows_of(app.config["SQLALCHEMY_DATABASE_URI"])
    if added_audit:
        audit = rows_now["audit_entry"]
        rows_now["audit_entry"] = [row for row in audit if row not in rows_before["audit_entry"]]
        assert len(rows_now["audit_entry"]) == added_audit
        rows_now["audit_entry"] = rows_before["audit_entry"]
    assert rows_now.keys() == rows_before.keys()
    for table, rows in rows_before.items():
        assert rows_now[table] == rows, f"table {table} changed"
    assert sum(map(len, rows_before.values())) > 0
    client = app.test_client()
    for user, token in filled.tokens.items():
        me = client.get("/api/v1/users/me", headers=bearer(token))
        assert me.status_code == 200 and me.get_json()["username"] == user
        page = client.get(f"{PULL}?cursor={filled.cursors[user]}", headers=bearer(token))
        assert page.get_json()["changes"] == [], f"{user}'s cursor no longer holds"
        assert page.get_json()["cursor"] == filled.cursors[user]
    for user, body, answer in filled.pushes:
        again = client.post(PUSH, json=body, headers=bearer(filled.tokens[user]))
        assert again.get_json()["results"] == answer["results"], "a recorded result was lost"
