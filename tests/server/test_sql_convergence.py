"""The convergence property of ``tests/sync/test_convergence.py``, on the SQL store.

The same devices, edits and checks, but every push and pull goes
through :class:`server.store.SqlStore` in its own transaction, on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import delete, select, update

from server import database
from server.clock import utcnow
from server.extensions import db
from server.models import (
    ChangesetLog,
    Neighbourhood,
    RecordRow,
    RecordScope,
    ScopeExit,
    SyncState,
    User,
)
from server.store import SqlStore, scope_from_text
from sync import Actor, Store, apply_push, changes_since, push_from_wire
from tests.conftest import make_app
from tests.sync import test_convergence as convergence
from tests.sync.builders import COORD, VOL_A, VOL_A2, VOL_B, seed_world

USERS = (COORD, VOL_A, VOL_A2, VOL_B)


class SqlServer:
    """The engine over the SQL store, one transaction a call."""

    def push(self, actor: Actor, body: dict, received_at: datetime) -> dict:
        store = SqlStore.for_writing(received_at=received_at)
        outcome = apply_push(store, actor, push_from_wire(body), received_at)
        store.flush()
        db.session.commit()
        return outcome.to_wire()

    def pull(self, actor: Actor, cursor: int, limit: int) -> dict:
        page = changes_since(SqlStore.for_reading(), actor, cursor, limit).to_wire()
        db.session.commit()
        return page


class SqlWorld:
    """A freshly emptied database, seeded like the memory world."""

    server = SqlServer()

    def __init__(self) -> None:
        for table in (ScopeExit, RecordScope, ChangesetLog, RecordRow):
            db.session.execute(delete(table))
        db.session.execute(update(SyncState).values(high_water=0))
        store = SqlStore.for_writing()
        seed_world(store)
        store.flush()
        db.session.commit()

    def read_store(self) -> Store:
        db.session.commit()
        return SqlStore.for_reading()


def add_users(actors: tuple[Actor, ...]) -> None:
    """Add a neighbourhood and a user row for each actor (changeset logs name their user)."""
    db.session.add(Neighbourhood(id="n", slug="test", name="test"))
    db.session.flush()
    for actor in actors:
        db.session.add(
            User(
                id=actor.user_id,
                username=f"user-{actor.user_id}",
                display_name="x",
                password_hash="x",
                role=actor.role,
                neighbourhood_id="n",
                scope_kind="neighbourhood",
                created_at=utcnow(),
            )
        )
    db.session.flush()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def sql_app(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('convergence')}/c.db"
    else:
        from tests.conftest import pg_execute, pg_url_for, require_postgres

        require_postgres()

        # A name of its own: two test runs at once must not drop each other's database.
        name = f"wg_convergence_{uuid.uuid4().hex[:8]}"
        pg_execute(f"CREATE DATABASE {name}")
        request.addfinalizer(lambda: pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        url = pg_url_for(name)
    app = make_app(url)
    with app.app_context():
        database.upgrade_schema()
        add_users(USERS)
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=convergence.steps, skew_seconds=convergence.skews)
def test_devices_converge_on_the_sql_store(sql_app, steps, skew_seconds):
    with sql_app.app_context():
        convergence.run(steps, skew_seconds, SqlWorld())
        assert_change_index_holds_each_record_at_its_version()


@pytest.mark.parametrize("seed", range(5))
def test_long_seeded_runs_converge_on_the_sql_store(sql_app, seed):
    steps, skews = convergence.seeded_steps(random.Random(seed), 120)
    with sql_app.app_context():
        convergence.run(steps, skews, SqlWorld())
        assert_change_index_holds_each_record_at_its_version()


def assert_change_index_holds_each_record_at_its_version() -> None:
    """Check ``record_scope``: one row a record's compound, at its version now, and no other.

    Its rows are keyed by place and version and replaced at each write of
    their record (``server.store.SqlStore.flush``): a row left at an old
    version, or missing, would make a pull page short or skip a change.
    """
    expected = set()
    for record_id, record_type, version, scope in db.session.execute(
        select(RecordRow.id, RecordRow.type, RecordRow.version, RecordRow.scope)
    ):
        place = scope_from_text(scope)
        expected |= {
            (compound, version, record_type, record_id, place.building_id)
            for compound in place.compound_ids
        }
    table = RecordScope.__table__.c
    found = db.session.execute(
        select(
            table.compound_id, table.version, table.record_type, table.record_id, table.building_id
        )
    ).all()
    assert len(found) == len(set(found))
    assert set(found) == expected
    db.session.commit()
