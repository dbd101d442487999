"""The SQL store passes the same contract suite as the memory store, on both databases."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import insert, select, update

from server import database
from server.extensions import db
from server.models import RecordRow, RecordScope, ScopeExit
from server.store import SqlStore
from sync import UserScope
from tests.conftest import make_app
from tests.server.test_sql_convergence import add_users
from tests.sync.builders import (
    COORD,
    TASK_A,
    a_changeset,
    an_update,
    conflicts_of,
    device_of,
    push,
    seed_world,
)
from tests.sync.store_contract import *  # noqa: F403
from tests.sync.store_contract import A, B, put_record, rid


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


def test_stamps_stored_before_installs_were_recorded_read_as_another_device(store):
    # Rows written before stamps named their install hold [version, made_at, by]:
    # they still read, and an edit judged against them keeps the loser.
    add_users((COORD,))
    seed_world(store)
    base = store.get(TASK_A).version
    push(store, COORD, a_changeset(an_update(TASK_A, base, notes="before the upgrade")))
    store.flush()
    (stamps,) = db.session.execute(select(RecordRow.stamps).where(RecordRow.id == TASK_A)).one()
    assert stamps["notes"][3] == device_of(COORD)
    legacy = {name: stamp[:3] for name, stamp in stamps.items()}
    db.session.execute(update(RecordRow).where(RecordRow.id == TASK_A).values(stamps=legacy))
    assert store.get(TASK_A).stamps["notes"].client_id is None
    push(store, COORD, a_changeset(an_update(TASK_A, base, notes="after the upgrade")))
    store.flush()
    (conflict,) = conflicts_of(store, TASK_A)
    assert conflict.fields["lost_value"] == "before the upgrade"
    assert (conflict.fields["lost_device"], conflict.fields["kept_device"]) == (
        None,
        device_of(COORD),
    )


def test_a_page_holds_a_record_once_when_it_moves_between_the_pages_reads(store, monkeypatch):
    # Issue 7, item 11 on PostgreSQL: each statement of a READ COMMITTED pull
    # sees its own snapshot. A record that left compound A and came back is
    # read as itself; then a push moving it out again commits before the
    # tombstone query, which would add a tombstone of its first exit.
    first = put_record(store, rid(1), (A,))
    away = put_record(store, rid(1), (B,), previous=first.scope)
    back = put_record(store, rid(1), (A,), previous=away.scope)
    store.flush()
    db.session.commit()
    reader = SqlStore.for_reading()
    tombstones = SqlStore._tombstones

    def move_out_first(self, *args):
        with db.engine.begin() as other:  # another connection: a push committing now
            other.execute(
                update(RecordScope).where(RecordScope.record_id == rid(1)).values(compound_id=B)
            )
            other.execute(
                insert(ScopeExit).values(
                    record_id=rid(1), record_type="task", compound_id=A, version=back.version + 1
                )
            )
        return tombstones(self, *args)

    monkeypatch.setattr(SqlStore, "_tombstones", move_out_first)
    page = reader.page(UserScope(compound_ids=frozenset({A})), 0, 10, frozenset())
    assert [(r.id, r.version, r.deleted) for r in page.records] == [(rid(1), back.version, False)]


@pytest.mark.parametrize(
    "scope", [UserScope(everything=True), UserScope(compound_ids=frozenset({A}))]
)
def test_a_pull_page_is_read_along_the_version_range(store, scope):
    # Issue 16: a pull's cost follows the page. The page is read along the
    # version index from the cursor and each row's scope tested as it comes,
    # never from an index that finds every record of the wanted types (SQLite
    # chose ix_record_type, then sorted) nor by hashing the scope's rows
    # (PostgreSQL's semi-join over a coordinator's whole neighbourhood).
    for n in range(30):
        put_record(store, rid(n), (A,), type_="task" if n % 2 else "notice")
    store.flush()
    db.session.commit()
    reader = SqlStore.for_reading()
    only = frozenset({"task", "notice"})
    # The plan of the page's own statement, not of the tombstones' after it.
    reader._tombstones = lambda *args: []  # type: ignore[method-assign]
    plan = database.plan_of(
        lambda: reader.page(scope, reader.high_water() - 5, 10, frozenset(), only),
        avoid_seq_scans=True,
    )
    assert "ix_record_type" not in plan, plan
    assert "Hash" not in plan, plan
    assert re.search(
        r"SEARCH record USING (?:COVERING )?INDEX \S+ \(version>\? AND version<\?\)"
        r"|Index Scan using record_version_key on record",
        plan,
    ), plan
