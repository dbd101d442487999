"""Pulls: MUST rules 18–20 (``docs/sync.md``), field visibility and live views."""

from __future__ import annotations

from datetime import timedelta

from sync import MemoryStore, changes_since, view_for
from sync.pull import MAX_LIMIT
from tests.sync.builders import (
    BUILDING_A,
    COMPOUND_A,
    COMPOUND_B,
    COORD,
    GUARD_A,
    LEADER_A,
    MEDIC,
    RESIDENT_A,
    T0,
    TASK_A,
    TASK_B,
    VOL_A,
    VOL_B,
    a_changeset,
    an_actor,
    an_update,
    conflicts_of,
    push,
    stored,
    version_of,
)


def pull_all(world: MemoryStore, actor: object, cursor: int = 0, limit: int = 3) -> list[dict]:
    """Pull pages of ``limit`` from ``cursor`` until ``more`` is false; return the envelopes."""
    out = []
    while True:
        page = changes_since(world, actor, cursor, limit)  # type: ignore[arg-type]
        out += [record.envelope() for record in page.records]
        assert page.cursor >= cursor
        cursor = page.cursor
        if not page.more:
            return out


def test_rule_18_pull_returns_scope_once_latest_in_version_order(world: MemoryStore) -> None:
    push(world, VOL_A, a_changeset(an_update(TASK_A, status="claimed")))
    push(world, VOL_A, a_changeset(an_update(TASK_A, status="in_progress")))
    changes = pull_all(world, VOL_A)
    ids = [c["id"] for c in changes]
    assert len(ids) == len(set(ids))
    versions = [c["version"] for c in changes]
    assert versions == sorted(versions)
    task = next(c for c in changes if c["id"] == TASK_A)
    assert task["fields"]["status"] == "in_progress"
    assert task["version"] == version_of(world, TASK_A)
    assert TASK_B not in ids and COMPOUND_B not in ids


def test_rule_19_cursor_is_the_high_water_mark_even_when_empty(world: MemoryStore) -> None:
    push(world, VOL_B, a_changeset(an_update(TASK_B, status="claimed")))
    page = changes_since(world, VOL_A, world.high_water() - 1)
    assert page.records == () and page.more is False
    assert page.cursor == world.high_water()


def test_rule_19_cursor_in_a_full_page_is_its_last_version(world: MemoryStore) -> None:
    page = changes_since(world, COORD, 0, 2)
    assert page.more is True
    assert page.cursor == page.records[-1].version


def test_rule_19_limit_defaults_to_500_and_caps_at_1000(world: MemoryStore) -> None:
    limits: list[int] = []

    class Recording(MemoryStore):
        def page(self, scope, cursor, limit, exclude_types, only_types=None):  # type: ignore[no-untyped-def]
            limits.append(limit)
            return super().page(scope, cursor, limit, exclude_types, only_types)

    store = Recording()
    changes_since(store, COORD)
    changes_since(store, COORD, 0, 5000)
    changes_since(store, COORD, 0, None)
    changes_since(store, COORD, 0, 0)
    assert limits == [500, MAX_LIMIT, 500, 1]


def test_rule_20_record_leaving_scope_comes_once_as_tombstone(world: MemoryStore) -> None:
    cursor = world.high_water()
    push(world, COORD, a_changeset(an_update(TASK_A, compound_id=COMPOUND_B, building_id=None)))
    (tombstone,) = pull_all(world, VOL_A, cursor)
    assert tombstone == {
        "type": "task",
        "id": TASK_A,
        "version": version_of(world, TASK_A),
        "deleted": True,
        "fields": {},
    }
    assert pull_all(world, VOL_A, world.high_water()) == []
    (arrived,) = pull_all(world, VOL_B, cursor)
    assert arrived["deleted"] is False and arrived["fields"]["compound_id"] == COMPOUND_B


def test_rule_20_later_writes_outside_scope_send_no_second_tombstone(world: MemoryStore) -> None:
    push(world, COORD, a_changeset(an_update(TASK_A, compound_id=COMPOUND_B, building_id=None)))
    cursor = world.high_water()
    push(world, COORD, a_changeset(an_update(TASK_A, title="elsewhere")))
    assert pull_all(world, VOL_A, cursor) == []


def test_rule_20_other_compounds_never_appear(world: MemoryStore) -> None:
    ids = {c["id"] for c in pull_all(world, VOL_A)}
    assert COMPOUND_A in ids and COMPOUND_B not in ids and TASK_B not in ids


def test_deleted_records_travel_without_fields(world: MemoryStore) -> None:
    cursor = world.high_water()
    push(world, COORD, a_changeset(an_update(TASK_A, title="x")))
    from tests.sync.builders import a_delete

    push(world, COORD, a_changeset(a_delete(TASK_A)))
    (deleted,) = pull_all(world, VOL_A, cursor)
    assert deleted["deleted"] is True and deleted["fields"] == {}


def test_conflicts_are_seen_by_coordinators_only(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    late = T0 + timedelta(minutes=1)
    push(world, COORD, a_changeset(an_update(TASK_A, base, notes="a"), made_at=late))
    push(
        world,
        an_actor("coordinator", 8, (COMPOUND_A,)),
        a_changeset(an_update(TASK_A, base, notes="b")),
    )
    (conflict,) = conflicts_of(world, TASK_A)
    assert conflict.id in {c["id"] for c in pull_all(world, COORD)}
    for actor in (VOL_A, GUARD_A, LEADER_A, MEDIC):
        assert conflict.id not in {c["id"] for c in pull_all(world, actor)}


def resident_as_seen_by(world: MemoryStore, actor: object) -> dict:
    """Return the resident's fields as ``actor`` pulls them."""
    return next(c for c in pull_all(world, actor) if c["id"] == RESIDENT_A)["fields"]


def test_guards_see_resident_names_but_not_needs_or_phone(world: MemoryStore) -> None:
    fields = resident_as_seen_by(world, GUARD_A)
    assert fields["name"] == "王秀英"
    assert not {"phone", "needs", "birth_year", "id_number_masked"} & fields.keys()


def test_team_leaders_see_name_and_phone_not_needs(world: MemoryStore) -> None:
    fields = resident_as_seen_by(world, LEADER_A)
    assert fields["phone"] == "13800000000"
    assert "needs" not in fields


def test_carers_see_everything_of_a_resident(world: MemoryStore) -> None:
    for actor in (VOL_A, COORD, MEDIC):
        assert resident_as_seen_by(world, actor) == dict(stored(world, RESIDENT_A).fields)


def test_building_scope_sees_its_building_only(world: MemoryStore) -> None:
    actor = an_actor("volunteer", 11, buildings=(BUILDING_A,))
    ids = {c["id"] for c in pull_all(world, actor)}
    assert {BUILDING_A, RESIDENT_A, TASK_A} <= ids
    assert COMPOUND_A not in ids and TASK_B not in ids


def test_view_for_live_events(world: MemoryStore) -> None:
    outcome = push(
        world, COORD, a_changeset(an_update(TASK_A, compound_id=COMPOUND_B, building_id=None))
    )
    (task,) = outcome.written
    moved_from = outcome.moved[TASK_A]
    assert view_for(VOL_B, task, moved_from) == task
    gone = view_for(VOL_A, task, moved_from)
    assert gone is not None and gone.envelope()["deleted"] is True
    assert view_for(GUARD_A, stored(world, TASK_B)) is None
    resident = view_for(GUARD_A, stored(world, RESIDENT_A))
    assert resident is not None and "needs" not in resident.fields


def test_every_registered_type_is_a_pinned_type_or_a_declared_extension() -> None:
    from sync.catalog import EXTENSION_TYPES, RECORD_TYPES, REGISTRY

    assert set(REGISTRY) <= RECORD_TYPES | EXTENSION_TYPES
    assert not EXTENSION_TYPES & RECORD_TYPES
