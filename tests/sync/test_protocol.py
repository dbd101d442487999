"""One test per MUST rule of ``sync/protocol.py`` (rules 1–10 and 15–17).

Rules 11–13 (conflicts) are in ``test_conflicts.py``, rule 14 (tasks) in
``test_tasks.py``.
"""

from __future__ import annotations

from datetime import timedelta

from sync import Changeset, MemoryStore
from tests.sync.builders import (
    COMPOUND_B,
    COORD,
    COORD_A,
    HOUSEHOLD_A,
    RECEIVED,
    T0,
    TASK_A,
    TASK_B,
    VOL_A,
    VOL_B,
    a_change,
    a_changeset,
    a_create,
    a_delete,
    an_update,
    code_of,
    conflicts_of,
    only,
    push,
    stored,
    task_fields,
    version_of,
)


def a_visit(**overrides: object) -> dict[str, object]:
    """Return the fields of a visit to household A."""
    return {"household_id": HOUSEHOLD_A, "outcome": "answered", "present": 2, **overrides}


def test_rule_01_malformed_changeset_is_rejected_invalid_alone(world: MemoryStore) -> None:
    bad_type = a_changeset(a_change(type="spaceship"))
    bad_op = a_changeset(a_change(op="upsert"))
    bad_value = a_changeset(an_update(TASK_A, title=42))
    bad_made_at = Changeset("cs-bad-time", None, (an_update(TASK_A, title="x"),), "made_at: bad")
    good = a_changeset(an_update(TASK_A, title="Fine"))
    outcome = push(world, COORD, bad_type, bad_op, bad_value, bad_made_at, good)
    assert [r.status for r in outcome.results] == ["rejected"] * 4 + ["applied"]
    assert {r.changes[0].conflict.code for r in outcome.results[:4]} == {"invalid"}  # type: ignore[union-attr]
    assert outcome.results[2].changes[0].conflict.field == "title"  # type: ignore[union-attr]


def test_rule_02_changeset_is_atomic(world: MemoryStore) -> None:
    before = world.high_water()
    new_task = a_create("task", **task_fields())
    outcome = push(world, COORD, a_changeset(new_task, an_update(TASK_A, priority=9)))
    assert only(outcome).status == "rejected"
    assert world.get(new_task.id) is None
    assert outcome.cursor is None and outcome.written == []
    assert world.page(COORD.scope, before, 100, frozenset()).records == ()


def test_rule_02_changesets_apply_in_order(world: MemoryStore) -> None:
    new_id = a_create("task", **task_fields()).id
    outcome = push(
        world,
        COORD,
        a_changeset(a_create("task", new_id, **task_fields())),
        a_changeset(an_update(new_id, title="Second")),
    )
    assert [r.status for r in outcome.results] == ["applied", "applied"]
    assert stored(world, new_id).fields["title"] == "Second"


def test_rule_03_seen_changeset_replays_recorded_result(world: MemoryStore) -> None:
    changeset = a_changeset(an_update(TASK_A, title="Once"))
    first = push(world, COORD, changeset)
    high_water = world.high_water()
    rewritten = a_changeset(an_update(TASK_A, title="Twice"), id=changeset.id)
    again = push(world, COORD, rewritten)
    assert again.results == first.results
    assert again.cursor is None and again.written == []
    assert world.high_water() == high_water
    assert stored(world, TASK_A).fields["title"] == "Once"


def test_rule_03_same_id_twice_in_one_push_applies_once(world: MemoryStore) -> None:
    changeset = a_changeset(a_create("task", **task_fields()))
    outcome = push(world, COORD, changeset, changeset)
    assert outcome.results[0] == outcome.results[1]
    assert len(outcome.written) == 1


def test_rule_03_replay_of_a_rejected_changeset_stays_rejected(world: MemoryStore) -> None:
    changeset = a_changeset(an_update(TASK_A, priority=9))
    first = push(world, COORD, changeset)
    fixed = a_changeset(an_update(TASK_A, priority=1), id=changeset.id)
    assert push(world, COORD, fixed).results == first.results
    assert stored(world, TASK_A).fields["priority"] == 2


def test_rule_04_changeset_id_of_another_user_is_invalid(world: MemoryStore) -> None:
    taken = a_changeset(an_update(TASK_A, notes="mine"))
    push(world, COORD, taken)
    theirs = a_changeset(
        an_update(TASK_A, status="claimed"), an_update(TASK_A, notes="x"), id=taken.id
    )
    outcome = push(world, VOL_A, theirs)
    assert only(outcome).status == "rejected"
    assert [code_of(outcome, 0), code_of(outcome, 1)] == ["invalid", "aborted"]
    assert stored(world, TASK_A).fields["status"] == "open"
    # The id stays the first user's: their replay still gets their result.
    assert only(push(world, COORD, taken)).status == "applied"


def test_rule_05_changesets_after_a_rejected_one_apply(world: MemoryStore) -> None:
    outcome = push(
        world,
        COORD,
        a_changeset(an_update(TASK_A, priority=0)),
        a_changeset(an_update(TASK_A, priority=1)),
    )
    assert [r.status for r in outcome.results] == ["rejected", "applied"]
    assert stored(world, TASK_A).fields["priority"] == 1


def test_rule_06_rejected_changeset_lists_fault_and_aborted(world: MemoryStore) -> None:
    changes = (an_update(TASK_A, title="a"), an_update(TASK_A, priority=7), a_delete(TASK_B))
    outcome = push(world, COORD, a_changeset(*changes))
    result = only(outcome)
    assert [c.id for c in result.changes] == [TASK_A, TASK_A, TASK_B]
    assert [c.status for c in result.changes] == ["rejected"] * 3
    assert [code_of(outcome, i) for i in range(3)] == ["aborted", "invalid", "aborted"]
    assert all(c.version is None for c in result.changes)


def test_rule_06_whole_changeset_fault_lands_on_first_change(world: MemoryStore) -> None:
    bad = Changeset("cs-x", None, (an_update(TASK_A, title="a"), a_delete(TASK_A)), "made_at: x")
    outcome = push(world, COORD, bad)
    assert [code_of(outcome, 0), code_of(outcome, 1)] == ["invalid", "aborted"]


def test_rule_07_role_is_checked_before_existence(world: MemoryStore) -> None:
    outcome = push(world, VOL_A, a_changeset(a_delete("00000000-0000-4000-8000-000000000000")))
    assert code_of(outcome) == "forbidden"


def test_rule_07_existence_before_deleted_and_immutable(world: MemoryStore) -> None:
    missing = a_changeset(
        an_update("00000000-0000-4000-8000-000000000000", type_="visit", notes="x")
    )
    assert code_of(push(world, COORD, missing)) == "not_found"


def test_rule_07_deleted_before_immutable_and_validation(world: MemoryStore) -> None:
    push(world, COORD, a_changeset(a_delete(HOUSEHOLD_A, "household")))
    change = an_update(HOUSEHOLD_A, type_="household", compound_id=COMPOUND_B, floor="high")
    assert code_of(push(world, COORD, a_changeset(change))) == "deleted"


def test_rule_07_immutable_before_validation(world: MemoryStore) -> None:
    change = an_update(HOUSEHOLD_A, type_="household", compound_id=COMPOUND_B, floor="high")
    assert code_of(push(world, COORD, a_changeset(change))) == "immutable"


def test_rule_07_validation_before_kind_rules(world: MemoryStore) -> None:
    push(world, VOL_B, a_changeset(an_update(TASK_B, status="claimed")))
    change = an_update(TASK_B, status="done", priority=5)
    outcome = push(world, COORD, a_changeset(change))
    assert code_of(outcome) == "invalid"


def test_rule_07_kind_rules_come_last(world: MemoryStore) -> None:
    push(world, VOL_A, a_changeset(an_update(TASK_A, status="claimed")))
    outcome = push(world, VOL_B, a_changeset(an_update(TASK_B, status="in_progress")))
    assert code_of(outcome) == "stale_transition"


def test_rule_08_create_outside_scope_is_forbidden(world: MemoryStore) -> None:
    outcome = push(world, COORD_A, a_changeset(a_create("task", **task_fields(COMPOUND_B))))
    assert code_of(outcome) == "forbidden"


def test_rule_08_update_or_delete_outside_scope_is_not_found(world: MemoryStore) -> None:
    update = push(world, VOL_A, a_changeset(an_update(TASK_B, status="claimed")))
    delete = push(world, COORD_A, a_changeset(a_delete(TASK_B)))
    assert code_of(update) == "not_found"
    assert code_of(delete) == "not_found"
    assert only(update).changes[0].conflict.record is None  # type: ignore[union-attr]


def test_rule_09_conflict_record_only_in_callers_scope(world: MemoryStore) -> None:
    push(world, VOL_A, a_changeset(an_update(TASK_A, status="claimed")))
    outcome = push(
        world, an_actor_like(VOL_A, 9), a_changeset(an_update(TASK_A, status="claimed"))
    )
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and conflict.record is not None
    assert conflict.record["id"] == TASK_A
    assert conflict.record["fields"]["assignee_id"] == VOL_A.user_id  # type: ignore[index]
    outside = push(world, VOL_B, a_changeset(an_update(TASK_A, status="claimed")))
    assert only(outside).changes[0].conflict.record is None  # type: ignore[union-attr]


def an_actor_like(actor: object, user_id: int) -> object:
    """Return a copy of ``actor`` with another user id."""
    from dataclasses import replace

    return replace(actor, user_id=user_id)  # type: ignore[type-var]


def test_rule_10_every_write_gets_its_own_version(world: MemoryStore) -> None:
    start = world.high_water()
    created = a_create("task", **task_fields())
    outcome = push(
        world,
        COORD,
        a_changeset(created, an_update(created.id, title="B")),
        a_changeset(an_update(TASK_A, title="C")),
    )
    versions = [c.version for r in outcome.results for c in r.changes]
    assert versions == [start + 1, start + 2, start + 3]
    assert outcome.cursor == start + 3
    assert version_of(world, created.id) == start + 2


def test_rule_10_cursor_is_none_when_nothing_was_written(world: MemoryStore) -> None:
    outcome = push(world, COORD, a_changeset(an_update(TASK_A, title="Rice to 3-502")))
    assert only(outcome).status == "applied"
    assert outcome.cursor is None


def test_rule_15_append_only_records_are_immutable(world: MemoryStore) -> None:
    visit = a_create("visit", **a_visit())
    push(world, VOL_A, a_changeset(visit))
    update = push(world, COORD, a_changeset(an_update(visit.id, type_="visit", present=3)))
    delete = push(world, VOL_A, a_changeset(a_delete(visit.id, "visit")))
    assert [code_of(update), code_of(delete)] == ["immutable", "immutable"]
    recreate = push(world, VOL_A, a_changeset(a_create("visit", visit.id, **a_visit(present=5))))
    assert code_of(recreate) == "immutable"
    same_again = push(world, VOL_A, a_changeset(a_create("visit", visit.id, **a_visit())))
    assert only(same_again).status == "applied" and same_again.cursor is None


def test_rule_16_update_to_deleted_record_is_rejected_deleted(world: MemoryStore) -> None:
    push(world, COORD, a_changeset(a_delete(TASK_A)))
    outcome = push(world, COORD, a_changeset(an_update(TASK_A, title="Late")))
    assert code_of(outcome) == "deleted"
    again = push(world, COORD, a_changeset(a_delete(TASK_A)))
    assert only(again).status == "applied" and again.cursor is None


def test_rule_17_restoring_a_loser_is_an_update_plus_resolved(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    later = T0 + timedelta(minutes=5)
    push(world, COORD, a_changeset(an_update(TASK_A, base, title="Kept"), made_at=later))
    push(world, VOL_A, a_changeset(an_update(TASK_A, base, status="claimed")))
    push(world, COORD_A, a_changeset(an_update(TASK_A, base, title="Lost"), made_at=T0))
    (conflict,) = conflicts_of(world, TASK_A)
    assert conflict.fields["lost_value"] == "Lost"
    restore = a_changeset(
        an_update(TASK_A, version_of(world, TASK_A), title="Lost"),
        an_update(conflict.id, conflict.version, type_="conflict", resolved=True),
        made_at=later,
    )
    outcome = push(world, COORD, restore)
    assert only(outcome).status == "applied"
    assert stored(world, TASK_A).fields["title"] == "Lost"
    assert stored(world, conflict.id).fields["resolved"] is True


def test_rule_17_only_resolved_changes_on_a_conflict(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    push(world, COORD, a_changeset(an_update(TASK_A, base, title="Kept"), made_at=RECEIVED))
    push(world, COORD_A, a_changeset(an_update(TASK_A, base, title="Lost")))
    (conflict,) = conflicts_of(world, TASK_A)
    tamper = an_update(conflict.id, conflict.version, type_="conflict", lost_value="x")
    assert code_of(push(world, COORD, a_changeset(tamper))) == "immutable"
    by_volunteer = an_update(conflict.id, conflict.version, type_="conflict", resolved=True)
    assert code_of(push(world, VOL_A, a_changeset(by_volunteer))) == "forbidden"
    made = a_create("conflict", **dict(conflict.fields))
    assert code_of(push(world, COORD, a_changeset(made))) == "forbidden"


def test_a_resident_pushed_with_a_full_id_number_is_stored_masked(world: MemoryStore) -> None:
    create = a_create(
        "resident", household_id=HOUSEHOLD_A, name="李桂英", id_number_masked="310105194102031234"
    )
    outcome = push(world, VOL_A, a_changeset(create))
    assert only(outcome).status == "applied"
    assert stored(world, create.id).fields["id_number_masked"] == "310105********1234"
