"""The store contract: every :class:`sync.store.Store` must pass these tests.

Run them against a store by importing them into a test module that provides
a ``store`` fixture (an empty store, inside whatever transaction it needs)::

    from tests.sync.store_contract import *  # noqa: F403

``tests/sync/test_memory_store.py`` runs them on the memory store; the SQL
store in ``server/`` runs the same functions.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sync import FieldStamp, Record, RecordedResult, Scope, Store, UserScope

A, B, C = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
BUILDING = "00000000-0000-4000-8000-0000000000b1"
MADE_AT = datetime(2022, 3, 23, 10, 0, 0, 123000, tzinfo=UTC)
EVERYTHING = UserScope(everything=True)
NOTHING_EXCLUDED: frozenset[str] = frozenset()


def put_record(
    store: Store,
    record_id: str,
    compounds: tuple[str, ...] = (A,),
    building: str | None = None,
    type_: str = "task",
    deleted: bool = False,
    previous: Scope | None = None,
    **fields: object,
) -> Record:
    """Write a record at a fresh version and return it."""
    version = store.next_version()
    fields = fields or {"title": f"v{version}"}
    record = Record(
        type_,
        record_id,
        version,
        deleted,
        dict(fields),
        dict.fromkeys(fields, FieldStamp(version, MADE_AT, 7)),
        Scope(frozenset(compounds), building),
    )
    store.put(record, previous)
    return record


def rid(n: int) -> str:
    """Return the id of test record ``n``."""
    return f"10000000-0000-4000-8000-{n:012d}"


def ids(store: Store, scope: UserScope, cursor: int = 0, limit: int = 100) -> list[str]:
    """Return the ids a page returns."""
    return [r.id for r in store.page(scope, cursor, limit, NOTHING_EXCLUDED).records]


def test_store_starts_empty(store: Store) -> None:
    assert store.high_water() == 0
    assert store.get(rid(1)) is None
    assert store.get_many([rid(1)]) == {}
    page = store.page(EVERYTHING, 0, 10, NOTHING_EXCLUDED)
    assert (page.records, page.cursor, page.more) == ((), 0, False)


def test_store_versions_increase_and_high_water_follows(store: Store) -> None:
    first, second = store.next_version(), store.next_version()
    assert 0 < first < second
    assert store.high_water() == second


def test_store_put_then_get_returns_the_same_record(store: Store) -> None:
    record = put_record(store, rid(1), (A, B), BUILDING, needs=["x"], n=3, none=None)
    assert store.get(rid(1)) == record


def test_store_put_replaces_and_get_many_includes_deleted(store: Store) -> None:
    put_record(store, rid(1))
    newer = put_record(store, rid(1), deleted=True)
    put_record(store, rid(2))
    found = store.get_many([rid(1), rid(2), rid(3)])
    assert set(found) == {rid(1), rid(2)}
    assert found[rid(1)] == newer


def test_store_keeps_the_install_of_each_stamp(store: Store) -> None:
    version = store.next_version()
    stamps = {
        "title": FieldStamp(version, MADE_AT, 7, "phone-install"),
        "notes": FieldStamp(version - 1 or version, MADE_AT, 7),  # install unknown
    }
    record = Record(
        "task", rid(1), version, False, {"title": "t", "notes": "n"}, stamps, Scope(frozenset({A}))
    )
    store.put(record, None)
    (read,) = store.page(EVERYTHING, 0, 10, NOTHING_EXCLUDED).records
    assert read == replace(record, stamps={})  # a page carries no stamps
    # Read back: the page had a SQL store write what it buffered.
    assert dict(store.get(rid(1)).stamps) == stamps  # type: ignore[union-attr]
    assert store.get(rid(1)) == record


def test_store_records_and_returns_changeset_results(store: Store) -> None:
    result = {"id": "cs-1", "status": "applied", "changes": [{"conflict": None, "v": [1]}]}
    store.record_result("cs-1", RecordedResult(7, result))
    found = store.recorded_results(["cs-1", "cs-2"])
    assert found == {"cs-1": RecordedResult(7, result)}


def test_store_page_is_in_version_order_at_latest_versions(store: Store) -> None:
    put_record(store, rid(1))
    put_record(store, rid(2))
    latest = put_record(store, rid(1))
    page = store.page(EVERYTHING, 0, 10, NOTHING_EXCLUDED)
    assert [r.id for r in page.records] == [rid(2), rid(1)]
    assert page.records[-1] == replace(latest, stamps={})
    assert ids(store, EVERYTHING, cursor=latest.version) == []


def test_store_page_filters_by_compound_and_building(store: Store) -> None:
    put_record(store, rid(1), (A,))
    put_record(store, rid(2), (B,), BUILDING)
    put_record(store, rid(3), (A, C))
    put_record(store, rid(4), (B,))
    assert ids(store, UserScope(compound_ids=frozenset({A}))) == [rid(1), rid(3)]
    assert ids(store, UserScope(compound_ids=frozenset({C}))) == [rid(3)]
    assert ids(store, UserScope(building_ids=frozenset({BUILDING}))) == [rid(2)]
    assert ids(store, UserScope()) == []


def test_store_page_excludes_types(store: Store) -> None:
    put_record(store, rid(1))
    put_record(store, rid(2), type_="conflict")
    page = store.page(EVERYTHING, 0, 10, frozenset({"conflict"}))
    assert [r.id for r in page.records] == [rid(1)]


def test_store_page_keeps_only_the_types_asked_for(store: Store) -> None:
    put_record(store, rid(1))
    put_record(store, rid(2), type_="building")
    put_record(store, rid(3), type_="resident")
    first = put_record(store, rid(4), (A,))
    put_record(store, rid(4), (B,), previous=first.scope)  # a task leaving A
    in_a = UserScope(compound_ids=frozenset({A}))
    page = store.page(in_a, 0, 10, NOTHING_EXCLUDED, frozenset({"task", "building"}))
    assert [(r.id, r.deleted) for r in page.records] == [
        (rid(1), False),
        (rid(2), False),
        (rid(4), True),
    ]
    only_residents = store.page(in_a, 0, 10, NOTHING_EXCLUDED, frozenset({"resident"}))
    assert [r.id for r in only_residents.records] == [rid(3)]


def test_store_page_returns_deleted_records_in_scope(store: Store) -> None:
    put_record(store, rid(1))
    put_record(store, rid(1), deleted=True)
    (record,) = store.page(EVERYTHING, 0, 10, NOTHING_EXCLUDED).records
    assert record.deleted and record.envelope()["fields"] == {}


def test_store_page_limit_more_and_cursor(store: Store) -> None:
    written = [put_record(store, rid(n)) for n in range(5)]
    page = store.page(EVERYTHING, 0, 2, NOTHING_EXCLUDED)
    assert [r.id for r in page.records] == [rid(0), rid(1)]
    assert (page.cursor, page.more) == (written[1].version, True)
    rest = store.page(EVERYTHING, page.cursor, 3, NOTHING_EXCLUDED)
    assert [r.id for r in rest.records] == [rid(2), rid(3), rid(4)]
    assert (rest.cursor, rest.more) == (store.high_water(), False)


def test_store_page_cursor_is_high_water_when_nothing_matches(store: Store) -> None:
    put_record(store, rid(1), (B,))
    store.next_version()  # a version taken by a rejected changeset
    page = store.page(UserScope(compound_ids=frozenset({A})), 0, 10, NOTHING_EXCLUDED)
    assert (page.records, page.cursor, page.more) == ((), store.high_water(), False)


def test_store_page_sends_a_tombstone_to_the_scope_left(store: Store) -> None:
    first = put_record(store, rid(1), (A,))
    moved = put_record(store, rid(1), (B,), previous=first.scope)
    (tombstone,) = store.page(
        UserScope(compound_ids=frozenset({A})), 0, 10, NOTHING_EXCLUDED
    ).records
    assert tombstone.envelope() == {
        "type": "task",
        "id": rid(1),
        "version": moved.version,
        "deleted": True,
        "fields": {},
    }
    assert ids(store, UserScope(compound_ids=frozenset({B}))) == [rid(1)]
    assert ids(store, UserScope(compound_ids=frozenset({A, B}))) == [rid(1)]
    both = store.page(UserScope(compound_ids=frozenset({A, B})), 0, 10, NOTHING_EXCLUDED)
    assert both.records[0].deleted is False


def test_store_page_sends_the_tombstone_once(store: Store) -> None:
    first = put_record(store, rid(1), (A,))
    put_record(store, rid(1), (B,), previous=first.scope)
    cursor = store.high_water()
    put_record(store, rid(1), (B,), title="later")
    assert ids(store, UserScope(compound_ids=frozenset({A})), cursor) == []


def test_store_page_building_exit_is_a_tombstone(store: Store) -> None:
    first = put_record(store, rid(1), (A,), BUILDING)
    put_record(store, rid(1), (A,), None, previous=first.scope)
    (record,) = store.page(
        UserScope(building_ids=frozenset({BUILDING})), 0, 9, frozenset()
    ).records
    assert record.deleted is True


def test_store_page_record_back_in_scope_is_sent_whole(store: Store) -> None:
    first = put_record(store, rid(1), (A,))
    second = put_record(store, rid(1), (B,), previous=first.scope)
    back = put_record(store, rid(1), (A,), previous=second.scope)
    (record,) = store.page(UserScope(compound_ids=frozenset({A})), 0, 9, frozenset()).records
    assert record == replace(back, stamps={})


def test_store_page_tombstone_survives_a_page_break(store: Store) -> None:
    first = put_record(store, rid(1), (A,))
    exit_ = put_record(store, rid(1), (B,), previous=first.scope)
    other = put_record(store, rid(2), (A,))
    put_record(store, rid(1), (B,), title="updated elsewhere")
    in_a = UserScope(compound_ids=frozenset({A}))
    page = store.page(in_a, 0, 1, NOTHING_EXCLUDED)
    assert [(r.id, r.version, r.deleted) for r in page.records] == [(rid(1), exit_.version, True)]
    rest = store.page(in_a, page.cursor, 1, NOTHING_EXCLUDED)
    assert [r.id for r in rest.records] == [other.id]
    assert store.page(in_a, rest.cursor, 1, NOTHING_EXCLUDED).records == ()
