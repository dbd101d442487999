"""The schema is built by migrations alone, from empty, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from server import database
from server.extensions import db
from server.models import SyncState
from tests.conftest import make_app, pg_execute, pg_url_for, require_postgres

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
    require_postgres()
    name = f"wg_empty_{uuid.uuid4().hex[:8]}"
    pg_execute(f"CREATE DATABASE {name}")
    try:
        assert_migrated(pg_url_for(name))
    finally:
        pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
