"""The state machines' moves as the engine makes them, and the shared fixture.

``tests/web/fixtures/moves.json`` is read by the web app's node test; here
pytest checks it is exactly what the engine does now, and that the
machine's promises hold across the whole matrix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import Actor, MemoryStore
from sync.catalog import REGISTRY
from sync.machines import StateMachine, Transition
from tests.sync import moves
from tests.sync.builders import (
    COORD,
    GUARD_A,
    TASK_A,
    VOL_A,
    VOL_A2,
    a_changeset,
    an_update,
    only,
    push,
    seed_world,
    stored,
)

FIXTURE = Path(__file__).parents[1] / "web" / "fixtures" / "moves.json"
ROWS = moves.moves()


def test_committed_fixture_is_what_the_engine_does_now() -> None:
    assert FIXTURE.read_text(encoding="utf-8") == moves.dumps(ROWS), (
        "regenerate: python -m tests.sync.moves > tests/web/fixtures/moves.json"
    )


def machine_of(row: dict[str, object]) -> StateMachine:
    machine = REGISTRY[str(row["type"])].state_machine
    assert machine is not None
    return machine


def test_final_states_are_never_left() -> None:
    left = [
        row for row in ROWS if row["state"] in machine_of(row).final and row["to"] != row["state"]
    ]
    assert left and all(row["outcome"] != "applied" for row in left)


def test_asking_for_the_current_state_is_a_noop_for_whoever_may_act() -> None:
    same = [row for row in ROWS if row["to"] == row["state"]]
    assert same
    for row in same:
        machine = machine_of(row)
        role = str(row["role"])
        mine = row["holder"] == "self"
        held = row["state"] in machine.held
        holder_only = role in machine.holder_roles or row["action"] == "claim"
        if row["to"] not in machine.settable(
            role, role in REGISTRY[str(row["type"])].permissions.create
        ):
            expected = "forbidden"
        elif holder_only and not mine and held:
            expected = "already_claimed"
        elif role in machine.holder_roles and not mine:
            expected = "stale_transition"  # a volunteer's view of a task they do not hold
        else:
            expected = "noop"
        assert row["outcome"] == expected, row


def test_only_declared_transitions_apply() -> None:
    for row in ROWS:
        if row["outcome"] == "applied":
            edge = machine_of(row).edge(row["state"], row["to"], str(row["role"]))
            assert edge is not None and edge.action == row["action"], row


def test_a_claim_of_a_record_someone_else_holds_is_already_claimed() -> None:
    claims = [
        row
        for row in ROWS
        if row["action"] == "claim"
        and row["holder"] == "other"
        and row["state"] in machine_of(row).held
        and row["role"] in ("coordinator", "volunteer")
    ]
    assert claims and {row["outcome"] for row in claims} == {"already_claimed"}


def test_roles_without_update_permission_are_forbidden_everything() -> None:
    for row in ROWS:
        if row["role"] not in REGISTRY[str(row["type"])].permissions.update:
            assert row["outcome"] == "forbidden", row


def test_every_row_is_json_the_web_test_reads() -> None:
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert {tuple(sorted(row)) for row in rows} == {
        ("action", "holder", "outcome", "role", "state", "to", "type")
    }


@pytest.mark.parametrize(
    "edges",
    [
        (Transition("reopen", "done", "open", frozenset({"coordinator"})),),
        (
            Transition("a", "open", "done", frozenset(), requires=("notes",)),
            Transition("b", "held", "done", frozenset()),
        ),
    ],
)
def test_a_machine_that_leaves_a_final_state_or_disagrees_on_requires_is_refused(
    edges: tuple[Transition, ...],
) -> None:
    with pytest.raises(ValueError):
        StateMachine("status", frozenset({"open"}), frozenset({"done"}), edges)


def test_machine_description_has_the_published_shape() -> None:
    machine = REGISTRY["task"].state_machine
    assert machine is not None
    described = machine.to_json()
    assert set(described) == {
        "field",
        "initial",
        "final",
        "holder",
        "held",
        "holder_roles",
        "transitions",
    }
    fail = next(edge for edge in described["transitions"] if edge["action"] == "fail")
    assert fail == {
        "action": "fail",
        "from": "in_progress",
        "to": "failed",
        "roles": ["coordinator", "volunteer"],
        "claim": False,
        "requires": ["notes"],
    }


ACTORS = (COORD, VOL_A, VOL_A2, GUARD_A)
STATUSES = ("open", "claimed", "in_progress", "done", "failed", "cancelled")


@settings(max_examples=60)
@given(steps=st.lists(st.tuples(st.sampled_from(ACTORS), st.sampled_from(STATUSES)), max_size=12))
def test_any_sequence_of_moves_follows_the_machine(steps: list[tuple[Actor, str]]) -> None:
    machine = REGISTRY["task"].state_machine
    assert machine is not None
    world = MemoryStore()
    seed_world(world)
    for actor, target in steps:
        before = dict(stored(world, TASK_A).fields)
        outcome = push(world, actor, a_changeset(an_update(TASK_A, status=target, notes="why")))
        after = stored(world, TASK_A).fields
        conflict = only(outcome).changes[0].conflict
        if after["status"] != before["status"]:
            assert machine.edge(before["status"], after["status"], actor.role) is not None
            assert before["status"] not in machine.final
        if conflict is not None and conflict.code == "already_claimed":
            assert conflict.holder == before["assignee_id"]
            assert before["status"] in machine.held
        if after["status"] in machine.held and after["status"] != before["status"]:
            assert after["assignee_id"] is not None
