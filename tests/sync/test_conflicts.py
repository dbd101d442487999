"""Conflict rules: MUST rules 11–13 of ``sync/protocol.py``, and the merge itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from sync import FieldStamp, MemoryStore, Record, Scope
from sync.conflicts import Author, merge
from sync.records import stamps_from_wire
from tests.sync.builders import (
    COORD,
    COORD_A,
    MEDIC,
    RECEIVED,
    RESIDENT_A,
    T0,
    TASK_A,
    VOL_A,
    a_changeset,
    a_create,
    an_update,
    conflicts_of,
    device_of,
    only,
    push,
    stored,
    task_fields,
    version_of,
)

EARLY, LATE = T0, T0 + timedelta(minutes=10)


def test_rule_11_concurrent_edits_to_different_fields_both_apply(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    push(world, COORD, a_changeset(an_update(TASK_A, base, title="New title"), made_at=LATE))
    outcome = push(world, COORD_A, a_changeset(an_update(TASK_A, base, priority=1), made_at=EARLY))
    assert only(outcome).changes[0].status == "applied"
    fields = stored(world, TASK_A).fields
    assert (fields["title"], fields["priority"]) == ("New title", 1)
    assert conflicts_of(world, TASK_A) == []


def test_rule_12_edit_of_field_unchanged_since_base_wins(world: MemoryStore) -> None:
    push(world, COORD, a_changeset(an_update(TASK_A, title="Seen"), made_at=LATE))
    seen = version_of(world, TASK_A)
    outcome = push(
        world, COORD_A, a_changeset(an_update(TASK_A, seen, title="After"), made_at=EARLY)
    )
    assert only(outcome).changes[0].status == "applied"
    assert stored(world, TASK_A).fields["title"] == "After"
    assert conflicts_of(world, TASK_A) == []


def test_rule_13_same_field_concurrently_later_made_at_wins(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    push(world, COORD, a_changeset(an_update(TASK_A, base, title="Early"), made_at=EARLY))
    outcome = push(
        world, COORD_A, a_changeset(an_update(TASK_A, base, title="Late"), made_at=LATE)
    )
    assert only(outcome).changes[0].status == "applied"
    assert stored(world, TASK_A).fields["title"] == "Late"
    (conflict,) = conflicts_of(world, TASK_A)
    assert conflict.fields["kept_value"] == "Late"
    assert conflict.fields["lost_value"] == "Early"
    assert conflict.fields["lost_by"] == COORD.user_id


def test_rule_13_earlier_edit_arriving_later_is_merged_with_lost_fields(
    world: MemoryStore,
) -> None:
    base = version_of(world, TASK_A)
    push(world, COORD, a_changeset(an_update(TASK_A, base, title="Late"), made_at=LATE))
    change = an_update(TASK_A, base, title="Early", priority=1)
    outcome = push(world, COORD_A, a_changeset(change, made_at=EARLY))
    result = only(outcome)
    assert result.status == "applied"
    assert result.changes[0].status == "merged"
    assert result.changes[0].lost_fields == ("title",)
    assert stored(world, TASK_A).fields["title"] == "Late"
    assert stored(world, TASK_A).fields["priority"] == 1


def test_rule_13_all_fields_lost_is_merged_and_writes_no_version(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    push(world, COORD, a_changeset(an_update(TASK_A, base, title="Late"), made_at=LATE))
    current = version_of(world, TASK_A)
    outcome = push(world, COORD_A, a_changeset(an_update(TASK_A, base, title="E"), made_at=EARLY))
    change = only(outcome).changes[0]
    assert (change.status, change.lost_fields, change.version) == ("merged", ("title",), current)
    assert [r.type for r in outcome.written] == ["conflict"]


def test_rule_13_device_time_is_clamped_to_receipt(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    received = RECEIVED
    push(
        world,
        COORD,
        a_changeset(an_update(TASK_A, base, title="Honest"), made_at=received),
        at=received,
    )
    # A clock a day fast does not win against an edit made after it was received.
    fast = a_changeset(
        an_update(TASK_A, base, title="Fast clock"), made_at=received + timedelta(days=1)
    )
    push(world, COORD_A, fast, at=received - timedelta(minutes=1))
    assert stored(world, TASK_A).fields["title"] == "Honest"
    (conflict,) = conflicts_of(world, TASK_A)
    assert conflict.fields["lost_value"] == "Fast clock"
    assert conflict.fields["lost_made_at"] == "2022-03-23T10:59:00.000Z"


def test_rule_13_ties_go_to_arrival_order(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    push(world, COORD, a_changeset(an_update(TASK_A, base, title="First"), made_at=EARLY))
    push(world, COORD_A, a_changeset(an_update(TASK_A, base, title="Second"), made_at=EARLY))
    assert stored(world, TASK_A).fields["title"] == "Second"
    (conflict,) = conflicts_of(world, TASK_A)
    assert (conflict.fields["kept_value"], conflict.fields["lost_value"]) == ("Second", "First")


def test_rule_13_conflict_record_has_the_contract_fields_and_scope(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    push(world, COORD, a_changeset(an_update(TASK_A, base, notes="a"), made_at=LATE))
    push(world, COORD_A, a_changeset(an_update(TASK_A, base, notes="b"), made_at=EARLY))
    (conflict,) = conflicts_of(world, TASK_A)
    assert conflict.fields == {
        "record_type": "task",
        "record_id": TASK_A,
        "field": "notes",
        "kept_value": "a",
        "lost_value": "b",
        "kept_made_at": "2022-03-23T10:10:00.000Z",
        "lost_made_at": "2022-03-23T10:00:00.000Z",
        "kept_by": COORD.user_id,
        "lost_by": COORD_A.user_id,
        "kept_device": device_of(COORD),
        "lost_device": device_of(COORD_A),
        "resolved": False,
    }
    assert conflict.scope.compound_ids == stored(world, TASK_A).scope.compound_ids
    assert conflict.scope.building_id is None


def test_same_install_does_not_conflict_with_itself(world: MemoryStore) -> None:
    created = a_create("task", **task_fields())
    first = a_changeset(created, made_at=EARLY)
    second = a_changeset(an_update(created.id, 0, title="Edited offline"), made_at=LATE)
    push(world, COORD, first, second)
    assert stored(world, created.id).fields["title"] == "Edited offline"
    assert conflicts_of(world, created.id) == []


@pytest.mark.parametrize("clock", ["forward", "set back"])
def test_same_install_editing_twice_without_pulling_wins_without_conflict(
    world: MemoryStore, clock: str
) -> None:
    # Two pushes of one device, both on the base it last pulled; the second
    # edit follows the first on that device even if its clock was set back.
    base = version_of(world, TASK_A)
    later = LATE if clock == "forward" else EARLY - timedelta(minutes=5)
    push(world, COORD, a_changeset(an_update(TASK_A, base, notes="first"), made_at=EARLY))
    outcome = push(
        world, COORD, a_changeset(an_update(TASK_A, base, notes="second"), made_at=later)
    )
    assert only(outcome).changes[0].status == "applied"
    assert stored(world, TASK_A).fields["notes"] == "second"
    assert conflicts_of(world, TASK_A) == []


def test_coordinator_laptop_and_phone_from_one_base_keep_the_loser(world: MemoryStore) -> None:
    # Issue 7, item 6: one coordinator, two installs, the same base.
    laptop, phone = device_of(COORD, "laptop"), device_of(COORD, "phone")
    base = version_of(world, TASK_A)
    push(
        world,
        COORD,
        a_changeset(an_update(TASK_A, base, notes="from the laptop"), made_at=EARLY),
        device=laptop,
    )
    outcome = push(
        world,
        COORD,
        a_changeset(an_update(TASK_A, base, notes="from the phone"), made_at=LATE),
        device=phone,
    )
    assert only(outcome).changes[0].status == "applied"
    assert stored(world, TASK_A).fields["notes"] == "from the phone"
    (conflict,) = conflicts_of(world, TASK_A)
    fields = conflict.fields
    assert (fields["kept_value"], fields["lost_value"]) == ("from the phone", "from the laptop")
    assert (fields["kept_by"], fields["lost_by"]) == (COORD.user_id, COORD.user_id)
    assert (fields["kept_device"], fields["lost_device"]) == (phone, laptop)


def test_the_earlier_of_two_installs_arriving_last_is_merged_and_kept(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    late = a_changeset(an_update(TASK_A, base, notes="late"), made_at=LATE)
    push(world, COORD, late, device=device_of(COORD, "laptop"))
    early = a_changeset(an_update(TASK_A, base, notes="early"), made_at=EARLY)
    outcome = push(world, COORD, early, device=device_of(COORD, "phone"))
    assert only(outcome).changes[0].lost_fields == ("notes",)
    (conflict,) = conflicts_of(world, TASK_A)
    assert conflict.fields["lost_value"] == "early"
    assert conflict.fields["lost_device"] == device_of(COORD, "phone")


@pytest.mark.parametrize("install", ["", None], ids=["no client_id", "unknown"])
def test_edits_of_unknown_installs_are_concurrent_even_by_one_user(
    world: MemoryStore, install: str | None
) -> None:
    # A push without a client_id cannot show that it saw the value: keep the loser.
    base = version_of(world, TASK_A)
    push(world, COORD, a_changeset(an_update(TASK_A, base, notes="one"), made_at=EARLY), device="")
    again = a_changeset(an_update(TASK_A, base, notes="two"), made_at=LATE)
    push(world, COORD, again, device="" if install == "" else device_of(COORD))
    (conflict,) = conflicts_of(world, TASK_A)
    assert (conflict.fields["lost_value"], conflict.fields["lost_device"]) == ("one", None)


def test_an_install_id_used_by_another_user_is_another_device(world: MemoryStore) -> None:
    # The same phone passed to a colleague (or a forged client_id) is judged per user.
    base = version_of(world, TASK_A)
    shared = device_of(COORD)
    push(world, COORD, a_changeset(an_update(TASK_A, base, notes="mine"), made_at=EARLY))
    push(
        world,
        COORD_A,
        a_changeset(an_update(TASK_A, base, notes="theirs"), made_at=LATE),
        device=shared,
    )
    (conflict,) = conflicts_of(world, TASK_A)
    assert (conflict.fields["lost_by"], conflict.fields["lost_value"]) == (COORD.user_id, "mine")


def test_a_legacy_stamp_without_install_is_concurrent_with_its_own_user() -> None:
    # Stamps stored before installs were recorded read as an unknown install.
    current = Record(
        "task",
        TASK_A,
        5,
        False,
        {"notes": "old"},
        stamps_from_wire({"notes": [5, "2022-03-23T09:00:00.000Z", COORD.user_id]}),
        Scope(frozenset({"c"})),
    )
    author = Author(COORD.user_id, device_of(COORD), T0)
    result = merge(current, {"notes": "new"}, 3, author, frozenset())
    assert result.winners == {"notes": "new"}
    (loss,) = result.losses
    assert (loss.lost_value, loss.lost.by, loss.lost.client_id) == ("old", COORD.user_id, None)
    mine = replace(current, stamps={"notes": FieldStamp(5, T0, COORD.user_id, device_of(COORD))})
    assert merge(mine, {"notes": "new"}, 3, author, frozenset()).losses == ()


def test_same_value_written_concurrently_is_no_conflict(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    push(world, COORD, a_changeset(an_update(TASK_A, base, notes="same"), made_at=LATE))
    outcome = push(world, COORD_A, a_changeset(an_update(TASK_A, base, notes="same")))
    assert only(outcome).changes[0].status == "applied"
    assert outcome.cursor is None
    assert conflicts_of(world, TASK_A) == []


def test_repeated_create_with_other_content_merges_from_base_zero(world: MemoryStore) -> None:
    created = a_create("task", **task_fields(title="Device one"))
    push(world, COORD, a_changeset(created, made_at=LATE))
    again = a_create("task", created.id, **task_fields(title="Device two"))
    outcome = push(world, COORD_A, a_changeset(again, made_at=EARLY))
    assert only(outcome).changes[0].lost_fields == ("title",)
    (conflict,) = conflicts_of(world, created.id)
    assert conflict.fields["lost_value"] == "Device two"


def test_resident_edits_by_two_carers_keep_the_loser(world: MemoryStore) -> None:
    base = version_of(world, RESIDENT_A)
    push(
        world,
        VOL_A,
        a_changeset(an_update(RESIDENT_A, base, type_="resident", phone="1"), made_at=LATE),
    )
    push(world, MEDIC, a_changeset(an_update(RESIDENT_A, base, type_="resident", phone="2")))
    assert stored(world, RESIDENT_A).fields["phone"] == "1"
    assert [c.fields["lost_value"] for c in conflicts_of(world, RESIDENT_A)] == ["2"]


def test_a_conflict_kept_before_installs_were_recorded_is_still_resolved(
    world: MemoryStore,
) -> None:
    # Conflict records stored before kept_device/lost_device existed lack them.
    base = version_of(world, TASK_A)
    push(world, COORD, a_changeset(an_update(TASK_A, base, notes="a"), made_at=LATE))
    push(world, COORD_A, a_changeset(an_update(TASK_A, base, notes="b"), made_at=EARLY))
    (conflict,) = conflicts_of(world, TASK_A)
    old = {k: v for k, v in conflict.fields.items() if not k.endswith("_device")}
    world.put(replace(conflict, fields=old), None)
    resolve = an_update(conflict.id, conflict.version, type_="conflict", resolved=True)
    assert only(push(world, COORD, a_changeset(resolve))).status == "applied"
    assert stored(world, conflict.id).fields == {**old, "resolved": True}
