"""Testing rounds and marks: identity, conflicts, closed rounds, positives, privacy.

Contract, "Identity of marks": a ``test_result``'s id is the UUID version 5
of the resident's id in the namespace of the round's id; any other id is
``invalid``; two devices marking the same resident meet in the conflict
rules. A positive antigen mark makes one urgent task for the household that
says nothing of why; guards and team leaders never receive a mark.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import MemoryStore, Record, UserScope, view
from sync.testing import OUTCOMES, mark_id, positive_task_id
from tests.sync.builders import (
    COMPOUND_A,
    COMPOUND_B,
    COORD,
    GUARD_A,
    HOUSEHOLD_A,
    LEADER_A,
    MEDIC,
    RESIDENT_A,
    T0,
    VOL_A,
    VOL_A2,
    VOL_B,
    a_changeset,
    a_create,
    a_delete,
    an_update,
    code_of,
    conflicts_of,
    device_of,
    only,
    push,
    seed_world,
    stable_id,
    stored,
)

ROUND_A = stable_id("test_round", "A")
ROUND_B = stable_id("test_round", "B")


@pytest.fixture
def rounds(world: MemoryStore) -> MemoryStore:
    """The world with an open testing round in compound A and one in B."""
    opened = push(
        world,
        COORD,
        a_changeset(
            a_create("test_round", ROUND_A, compound_id=COMPOUND_A, date="2022-03-23"),
            a_create("test_round", ROUND_B, compound_id=COMPOUND_B, date="2022-03-23"),
        ),
    )
    assert only(opened).status == "applied"
    return world


def everything(store: MemoryStore) -> list[Record]:
    """Return every record of the store."""
    return list(store.page(UserScope(everything=True), 0, 100_000, frozenset()).records)


def a_mark(outcome: str = "tested", round_id: str = ROUND_A, **fields: object) -> object:
    """Return the create of resident A's mark in a round."""
    return a_create(
        "test_result",
        mark_id(round_id, RESIDENT_A),
        test_round_id=round_id,
        resident_id=RESIDENT_A,
        outcome=outcome,
        **fields,
    )


def test_a_round_starts_open_and_only_a_coordinator_opens_or_closes_it(
    rounds: MemoryStore,
) -> None:
    assert stored(rounds, ROUND_A).fields["status"] == "open"
    for actor in (VOL_A, MEDIC, LEADER_A):
        other = a_create("test_round", compound_id=COMPOUND_A, date="2022-03-24")
        assert code_of(push(rounds, actor, a_changeset(other))) == "forbidden"
        close = an_update(ROUND_A, type_="test_round", status="closed")
        assert code_of(push(rounds, actor, a_changeset(close))) in {"forbidden", "not_found"}
    close = an_update(ROUND_A, type_="test_round", status="closed")
    assert code_of(push(rounds, COORD, a_changeset(close))) is None
    reopen = an_update(ROUND_A, type_="test_round", status="open")
    assert code_of(push(rounds, COORD, a_changeset(reopen))) == "stale_transition"


def test_the_mark_id_is_the_contracts_uuid5() -> None:
    expected = uuid.uuid5(uuid.UUID(ROUND_A), RESIDENT_A)
    assert mark_id(ROUND_A, RESIDENT_A) == str(expected)
    assert expected.version == 5


@given(st.uuids(version=4))
def test_a_mark_under_any_other_id_is_invalid(other: uuid.UUID) -> None:
    world = MemoryStore()
    seed_world(world)
    round_ = a_create("test_round", ROUND_A, compound_id=COMPOUND_A, date="2022-03-23")
    push(world, COORD, a_changeset(round_))
    change = a_create(
        "test_result", str(other), test_round_id=ROUND_A, resident_id=RESIDENT_A, outcome="tested"
    )
    assert code_of(push(world, VOL_A, a_changeset(change))) == "invalid"
    assert world.get(str(other)) is None


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_carers_mark_and_the_mark_takes_its_place_from_the_resident(
    rounds: MemoryStore, outcome: str
) -> None:
    for actor in (VOL_A, COORD, MEDIC):
        assert code_of(push(rounds, actor, a_changeset(a_mark(outcome)))) is None
    record = stored(rounds, mark_id(ROUND_A, RESIDENT_A))
    assert record.fields["outcome"] == outcome
    assert record.fields["household_id"] == HOUSEHOLD_A
    assert record.fields["compound_id"] == COMPOUND_A
    assert record.fields["marked_by"] == VOL_A.user_id


@pytest.mark.parametrize("actor", [GUARD_A, LEADER_A, VOL_B])
def test_guards_team_leaders_and_others_scopes_cannot_mark(
    rounds: MemoryStore, actor: object
) -> None:
    assert code_of(push(rounds, actor, a_changeset(a_mark()))) == "forbidden"  # type: ignore[arg-type]


def test_a_resident_of_another_compound_is_not_in_the_round(rounds: MemoryStore) -> None:
    change = a_mark(round_id=ROUND_B)
    assert code_of(push(rounds, COORD, a_changeset(change))) == "invalid"


def test_two_devices_marking_the_same_resident_make_one_record_and_keep_the_loser(
    rounds: MemoryStore,
) -> None:
    early = a_changeset(a_mark("absent"), made_at=T0)
    late = a_changeset(a_mark("tested"), made_at=T0 + timedelta(minutes=5))
    assert code_of(push(rounds, VOL_A, late, device=device_of(VOL_A))) is None
    outcome = push(rounds, VOL_A2, early, device=device_of(VOL_A2))
    assert only(outcome).changes[0].status == "merged"
    record = stored(rounds, mark_id(ROUND_A, RESIDENT_A))
    assert record.fields["outcome"] == "tested"
    (kept,) = [c for c in conflicts_of(rounds, record.id) if c.fields["field"] == "outcome"]
    assert (kept.fields["kept_value"], kept.fields["lost_value"]) == ("tested", "absent")
    marks = [r for r in everything(rounds) if r.type == "test_result"]
    assert len(marks) == 1


def test_a_closed_round_takes_no_marks(rounds: MemoryStore) -> None:
    push(rounds, COORD, a_changeset(an_update(ROUND_A, type_="test_round", status="closed")))
    assert code_of(push(rounds, VOL_A, a_changeset(a_mark()))) == "round_closed"


def test_nobody_deletes_a_mark(rounds: MemoryStore) -> None:
    push(rounds, VOL_A, a_changeset(a_mark()))
    gone = a_delete(mark_id(ROUND_A, RESIDENT_A), type_="test_result")
    assert code_of(push(rounds, COORD, a_changeset(gone))) == "forbidden"


def test_a_positive_antigen_makes_one_urgent_task_that_says_nothing_of_why(
    rounds: MemoryStore,
) -> None:
    result = mark_id(ROUND_A, RESIDENT_A)
    assert code_of(push(rounds, VOL_A, a_changeset(a_mark("antigen_positive")))) is None
    task = stored(rounds, positive_task_id(result))
    assert task.fields["priority"] == 1 and task.fields["status"] == "open"
    assert task.fields["household_id"] == HOUSEHOLD_A
    carried = " ".join(str(v) for v in task.fields.values())
    assert "阳" not in carried and "antigen" not in carried and "王秀英" not in carried
    again = an_update(result, type_="test_result", outcome="antigen_negative")
    push(rounds, VOL_A, a_changeset(again))
    positive = an_update(result, 99, type_="test_result", outcome="antigen_positive")
    assert code_of(push(rounds, VOL_A, a_changeset(positive))) is None
    tasks = [r for r in everything(rounds) if r.type == "task" and r.fields.get("priority") == 1]
    assert [t.id for t in tasks] == [task.id]


def test_a_negative_makes_no_task(rounds: MemoryStore) -> None:
    push(rounds, VOL_A, a_changeset(a_mark("antigen_negative")))
    assert rounds.get(positive_task_id(mark_id(ROUND_A, RESIDENT_A))) is None


def test_only_carers_receive_rounds_and_marks(rounds: MemoryStore) -> None:
    push(rounds, VOL_A, a_changeset(a_mark(needs_registration_help=True)))
    for record_id in (ROUND_A, mark_id(ROUND_A, RESIDENT_A)):
        record = stored(rounds, record_id)
        seen = {
            a.role: view(record, a) is not None for a in (COORD, VOL_A, MEDIC, LEADER_A, GUARD_A)
        }
        assert seen == {
            "coordinator": True,
            "volunteer": True,
            "clinician": True,
            "team_leader": False,
            "guard": False,
        }
