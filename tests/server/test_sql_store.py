"""The SQL store passes the same contract suite as the memory store, on both databases."""

from __future__ import annotations

import pytest

from server import database
from server.extensions import db
from server.store import SqlStore
from tests.conftest import make_app
from tests.sync.store_contract import *  # noqa: F403


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/empty.db"
    from tests.conftest import pg_execute, pg_url_for, require_postgres

    require_postgres()
    name = f"wg_store_{abs(hash(request.node.nodeid)) % 10**8}"
    pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    pg_execute(f"CREATE DATABASE {name}")
    request.addfinalizer(lambda: pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    return pg_url_for(name)


@pytest.fixture
def store(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        database.upgrade_schema()
        yield SqlStore.for_writing()
        db.session.rollback()
        db.engine.dispose()
