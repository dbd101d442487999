"""The schema is built by migrations alone, from empty, on SQLite and PostgreSQL.

Every migration upgrades a database holding data, and downgrades it again,
without losing any of it.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import SAWarning
from sqlalchemy.schema import CreateIndex

from server import MIGRATIONS_DIR, database, queries
from server.extensions import db
from server.models import SyncState
from server.models.records import QUERY_INDEXES
from server.store import SqlStore
from sync.actors import UserScope
from sync.store import RecordedResult
from tests.conftest import (
    ENGINES,
    empty_database,
    make_app,
    pg_execute,
    pg_url_for,
    require_postgres,
)
from tests.filled import assert_survived, copy_rows, fill, rows_of
from tests.helpers import bearer

INITIAL = "a40e8fb87a3f"
#: The migration that makes record.fields jsonb on PostgreSQL.
FIELDS_JSONB = "94076c4e26bd"

EXPECTED_TABLES = {
    "audit_entry",
    "changeset_log",
    "device_token",
    "login_failure",
    "neighbourhood",
    "push_log",
    "record",
    "record_scope",
    "scope_exit",
    "socket_session",
    "sync_state",
    "user_account",
    "user_scope_item",
}


def assert_migrated(url: str) -> None:
    app = make_app(url)
    with app.app_context():
        database.upgrade_schema()
        database.upgrade_schema()  # a second run is a no-op
        assert set(inspect(db.engine).get_table_names()) >= EXPECTED_TABLES
        assert db.session.scalar(select(SyncState.high_water)) == 0
        with db.engine.connect() as connection, warnings.catch_warnings():
            # SQLite's expression indexes cannot be reflected, so Alembic skips
            # them there; assert_sqlite_indexes_match compares them instead.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified")
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert diff == [], "models and migrations disagree"
        if db.engine.dialect.name == "sqlite":
            assert_sqlite_indexes_match()
        db.engine.dispose()


def assert_sqlite_indexes_match() -> None:
    """Check that SQLite holds each query index exactly as the model compiles it.

    The queries repeat the model's expressions; an index written differently
    by the migration would be there and never used.
    """
    stored = dict(
        db.session.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'record'"
            )
        ).all()
    )
    for index in QUERY_INDEXES:
        compiled = str(CreateIndex(index).compile(dialect=db.engine.dialect))
        assert squeeze(stored[index.name]) == squeeze(compiled)


def squeeze(sql: str) -> str:
    """Return ``sql`` with runs of white space made one space."""
    return re.sub(r"\s+", " ", sql).strip()


def test_migrations_build_sqlite_from_empty(tmp_path):
    assert_migrated(f"sqlite:///{tmp_path}/empty.db")


@pytest.mark.postgres
def test_migrations_build_postgresql_from_empty():
    require_postgres()
    name = f"wg_empty_{uuid.uuid4().hex[:8]}"
    pg_execute(f"CREATE DATABASE {name}")
    try:
        assert_migrated(pg_url_for(name))
    finally:
        pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


NOW = datetime.now(UTC).replace(microsecond=0)
COMPOUND = str(uuid.uuid4())
# Values whose JSON a round trip through jsonb and back must not change.
ODD_FIELDS = {
    "name": '张伟 — "quoted" \\ ünïcode 🏠',
    "nested": {"list": [1, 2.5, None, True, {"deep": []}], "empty": {}},
    "big": 2**53,
    "negative": -0.125,
}


def stamped(fields: dict, version: int, at: datetime) -> dict:
    """Return the stamps of a record whose fields were all written at ``at``."""
    made_at = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {name: [version, made_at, 1] for name in fields}


ROWS = [
    ("gate_event", {"compound_id": COMPOUND, "post": "east", "decision": "allow"}),
    ("household", {"compound_id": COMPOUND, "building_id": str(uuid.uuid4()), **ODD_FIELDS}),
    ("task", {"title": "", "notes": None}),
]


def insert_rows() -> dict[str, dict]:
    """Insert :data:`ROWS` with plain SQL (no model: the schema is an old one)."""
    written = {}
    for version, (record_type, fields) in enumerate(ROWS, start=1):
        record_id = str(uuid.uuid4())
        at = NOW - timedelta(minutes=version)
        db.session.execute(
            text(
                "INSERT INTO record (id, type, version, deleted, fields, stamps, scope)"
                " VALUES (:id, :type, :version, false, :fields, :stamps, :scope)"
            ),
            {
                "id": record_id,
                "type": record_type,
                "version": version,
                "fields": json.dumps(fields, ensure_ascii=False),
                "stamps": json.dumps(stamped(fields, version, at)),
                "scope": COMPOUND + "|",
            },
        )
        db.session.execute(
            text("INSERT INTO record_scope (record_id, compound_id) VALUES (:id, :compound)"),
            {"id": record_id, "compound": COMPOUND},
        )
        written[record_id] = fields
    db.session.execute(text("UPDATE sync_state SET high_water = :v"), {"v": len(ROWS)})
    db.session.commit()
    return written


def stored_fields() -> dict[str, dict]:
    """Return every record's fields as the database gives them back, parsed."""
    rows = db.session.execute(text("SELECT id, fields FROM record")).all()
    db.session.commit()
    return {
        row.id: row.fields if isinstance(row.fields, dict) else json.loads(row.fields)
        for row in rows
    }


def fields_column_type() -> str:
    """Return the database's type of ``record.fields``."""
    if db.engine.dialect.name == "sqlite":
        return "JSON"
    found = db.session.scalar(
        text(
            "SELECT data_type FROM information_schema.columns"
            " WHERE table_name = 'record' AND column_name = 'fields'"
        )
    )
    db.session.commit()
    return str(found)


def query_indexes() -> set[str]:
    """Return the names of the query indexes the database has."""
    names = {index["name"] for index in inspect(db.engine).get_indexes("record")}
    if db.engine.dialect.name == "sqlite":
        # Not reflected there (expression indexes): ask the catalogue.
        names |= set(
            db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
        )
        db.session.commit()
    return names & {index.name for index in QUERY_INDEXES}


@pytest.mark.parametrize("engine", ENGINES)
def test_migrations_upgrade_and_downgrade_a_database_with_data(request, tmp_path, engine):
    app = make_app(empty_database(engine, tmp_path, request))
    postgres = engine == "postgresql"
    with app.app_context(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        flask_migrate.upgrade(revision=INITIAL)
        written = insert_rows()
        assert stored_fields() == written

        flask_migrate.upgrade()
        assert stored_fields() == written
        assert fields_column_type() == ("jsonb" if postgres else "JSON")
        assert query_indexes() == {index.name for index in QUERY_INDEXES}
        gate_event = next(rid for rid, fields in written.items() if "post" in fields)
        log = queries.gate_log([COMPOUND], NOW - timedelta(hours=1))
        assert [record.id for record in log] == [gate_event]
        household = next(fields for fields in written.values() if "building_id" in fields)
        progress = queries.screening_progress(UserScope(compound_ids=frozenset({COMPOUND})))
        assert progress == [queries.BuildingProgress(COMPOUND, household["building_id"], 1, 0, 0)]
        db.session.commit()

        flask_migrate.downgrade(revision=INITIAL)
        assert stored_fields() == written
        assert fields_column_type() == ("json" if postgres else "JSON")
        assert query_indexes() == set()

        flask_migrate.upgrade()
        assert stored_fields() == written
        db.engine.dispose()


def revisions():
    """Return every migration's revision, oldest first (the history is one line)."""
    script = ScriptDirectory(MIGRATIONS_DIR)
    assert len(script.get_heads()) == 1, "migrations must form one line: merge the heads"
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def migrate(app, *steps):
    """Run ``upgrade`` or ``downgrade`` to each revision of ``steps`` in turn, one at a time."""
    with app.app_context():
        for step, revision in steps:
            step(revision=revision)
        db.engine.dispose()


@pytest.mark.parametrize("kind", ENGINES)
def test_data_of_the_first_revision_survives_every_migration_both_ways(kind, tmp_path, request):
    """A database at the first revision, holding data put in through the API, upgraded to head.

    The API of today cannot be assumed to run on the first revision's schema,
    so the data is made through it on a database at head, then copied into
    one built at the first revision (the tables and columns that existed
    then); that one is upgraded one migration at a time, checked, walked
    down to the first revision again (every downgrade), and up once more.
    """
    source = make_app(request.getfixturevalue(f"{'sqlite' if kind == 'sqlite' else 'pg'}_url"))
    filled = fill(source.test_client())
    url = empty_database(kind, tmp_path, request)
    try:
        oldest = make_app(url)
        first, *later = revisions()
        migrate(oldest, (flask_migrate.upgrade, first))
        shape = copy_rows(source.config["SQLALCHEMY_DATABASE_URI"], url)
        at_first = rows_of(url, shape)
        assert len(at_first["record"]) > 1000 and at_first["device_token"]
        migrate(oldest, *((flask_migrate.upgrade, revision) for revision in later))
        assert rows_of(url, shape) == at_first, "an upgrade lost or changed data"
        # Tables made by later revisions (pass_key) start empty in an old database.
        before = rows_of(source.config["SQLALCHEMY_DATABASE_URI"])
        expected = {name: rows if name in shape.tables else [] for name, rows in before.items()}
        assert_survived(oldest, filled, expected)
        down_to_first = reversed([first, *later][:-1])
        migrate(oldest, *((flask_migrate.downgrade, revision) for revision in down_to_first))
        assert rows_of(url, shape) == at_first, "a downgrade lost or changed data"
        migrate(oldest, *((flask_migrate.upgrade, revision) for revision in later))
        assert rows_of(url, shape) == at_first
    finally:
        for app in (source, locals().get("oldest")):
            if app is not None:
                with app.app_context():
                    db.engine.dispose()


#: The migration that adds the exits' high-water mark to sync_state.
EXITS_HIGH_WATER = "b7e2d4f6a8c0"


def sync_state_columns() -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("sync_state")}


@pytest.mark.parametrize("engine", ENGINES)
def test_the_exits_mark_starts_at_the_highest_exit_and_goes_on_a_downgrade(
    request, tmp_path, engine
):
    # Issue 16: a pull from at or above the mark reads no exits, so the
    # upgrade of a database holding exits must start it at the latest.
    app = make_app(empty_database(engine, tmp_path, request))
    before = revisions()[revisions().index(EXITS_HIGH_WATER) - 1]
    with app.app_context():
        flask_migrate.upgrade(revision=before)
        for record_id, version in (("r-1", 7), ("r-2", 12), ("r-1", 9)):
            db.session.execute(
                text(
                    "INSERT INTO scope_exit (record_id, record_type, compound_id, version)"
                    " VALUES (:record_id, 'task', :compound, :version)"
                ),
                {"record_id": record_id, "compound": COMPOUND, "version": version},
            )
        db.session.execute(text("UPDATE sync_state SET high_water = 20"))
        db.session.commit()
        flask_migrate.upgrade(revision=EXITS_HIGH_WATER)
        state = db.session.execute(select(SyncState.high_water, SyncState.exits_high_water))
        assert tuple(state.one()) == (20, 12)
        db.session.commit()
        flask_migrate.downgrade(revision=before)
        assert "exits_high_water" not in sync_state_columns()
        db.engine.dispose()


@pytest.mark.postgres
def test_fields_migration_repairs_the_text_jsonb_refuses(request, tmp_path):
    # Issue 7, item 1: the json type took a lone surrogate and NUL; jsonb does not.
    app = make_app(empty_database("postgresql", tmp_path, request))
    stored = r'{"notes": "smile \ud83d end", "nul": "a\u0000b", "pair": "\ud83d\ude00"}'
    with app.app_context(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        flask_migrate.upgrade(revision=INITIAL)
        db.session.execute(
            text(
                "INSERT INTO record (id, type, version, deleted, fields, stamps, scope)"
                " VALUES (:id, 'visit', 1, false, CAST(:fields AS json), '{}', '|')"
            ),
            {"id": COMPOUND, "fields": stored},
        )
        db.session.commit()
        flask_migrate.upgrade(revision=FIELDS_JSONB)
        assert stored_fields() == {
            COMPOUND: {"notes": "smile \ufffd end", "nul": "a\ufffdb", "pair": "\U0001f600"}
        }
        db.engine.dispose()


FIRST_REVISION = Path(__file__).parent.parent / "fixtures"


def test_what_the_first_revisions_own_api_stored_is_served_after_the_upgrade(tmp_path):
    """A database the first revision's code filled through its own API, upgraded by today's.

    ``scripts/first-revision`` made it with the code of the commit that added
    the first migration (its demo seed, two sign-ins, ``vol-a``'s whole first
    sync, a visit, a claim and a new task pushed): the data is in the shapes
    that code wrote, not today's. After the upgrade, today's API serves it:
    the tokens still sign in, ``vol-a``'s cursor still names the same place,
    the pushes replay their recorded answers, and every record is pulled with
    the version and fields it had.
    """
    facts = json.loads((FIRST_REVISION / "first-revision.json").read_text())
    path = tmp_path / "first.db"
    dump = gzip.decompress((FIRST_REVISION / "first-revision.sql.gz").read_bytes()).decode()
    with sqlite3.connect(path) as connection:
        connection.executescript(dump)
        stored = {
            row[0]: (row[1], json.loads(row[2]))
            for row in connection.execute("SELECT id, version, fields FROM record")
        }
        [(revision,)] = connection.execute("SELECT version_num FROM alembic_version")
    assert revision == INITIAL
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        database.upgrade_schema()
        db.engine.dispose()
    client = app.test_client()
    vol_a, coord = facts["tokens"]["vol-a"], facts["tokens"]["coord"]

    pushed = {
        change["id"]
        for push in facts["pushes"]
        for result in push["answer"]["results"]
        for change in result["changes"]
    }
    # The old token signs the pull in (every_change checks each answer is 200).
    after_cursor = every_change(client, vol_a, facts["vol_a_cursor"])
    assert {change["id"] for change in after_cursor} == pushed

    for push in facts["pushes"]:
        token = facts["tokens"][push["username"]]
        reply = client.post("/api/v1/sync/push", json=push["body"], headers=bearer(token))
        assert reply.get_json()["results"] == push["answer"]["results"]

    everything = {change["id"]: change for change in every_change(client, coord, 0)}
    assert everything.keys() == stored.keys()
    for record_id, (version, fields) in stored.items():
        assert (everything[record_id]["version"], everything[record_id]["fields"]) == (
            version,
            fields,
        ), record_id
    with app.app_context():
        db.engine.dispose()


def every_change(client, token: str, cursor: int) -> list[dict]:
    """Pull every page after ``cursor``; return the changes in order."""
    changes: list[dict] = []
    while True:
        reply = client.get(
            "/api/v1/sync/pull",
            query_string={"cursor": cursor, "limit": 1000},
            headers=bearer(token),
        )
        assert reply.status_code == 200, reply.get_json()
        page = reply.get_json()
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes


#: The migration that moves who pushed and when to one push_log row a push.
PUSH_LOG = "e9d1b3f5a7c2"
#: Changeset log rows as they were before it: (id, user, device token,
#: install, minutes before now received), three pushes, one with no token
#: and no install, two of one user and device at different times.
LOGGED = [
    ("c-1", 7, 3, "install-a", 30),
    ("c-2", 7, 3, "install-a", 30),
    ("c-3", 7, 3, "install-a", 30),
    ("c-4", 8, None, None, 20),
    ("c-5", 8, None, None, 20),
    ("c-6", 7, 3, "install-a", 10),
]


def logged_rows() -> list[tuple]:
    """Return each changeset's (id, user, device token, install, receipt time, result)."""
    if "push_log" in inspect(db.engine).get_table_names():
        source = "changeset_log JOIN push_log ON push_log.id = changeset_log.push_id"
    else:
        source = "changeset_log"
    rows = db.session.execute(
        text(
            "SELECT changeset_log.id, user_id, device_token_id, client_id, received_at,"
            f" CAST(result AS text) FROM {source} ORDER BY changeset_log.id"
        )
    ).all()
    db.session.commit()
    return [(*row[:4], str(row[4]), json.loads(row[5])) for row in rows]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_push_log_migration_makes_a_row_of_each_push_and_goes_back(request, tmp_path, engine):
    # Issue 16: the log rows of one push (the same user, device, install
    # and receipt time) become one push_log row, numbered in order of
    # receipt; a null device and install match each other; a downgrade
    # gives every changeset its push's facts back.
    app = make_app(empty_database(engine, tmp_path, request))
    before = revisions()[revisions().index(PUSH_LOG) - 1]
    with app.app_context():
        flask_migrate.upgrade(revision=before)
        for changeset_id, user, device, client_id, minutes in LOGGED:
            db.session.execute(
                text(
                    "INSERT INTO changeset_log"
                    " (id, user_id, device_token_id, client_id, received_at, result)"
                    " VALUES (:id, :user, :device, :client, :at, :result)"
                ),
                {
                    "id": changeset_id,
                    "user": user,
                    "device": device,
                    "client": client_id,
                    "at": NOW - timedelta(minutes=minutes),
                    "result": json.dumps({"id": changeset_id, "status": "applied"}),
                },
            )
        db.session.commit()
        old = logged_rows()

        flask_migrate.upgrade(revision=PUSH_LOG)
        pushes = db.session.execute(
            text("SELECT id, user_id, device_token_id, client_id FROM push_log ORDER BY id")
        ).all()
        log = dict(db.session.execute(text("SELECT id, push_id FROM changeset_log")).all())
        db.session.commit()
        assert [tuple(push[1:]) for push in pushes] == [
            (7, 3, "install-a"),
            (8, None, None),
            (7, 3, "install-a"),
        ]
        first, second, third = (push[0] for push in pushes)
        assert log == {
            "c-1": first,
            "c-2": first,
            "c-3": first,
            "c-4": second,
            "c-5": second,
            "c-6": third,
        }
        assert logged_rows() == old
        # The next push's row is numbered after them (PostgreSQL's sequence).
        store = SqlStore.for_writing(received_at=NOW)
        store.record_result("c-7", RecordedResult(9, {"id": "c-7"}))
        store.flush()
        assert (
            db.session.scalar(text("SELECT push_id FROM changeset_log WHERE id = 'c-7'")) > third
        )
        db.session.rollback()

        flask_migrate.downgrade(revision=before)
        assert "push_log" not in inspect(db.engine).get_table_names()
        assert logged_rows() == old
        db.engine.dispose()
