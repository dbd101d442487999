"""The task state machine: MUST rule 14 of ``sync/protocol.py``, and the diagram."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sync import MemoryStore
from tests.sync.builders import (
    COORD,
    TASK_A,
    VOL_A,
    VOL_A2,
    a_changeset,
    a_create,
    an_update,
    code_of,
    only,
    push,
    stored,
    task_fields,
    version_of,
)


def move(world: MemoryStore, actor: object, **fields: object) -> str | None:
    """Push one update of task A by ``actor``; return its rejection code or ``None``."""
    outcome = push(world, actor, a_changeset(an_update(TASK_A, **fields)))  # type: ignore[arg-type]
    return code_of(outcome)


def status(world: MemoryStore) -> object:
    """Return task A's status."""
    return stored(world, TASK_A).fields["status"]


@pytest.mark.parametrize("asked", [["claimed"], {"state": "claimed"}, 3, None])
def test_a_status_that_is_no_state_is_forbidden_at_step_one(
    world: MemoryStore, asked: object
) -> None:
    assert move(world, VOL_A, status=asked) == "forbidden"
    assert move(world, COORD, status=asked) == "forbidden"
    assert status(world) == "open"


def test_rule_14_claim_fills_assignee_with_caller(world: MemoryStore) -> None:
    assert move(world, VOL_A, status="claimed") is None
    fields = stored(world, TASK_A).fields
    assert (fields["status"], fields["assignee_id"]) == ("claimed", VOL_A.user_id)


def test_rule_14_claim_of_held_task_is_already_claimed_with_holder(world: MemoryStore) -> None:
    move(world, VOL_A, status="claimed")
    outcome = push(world, VOL_A2, a_changeset(an_update(TASK_A, status="claimed")))
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None
    assert (conflict.code, conflict.holder) == ("already_claimed", VOL_A.user_id)
    assert conflict.to_wire()["holder"] == VOL_A.user_id


def test_rule_14_already_claimed_wins_over_stale_transition(world: MemoryStore) -> None:
    move(world, VOL_A, status="claimed")
    move(world, VOL_A, status="in_progress")
    # VOL_A2 saw the task open: their claim's from-state is gone too, but the
    # holder is what they need to know.
    assert move(world, VOL_A2, status="claimed") == "already_claimed"
    assert move(world, VOL_A2, status="in_progress") == "already_claimed"
    assert move(world, VOL_A2, status="done", proof="1234") == "already_claimed"


def test_rule_14_same_user_reclaim_is_a_noop_applied(world: MemoryStore) -> None:
    move(world, VOL_A, status="claimed")
    version = version_of(world, TASK_A)
    outcome = push(world, VOL_A, a_changeset(an_update(TASK_A, status="claimed")))
    change = only(outcome).changes[0]
    assert (change.status, change.version) == ("applied", version)
    assert outcome.cursor is None and outcome.written == []


def test_rule_14_transition_from_a_left_state_is_stale(world: MemoryStore) -> None:
    move(world, COORD, status="cancelled")
    assert move(world, VOL_A, status="claimed") == "stale_transition"


def test_rule_14_done_is_never_undone(world: MemoryStore) -> None:
    for step in ("claimed", "in_progress"):
        move(world, VOL_A, status=step)
    assert move(world, VOL_A, status="done", proof="code 4821") is None
    for late in ("claimed", "in_progress", "failed", "cancelled", "open"):
        assert move(world, COORD, status=late, notes="late") == "stale_transition"
    assert status(world) == "done"


def test_rule_14_failed_needs_a_reason_in_notes(world: MemoryStore) -> None:
    move(world, VOL_A, status="claimed")
    move(world, VOL_A, status="in_progress")
    assert move(world, VOL_A, status="failed") == "invalid"
    assert move(world, VOL_A, status="failed", notes="  ") == "invalid"
    assert move(world, VOL_A, status="failed", notes="nobody home") is None


@pytest.mark.parametrize("proof", [None, "", "  "])
def test_rule_14_done_needs_proof(world: MemoryStore, proof: str | None) -> None:
    """Product, task flow: done with proof, the recipient's code or a note."""
    move(world, VOL_A, status="claimed")
    move(world, VOL_A, status="in_progress")
    given = {} if proof is None else {"proof": proof}
    assert move(world, VOL_A, status="done", **given) == "invalid"
    assert status(world) == "in_progress"
    assert move(world, VOL_A, status="done", proof="4821") is None


@pytest.mark.parametrize(
    ("path", "target", "code"),
    [
        ((), "in_progress", "stale_transition"),
        ((), "done", "stale_transition"),
        (("claimed",), "done", "stale_transition"),
        (("claimed", "in_progress"), "claimed", None),
        (("claimed", "in_progress"), "in_progress", None),
        (("claimed", "in_progress"), "done", None),
    ],
)
def test_state_machine_edges_for_the_holder(
    world: MemoryStore, path: tuple[str, ...], target: str, code: str | None
) -> None:
    for step in path:
        assert move(world, VOL_A, status=step) is None
    proof = {"proof": "4821"} if target == "done" else {}
    assert move(world, VOL_A, status=target, **proof) == code


@pytest.mark.parametrize(
    ("path", "code"),
    [((), None), (("claimed",), None), (("claimed", "in_progress"), "stale_transition")],
)
def test_coordinator_cancels_open_or_claimed_tasks(
    world: MemoryStore, path: tuple[str, ...], code: str | None
) -> None:
    for step in path:
        move(world, VOL_A, status=step)
    assert move(world, COORD, status="cancelled") == code


def test_volunteers_may_not_cancel_create_or_retitle(world: MemoryStore) -> None:
    move(world, VOL_A, status="claimed")
    assert move(world, VOL_A, status="cancelled") == "forbidden"
    assert move(world, VOL_A, title="Mine now") == "forbidden"
    created = push(world, VOL_A, a_changeset(a_create("task", **task_fields())))
    assert code_of(created) == "forbidden"


def test_volunteer_claims_only_for_themselves(world: MemoryStore) -> None:
    assert move(world, VOL_A, status="claimed", assignee_id=VOL_A2.user_id) == "forbidden"
    assert move(world, VOL_A, assignee_id=VOL_A.user_id) == "forbidden"
    assert move(world, VOL_A, status="claimed", assignee_id=VOL_A.user_id) is None


def test_only_the_holder_edits_notes(world: MemoryStore) -> None:
    assert move(world, VOL_A, notes="on my way") == "forbidden"
    move(world, VOL_A, status="claimed")
    assert move(world, VOL_A2, notes="me too") == "already_claimed"
    assert move(world, VOL_A, notes="on my way") is None


def test_coordinator_assigns_and_reassigns(world: MemoryStore) -> None:
    assert move(world, COORD, status="claimed", assignee_id=VOL_A.user_id) is None
    assert move(world, COORD, assignee_id=VOL_A2.user_id) is None
    assert move(world, VOL_A2, status="in_progress") is None
    assert move(world, VOL_A, status="done", proof="x") == "already_claimed"


def test_task_is_created_open_or_claimed(world: MemoryStore) -> None:
    done = push(world, COORD, a_changeset(a_create("task", **task_fields(status="done"))))
    assert code_of(done) == "invalid"
    claimed = a_create("task", **task_fields(status="claimed"))
    push(world, COORD, a_changeset(claimed))
    assert stored(world, claimed.id).fields["assignee_id"] == COORD.user_id


def test_status_follows_the_machine_not_the_clock(world: MemoryStore) -> None:
    base = version_of(world, TASK_A)
    move(world, VOL_A, status="claimed")
    late_clock = replace(a_changeset(an_update(TASK_A, base, status="claimed")))
    outcome = push(world, VOL_A2, late_clock)
    assert code_of(outcome) == "already_claimed"
