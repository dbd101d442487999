"""Migrations build the schema from empty and carry data up and down, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from server import MIGRATIONS_DIR, database
from server.extensions import db
from server.models import SyncState
from tests.conftest import make_app, pg_execute, pg_url_for, require_service
from tests.filled import assert_survived, copy_rows, fill, rows_of

EXPECTED_TABLES = {
    "audit_entry",
    "changeset_log",
    "device_token",
    "login_failure",
    "neighbourhood",
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
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert diff == [], "models and migrations disagree"
        db.engine.dispose()


def test_migrations_build_sqlite_from_empty(tmp_path):
    assert_migrated(f"sqlite:///{tmp_path}/empty.db")


@pytest.mark.postgres
def test_migrations_build_postgresql_from_empty():
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"wg_empty_{uuid.uuid4().hex[:8]}"
    pg_execute(f"CREATE DATABASE {name}")
    try:
        assert_migrated(pg_url_for(name))
    finally:
        pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def revisions():
    """Return every migration's revision, oldest first (the history is one line)."""
    script = ScriptDirectory(MIGRATIONS_DIR)
    assert len(script.get_heads()) == 1, "migrations must form one line: merge the heads"
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def empty_database(kind, tmp_path):
    """Return the URL of an empty database of ``kind``, and a function dropping it."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/oldest.db", lambda: None
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"wg_oldest_{uuid.uuid4().hex[:8]}"
    pg_execute(f"CREATE DATABASE {name}")
    return pg_url_for(name), lambda: pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def migrate(app, *steps):
    """Run ``upgrade`` or ``downgrade`` to each revision of ``steps`` in turn, one at a time."""
    with app.app_context():
        for step, revision in steps:
            step(revision=revision)
        db.engine.dispose()


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
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
    url, drop = empty_database(kind, tmp_path)
    try:
        oldest = make_app(url)
        first, *later = revisions()
        migrate(oldest, (upgrade, first))
        shape = copy_rows(source.config["SQLALCHEMY_DATABASE_URI"], url)
        at_first = rows_of(url, shape)
        assert len(at_first["record"]) > 1000 and at_first["device_token"]
        migrate(oldest, *((upgrade, revision) for revision in later))
        assert rows_of(url, shape) == at_first, "an upgrade lost or changed data"
        assert_survived(oldest, filled, rows_of(source.config["SQLALCHEMY_DATABASE_URI"]))
        migrate(oldest, *((downgrade, revision) for revision in reversed([first, *later][:-1])))
        assert rows_of(url, shape) == at_first, "a downgrade lost or changed data"
        migrate(oldest, *((upgrade, revision) for revision in later))
        assert rows_of(url, shape) == at_first
    finally:
        for app in (source, locals().get("oldest")):
            if app is not None:
                with app.app_context():
                    db.engine.dispose()
        drop()
