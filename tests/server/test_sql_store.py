"""The SQL store passes the same contract suite as the memory store, on both databases."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Text, cast, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from server import database
from server.extensions import db
from server.models import ChangesetLog, PushLog, RecordRow, RecordScope, ScopeExit, SyncState
from server.store import (
    CHUNK,
    DELETE_SCOPES,
    MOST_STATEMENTS,
    READ_RECORDS,
    REGISTERED_TYPES,
    PageFilters,
    ReadByIds,
    SqlStore,
    scoped_page_query,
    stored_json,
)
from sync import UserScope
from sync.records import Scope, read_json
from sync.store import RecordedResult
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


def test_a_page_holds_a_record_once_when_it_moves_between_the_pages_reads(store):
    # Issue 7, item 11 on PostgreSQL: each statement of a READ COMMITTED pull
    # sees its own snapshot. A record that left compound A and came back is
    # read as itself; then a push moving it out again commits before the
    # exits (scope_exit) are read, which must not add a tombstone of its
    # first exit to the same page.
    first = put_record(store, rid(1), (A,))
    away = put_record(store, rid(1), (B,), previous=first.scope)
    back = put_record(store, rid(1), (A,), previous=away.scope)
    store.flush()
    db.session.commit()
    reader = SqlStore.for_reading()
    moved: list[str] = []

    def move_out_first(conn, cursor, statement, *args):
        if "scope_exit" not in statement or moved:
            return
        moved.append(statement)
        with db.engine.connect() as other:  # another connection: a push committing now
            other.execute(
                update(RecordScope).where(RecordScope.record_id == rid(1)).values(compound_id=B)
            )
            other.execute(
                insert(ScopeExit).values(
                    record_id=rid(1), record_type="task", compound_id=A, version=back.version + 1
                )
            )
            other.commit()

    event.listen(db.engine, "before_cursor_execute", move_out_first)
    try:
        page = reader.page(UserScope(compound_ids=frozenset({A})), 0, 10, frozenset())
    finally:
        event.remove(db.engine, "before_cursor_execute", move_out_first)
    assert moved
    assert [r.id for r in page.records] == [rid(1)], page.records


def test_a_pull_page_of_everything_is_read_along_the_version_range(store):
    # Issue 16: a pull's cost follows the page. The page of a user who sees
    # everything is read along the version index from the cursor, never from
    # an index that finds every record of the wanted types (SQLite chose
    # ix_record_type, then sorted).
    for n in range(30):
        put_record(store, rid(n), (A,), type_="task" if n % 2 else "notice")
    store.flush()
    db.session.commit()
    reader = SqlStore.for_reading()
    only = frozenset({"task", "notice"})
    plan = database.plan_of(
        lambda: reader.page(
            UserScope(everything=True), reader.high_water() - 5, 10, frozenset(), only
        ),
        avoid_seq_scans=True,
    )
    assert "ix_record_type" not in plan, plan
    assert "Hash" not in plan, plan
    assert re.search(
        r"SEARCH record USING (?:COVERING )?INDEX \S+ \(version>\? AND version<\?\)"
        r"|Index Scan using record_version_key on record",
        plan,
    ), plan


@pytest.mark.parametrize(
    "scope",
    [
        UserScope(compound_ids=frozenset({A})),
        UserScope(compound_ids=frozenset({A, B})),
        UserScope(building_ids=frozenset({"b-1"})),
    ],
)
def test_a_scoped_pull_page_reads_each_place_from_the_change_index(store, scope):
    # Issue 16: a scoped page reads each of its places' changes along
    # record_scope's (place, version) index, and the records by version: it never
    # walks the version index of every record testing each one's scope, nor
    # hashes the scope's rows (PostgreSQL's semi-join over a neighbourhood).
    for n in range(30):
        put_record(store, rid(n), (A if n % 3 else B,), building="b-1" if n % 2 else None)
    store.flush()
    db.session.commit()
    reader = SqlStore.for_reading()
    reader._tombstones = lambda *args: []  # type: ignore[method-assign]
    plan = database.plan_of(
        lambda: reader.page(scope, reader.high_water() - 5, 10, frozenset(), frozenset({"task"})),
        avoid_seq_scans=True,
    )
    assert "Hash" not in plan, plan
    if scope.building_ids:
        index = "ix_record_scope_building_version"
        sqlite_index = f"COVERING INDEX {index} \\(building_id"
    else:  # the table's key (compound_id, version) on SQLite, its index on PostgreSQL
        index, sqlite_index = "record_scope_pkey", "PRIMARY KEY \\(compound_id"
    assert re.search(
        rf"SEARCH record_scope USING {sqlite_index}=\? AND version>\? AND"
        rf"|Index Only Scan using {index} on record_scope",
        plan,
    ), plan
    assert re.search(
        r"SEARCH record USING INDEX \S+ \(version=\?\)"
        r"|Index Scan using record_version_key on record",
        plan,
    ), plan


def test_a_scoped_pull_page_tests_its_exits_scope_by_place_and_version(store):
    # Issue 16: whether a record that left a building is back in the scope is
    # a look at its own scope rows, by place and its version now. SQLite's
    # planner once read the building's every row from its change index for
    # each exit instead.
    for n in range(10):
        put_record(store, rid(n), (A,), building="b-1")
    for n in range(3):
        put_record(store, rid(n), (A,), building="b-2", previous=Scope(frozenset({A}), "b-1"))
    store.flush()
    db.session.commit()
    reader = SqlStore.for_reading()
    scope = UserScope(building_ids=frozenset({"b-1"}))
    page = reader.page(scope, 0, 20, frozenset())
    assert {r.id for r in page.records if r.deleted} == {rid(n) for n in range(3)}
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL weighs the indexes by statistics a test-sized table lacks
    plan = database.plan_of(lambda: reader.page(scope, 0, 20, frozenset()))
    index = "ix_record_scope_building_version"
    assert re.search(
        rf"SEARCH record_scope USING (COVERING )?INDEX {index} \(building_id=\? AND version=\?\)",
        plan,
    ), plan
    assert not re.search(r"ix_record_scope_building_version \(building_id=\?\)$", plan, re.M), plan


def test_the_scope_rows_an_edit_replaces_are_found_key_by_key(store):
    # Issue 16: the rows of the versions a push's edits replace are looked up
    # by record_scope's key, one key at a time, however many rows it holds.
    # PostgreSQL planned the keys joined as a table (USING, IN, LATERAL) as a
    # hash join over the whole table, and "= ANY" of the places and of the
    # versions as a scan of the places.
    for n in range(3000):
        put_record(store, rid(n), (A if n % 2 else B,))
    store.flush()
    db.session.commit()
    connection = db.session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.exec_driver_sql("ANALYZE record_scope")
    keys = [(A if n % 2 else B, n + 1) for n in range(0, 3000, 40)]  # record n is at n + 1
    sql = DELETE_SCOPES.statement(connection.dialect)
    params = DELETE_SCOPES.parameters(keys) if postgresql else keys[0]
    explain = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
    plan = "\n".join(str(row) for row in connection.exec_driver_sql(explain + sql, params))
    assert re.search(
        r"SEARCH record_scope USING PRIMARY KEY \(compound_id=\? AND version=\?\)"
        r"|Index Scan using record_scope_pkey on record_scope",
        plan,
    ), plan
    assert "Seq Scan" not in plan and "Hash" not in plan, plan
    connection.exec_driver_sql(sql, params if postgresql else keys)
    left = set(db.session.execute(select(RecordScope.compound_id, RecordScope.version)))
    assert len(left) == 3000 - len(keys) and not left & set(keys)


def pages_and_statements(scope: UserScope, cursors: list[int]) -> list[tuple[set[str], str]]:
    """Pull one page from each cursor through a reading store as a pull opens it.

    Returns each page's tombstoned record ids and the statement that read it.
    """
    found = []
    with statements_sent() as sent:
        for cursor in cursors:
            reader = SqlStore.for_reading()
            sent.clear()
            page = reader.page(scope, cursor, 20, frozenset())
            assert len(sent) == 1, sent
            found.append(({r.id for r in page.records if r.deleted}, sent[0]))
    return found


@contextmanager
def statements_sent() -> Iterator[list[str]]:
    """Yield the list of SQL statements sent to the database while the block runs."""
    sent: list[str] = []

    def note(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_a_pull_from_below_the_latest_exit_gets_its_tombstone_and_from_above_none(store):
    # Issue 16: above the highest version of any exit (the exits' high-water
    # mark) a scoped page's statement leaves its exits' part out; below it,
    # every exit still comes as a tombstone, however many changes follow it.
    put_record(store, rid(1), (A,))
    put_record(store, rid(2), (A,))
    left = put_record(store, rid(1), (B,), previous=Scope(frozenset({A}), None))
    for n in range(3, 8):
        put_record(store, rid(n), (A,))
    store.flush()
    db.session.commit()
    scope = UserScope(compound_ids=frozenset({A}))
    cursors = [0, left.version - 1, left.version, left.version + 2]
    (first, below, at, above) = pages_and_statements(scope, cursors)
    assert first[0] == below[0] == {rid(1)}
    assert "scope_exit" in below[1]
    assert at[0] == set() and "scope_exit" not in at[1]
    assert above[0] == set() and "scope_exit" not in above[1]


def test_a_pull_of_a_store_that_does_not_know_the_exits_mark_reads_the_exits(store):
    # A writing store has not read the exits' high-water mark: its pages keep
    # the exits' part whatever the cursor.
    put_record(store, rid(1), (A,))
    put_record(store, rid(1), (B,), previous=Scope(frozenset({A}), None))
    put_record(store, rid(2), (A,))
    store.flush()
    with statements_sent() as sent:
        page = store.page(UserScope(compound_ids=frozenset({A})), 2, 10, frozenset())
    assert [r.id for r in page.records] == [rid(2)]
    assert len(sent) == 1 and "scope_exit" in sent[0]


def rows_touched(action) -> int:
    """Return how much work the database did for the last statement ``action`` runs.

    SQLite: the virtual machine's steps (a progress handler called every
    step); PostgreSQL: the rows every node of ``EXPLAIN ANALYZE`` handled.
    Deterministic for the same data, unlike a time.
    """
    statement, params = database.last_statement(action)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        (plan,) = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params
        ).scalar_one()
        db.session.rollback()

        def rows(node) -> int:
            own = node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
            own += node.get("Rows Removed by Filter", 0) * node.get("Actual Loops", 1)
            return own + sum(rows(child) for child in node.get("Plans", ()))

        return rows(plan["Plan"])
    raw = connection.connection.dbapi_connection
    steps = [0]

    def step() -> int:
        steps[0] += 1
        return 0

    raw.set_progress_handler(step, 1)
    try:
        connection.exec_driver_sql(statement, params).all()
    finally:
        raw.set_progress_handler(None, 1)
        db.session.rollback()
    return steps[0]


def test_a_scoped_pull_page_costs_the_same_however_many_records_lie_outside_the_scope(store):
    # Issue 16: vol-b's first sync grew with the whole database. Compounds A
    # and C have the same records, the page straddling a gap that other
    # compounds' records fill: 100 of them in A's, 3,000 in C's. Walking the
    # version index read every one of them; the change index reads A's and
    # C's alone.
    C = "c0000000-0000-4000-8000-00000000000c"
    n = 0

    def fill(compound: str, count: int) -> None:
        nonlocal n
        for _ in range(count):
            put_record(store, rid(n), (compound,))
            n += 1

    for place, gap in ((A, 100), (C, 3000)):
        fill(place, 20)
        fill(B, gap)
        fill(place, 20)
    store.flush()
    db.session.commit()
    reader = SqlStore.for_reading()
    reader._tombstones = lambda *args: []  # type: ignore[method-assign]

    def first_page(compound: str):
        return lambda: reader.page(
            UserScope(compound_ids=frozenset({compound})), 0, 30, frozenset()
        )

    small_gap, large_gap = rows_touched(first_page(A)), rows_touched(first_page(C))
    assert large_gap < 1.5 * small_gap, (small_gap, large_gap)
    page = first_page(C)()
    assert len(page.records) == 30 and page.more


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=lambda d: d.name)
def test_a_scoped_page_of_a_few_places_is_rendered_once(dialect):
    """No list is bound whole: SQLAlchemy would render the statement afresh at each pull (#16)."""
    for only_types, places in ((None, (2, 1)), (0, (1, 0)), (3, (0, 2))):
        filters = PageFilters(exclude_types=2, only_types=only_types, scoped=True)
        statement = scoped_page_query(filters, dialect.name, places)
        assert not statement.compile(dialect=dialect).post_compile_params


@pytest.mark.parametrize("wanted", [frozenset(), frozenset({"task"}), None])
def test_a_page_keeps_to_the_types_wanted_even_none(store, wanted):
    put_record(store, rid(1), type_="task")
    put_record(store, rid(2), type_="building")
    page = store.page(UserScope(frozenset({A}), frozenset()), 0, 10, frozenset(), wanted)
    assert {r.type for r in page.records} == ({"task", "building"} if wanted is None else wanted)


@pytest.mark.parametrize("missing", [None, "building"])
def test_a_page_filters_by_type_unless_every_registered_type_is_wanted(store, missing):
    """A role that receives every type reads its page with no type list (#16), else with one.

    A role missing a type (here ``building``) must not get it from the store.
    """
    put_record(store, rid(1), type_="task")
    put_record(store, rid(2), type_="building")
    store.flush()
    with statements_sent() as sent:
        wanted = REGISTERED_TYPES - {missing}
        scope = UserScope(compound_ids=frozenset({A}))
        page = store.page(scope, 0, 10, frozenset(), wanted)
    assert {r.type for r in page.records} == {"task", "building"} - {missing}
    assert len(sent) == 1
    # ``record_scope.record_type IN (...)``, ``(record.type || '') IN (...)``, ...
    assert bool(re.search(r"type( \|\| \S+\))? IN \(", sent[0])) == (missing is not None)


def test_a_flush_of_more_rows_than_one_statement_takes_writes_every_row(store):
    # Issue 16: a push's rows go out a chunk (CHUNK rows) a statement, the
    # last chunk shorter; each record's two compounds make twice the scope rows.
    count = CHUNK + 3
    written = [put_record(store, rid(n), (A, B)) for n in range(count)]
    moved = [put_record(store, rid(n), (B,), previous=written[n].scope) for n in range(2)]
    store.flush()
    versions = dict(db.session.execute(select(RecordRow.id, RecordRow.version)).all())
    assert versions == {r.id: r.version for r in [*written[2:], *moved]}
    scope_rows = db.session.execute(
        select(RecordScope.record_id, RecordScope.compound_id, RecordScope.version)
    ).all()
    assert len(scope_rows) == 2 * count - 2
    assert all(version == versions[record_id] for record_id, _, version in scope_rows)
    exits = db.session.execute(select(ScopeExit.record_id, ScopeExit.compound_id)).all()
    # An exit row per compound of the scope left, as ever.
    assert sorted(exits) == sorted((rid(n), c) for n in range(2) for c in (A, B))
    assert store.high_water() == db.session.scalar(select(SyncState.high_water))


def test_a_push_stores_fields_stamps_and_results_as_the_text_it_encoded_them_to(store):
    # The push's own multi-row statements (server.store.RowsWrite) store each
    # JSON value as server.jsontext.stored_json encodes it (orjson's compact
    # UTF-8), which replays and pulls read back whole.
    add_users((COORD,))
    received_at = datetime(2022, 4, 2, 10, 0, 0, 123456, tzinfo=UTC)
    store = SqlStore.for_writing(client_id="install-1", received_at=received_at)
    record = put_record(store, rid(1), title="送菜 \u00e9", priority=2)
    result = {"changeset_id": "c-1", "status": "applied", "changes": [{"id": rid(1)}]}
    store.record_result("c-1", RecordedResult(COORD.user_id, result))
    store.flush()
    stored = db.session.execute(
        select(cast(RecordRow.stamps, Text), RecordRow.fields, RecordRow.deleted)
    ).one()
    assert stored == (stored_json(record.stamps_to_wire()), dict(record.fields), False)
    assert read_json(stored[0]) == record.stamps_to_wire()
    if db.engine.dialect.name == "sqlite":  # PostgreSQL keeps fields as jsonb, its own form
        fields_text = db.session.scalar(select(cast(RecordRow.fields, Text)))
        assert fields_text == stored_json(dict(record.fields))
    logged = db.session.execute(
        select(cast(ChangesetLog.result, Text), PushLog.received_at, PushLog.client_id).join(
            PushLog, PushLog.id == ChangesetLog.push_id
        )
    ).one()
    assert logged[0] == stored_json(result)
    assert logged[1].replace(tzinfo=UTC) == received_at
    assert logged[2] == "install-1"
    assert store.recorded_results(["c-1"]) == {"c-1": RecordedResult(COORD.user_id, result)}


def test_a_pushs_results_name_one_push_row_however_often_it_flushes(store):
    # Issue 16: who pushed, from which device and install, and when is one
    # push_log row a push, not a copy on every changeset's row. On
    # PostgreSQL its id comes with the push's first statement (open_push).
    add_users((COORD,))
    received_at = datetime(2022, 4, 2, 10, 0, 0, 123456, tzinfo=UTC)
    ids = ["c-1", "c-2", "c-3"]
    store = SqlStore.for_writing(client_id="install-1", received_at=received_at, changeset_ids=ids)
    for changeset_id in ids[:2]:
        store.record_result(changeset_id, RecordedResult(COORD.user_id, {"id": changeset_id}))
    store.flush()
    store.record_result("c-3", RecordedResult(COORD.user_id, {"id": "c-3"}))
    store.flush()
    pushes = db.session.execute(
        select(PushLog.id, PushLog.user_id, PushLog.device_token_id, PushLog.client_id)
    ).all()
    assert [tuple(push[1:]) for push in pushes] == [(COORD.user_id, None, "install-1")]
    logged = dict(db.session.execute(select(ChangesetLog.id, ChangesetLog.push_id)).all())
    assert logged == dict.fromkeys(ids, pushes[0].id)
    assert store.recorded_results(ids) == {
        cid: RecordedResult(COORD.user_id, {"id": cid}) for cid in ids
    }


@pytest.mark.parametrize(
    "text", ['"quoted", \\ back, slash', "\u0000 \x1f \u2028", "送菜 \U0001f600", "\udc80 lone"]
)
def test_results_are_stored_as_the_text_they_were_encoded_to_whatever_they_hold(store, text):
    # Issue 16: PostgreSQL gets the results' stored text spliced into one
    # JSON array (server.store.RowsWrite), not encoded again as JSON strings:
    # quotes, backslashes, escapes and non-ASCII text must come back as written.
    # The receipt time, install and user every row shares are encoded once.
    add_users((COORD,))
    received_at = datetime(2022, 4, 2, 10, 0, 0, 123456, tzinfo=UTC)
    store = SqlStore.for_writing(client_id="install-1", received_at=received_at)
    results = {f"c-{n}": {"id": f"c-{n}", "detail": text * n, "n": n} for n in range(3)}
    for changeset_id, result in results.items():
        store.record_result(changeset_id, RecordedResult(COORD.user_id, result))
    store.flush()
    logged = db.session.execute(
        select(
            ChangesetLog.id,
            cast(ChangesetLog.result, Text),
            PushLog.user_id,
            PushLog.client_id,
            PushLog.received_at,
        ).join(PushLog, PushLog.id == ChangesetLog.push_id)
    ).all()
    assert {row[0]: row[1] for row in logged} == {
        cid: stored_json(result) for cid, result in results.items()
    }
    assert {(row[2], row[3], row[4].replace(tzinfo=UTC)) for row in logged} == {
        (COORD.user_id, "install-1", received_at)
    }
    assert store.recorded_results(list(results)) == {
        cid: RecordedResult(COORD.user_id, result) for cid, result in results.items()
    }


@pytest.mark.parametrize("expected_writes", [1, 250])
def test_a_push_reads_its_changesets_results_as_it_opens_and_its_own_once_written(
    store, expected_writes
):
    # Issue 16: on PostgreSQL a push's claim or lock and the read of its
    # changesets' recorded results are one statement (server.store.open_push).
    # What it found answers the engine; what the push records after answers
    # too, before and after it is written (its flush drops what it read).
    add_users((COORD,))
    earlier = {"id": "c-1", "status": "applied", "changes": []}
    store.record_result("c-1", RecordedResult(COORD.user_id, earlier))
    store.flush()
    db.session.commit()
    ids = ["c-1", "c-2", "c-3"]
    pushed = SqlStore.for_writing(changeset_ids=ids, expected_writes=expected_writes)
    assert pushed.recorded_results(ids) == {"c-1": RecordedResult(COORD.user_id, earlier)}
    now = {"id": "c-2", "status": "applied", "changes": []}
    pushed.record_result("c-2", RecordedResult(COORD.user_id, now))
    assert pushed.recorded_results(["c-2"]) == {"c-2": RecordedResult(COORD.user_id, now)}
    pushed.next_version()
    pushed.flush()
    assert pushed.recorded_results(ids) == {
        "c-1": RecordedResult(COORD.user_id, earlier),
        "c-2": RecordedResult(COORD.user_id, now),
    }
    db.session.commit()
    assert db.session.scalar(select(SyncState.high_water)) >= 1


def test_a_read_of_a_new_count_of_ids_compiles_its_query_once_and_keeps_few():
    # Issue 16: a push's count of records it reads locked varies, and a
    # statement per count compiled the query again each time (0.4 ms).
    compiled: list[object] = []

    class Counted:
        def compile(self, dialect: object) -> object:
            compiled.append(dialect)
            return READ_RECORDS.query.compile(dialect=dialect)

    reads = ReadByIds(Counted(), RecordRow.id)
    dialect = postgresql.psycopg2.dialect()
    for count in range(1, 40):
        expected = f"{READ_RECORDS.query.compile(dialect=dialect)} WHERE record.id IN ("
        assert reads.statement(dialect, count).startswith(expected)
        assert reads.locked_statement(dialect, count, 3).count(expected) == 2
    reads.statement(sqlite.dialect(), 2)
    assert len(compiled) == 2
    for count in range(MOST_STATEMENTS + 10):
        reads.locked_statement(dialect, count, 1)
    assert len(reads._statements) <= MOST_STATEMENTS


def test_a_push_reads_its_records_deleted_or_not_as_booleans(store):
    # Issue 16: a push reads its records as the driver's own SQL
    # (server.store.ReadByIds), without SQLAlchemy's result types: SQLite's
    # 0 and 1 must still reach the engine, and the wire, as false and true.
    put_record(store, rid(1))
    put_record(store, rid(2), deleted=True)
    store.flush()
    db.session.commit()
    found = SqlStore.for_writing().get_many([rid(1), rid(2), rid(3)])
    assert [found[rid(n)].deleted for n in (1, 2)] == [False, True]
    assert all(type(record.deleted) is bool for record in found.values())
    assert found[rid(2)].envelope()["deleted"] is True
    assert rid(3) not in found


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"title": "送菜 \u00e9", "priority": 2, "done": True, "notes": None},
        {"weight": 0.1, "big": 1e300, "tiny": -0.0, "max": 2**63 - 1},
        {"nested": {"list": [1, "two", {"three": [3]}]}, "quote": '"\\', "emoji": "😀"},
    ],
)
def test_stored_json_reads_back_as_the_value_it_stored(value):
    # Issue 16: a push's JSON values are encoded by orjson: compact UTF-8
    # text that the store's reader (and any JSON parser) reads back whole.
    text = stored_json(value)
    assert read_json(text) == value
    assert json.loads(text) == value
    assert "\\u" not in text  # characters as they are, not escaped


@pytest.mark.parametrize("value", [{"lone": "\ud800"}, {"huge": 2**70}, {1: "a key not text"}])
def test_what_orjson_refuses_is_stored_as_the_standard_library_encodes_it(value):
    assert stored_json(value) == json.dumps(value)
    assert read_json(stored_json(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize(
    "text", ['{"lone": "\\udc80"}', '{"odd": NaN}', '{"far": 1e400}', '{"a": 1, "a": 2}']
)
def test_stored_text_orjson_refuses_is_read_as_before(text):
    # Rows written by earlier versions may hold what orjson will not read.
    assert repr(read_json(text)) == repr(json.loads(text))
