"""Medicine requests: triage through the state machine, tasks, privacy.

Clinicians triage; an approved request makes a medicine task carrying only
the drop point and a priority; volunteers receive only the requests they
made, team leaders and guards none (contract, Privacy) — in pulls, live
views and ``conflict.record``.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import MemoryStore, UserScope, view
from sync.medicine import STATUSES, medicine_task_id
from tests.sync.builders import (
    BUILDING_A,
    COORD,
    GUARD_A,
    HOUSEHOLD_A,
    LEADER_A,
    MEDIC,
    RESIDENT_A,
    VOL_A,
    VOL_A2,
    a_changeset,
    a_create,
    a_delete,
    an_update,
    code_of,
    new_id,
    only,
    push,
    seed_world,
    stored,
    task_fields,
)


def a_request(urgency: str = "today", **fields: object) -> object:
    """Return the create of a request for resident A's medicine."""
    return a_create(
        "med_request",
        resident_id=RESIDENT_A,
        medicine="硝苯地平缓释片",
        dose="20mg 每日两次",
        urgency=urgency,
        **fields,
    )


def requested(world: MemoryStore, by: object = VOL_A, urgency: str = "today") -> str:
    """Push a request by ``by`` and return its id."""
    change = a_request(urgency)
    assert code_of(push(world, by, a_changeset(change))) is None  # type: ignore[arg-type]
    return change.id  # type: ignore[attr-defined]


def triage(record_id: str, **fields: object) -> object:
    """Return an update of a request."""
    return an_update(record_id, type_="med_request", **fields)


def test_a_request_records_who_asked_and_takes_place_from_the_resident(world: MemoryStore) -> None:
    record = stored(world, requested(world))
    assert record.fields["requested_by"] == VOL_A.user_id
    assert record.fields["status"] == "requested"
    assert (record.fields["compound_id"], record.fields["building_id"]) == (
        stored(world, RESIDENT_A).fields["compound_id"],
        BUILDING_A,
    )


@pytest.mark.parametrize(
    ("actor", "target", "code"),
    [
        (MEDIC, "approved", None),
        (MEDIC, "needs_call", None),
        (MEDIC, "referred", None),
        (MEDIC, "rejected", None),
        (MEDIC, "delivered", "stale_transition"),
        (COORD, "approved", "forbidden"),
        (VOL_A, "approved", "forbidden"),
        (VOL_A, "cancelled", None),
        (VOL_A2, "cancelled", "not_found"),
        (LEADER_A, "cancelled", "forbidden"),
    ],
)
def test_triage_is_the_clinicians(
    world: MemoryStore, actor: object, target: str, code: str | None
) -> None:
    record_id = requested(world)
    outcome = push(world, actor, a_changeset(triage(record_id, status=target)))  # type: ignore[arg-type]
    assert code_of(outcome) == code
    status = stored(world, record_id).fields["status"]
    assert status == (target if code is None else "requested")


def test_after_a_call_the_clinician_decides_and_final_states_stay(world: MemoryStore) -> None:
    record_id = requested(world)
    push(world, MEDIC, a_changeset(triage(record_id, status="needs_call", urgency="urgent")))
    assert code_of(push(world, MEDIC, a_changeset(triage(record_id, status="rejected")))) is None
    assert stored(world, record_id).fields["triaged_by"] == MEDIC.user_id
    late = push(world, MEDIC, a_changeset(triage(record_id, status="approved")))
    assert code_of(late) == "stale_transition"


def test_approval_makes_a_medicine_task_with_only_the_drop_point(world: MemoryStore) -> None:
    record_id = requested(world, urgency="urgent")
    assert code_of(push(world, MEDIC, a_changeset(triage(record_id, status="approved")))) is None
    task = stored(world, medicine_task_id(record_id))
    assert stored(world, record_id).fields["task_id"] == task.id
    assert task.fields["kind"] == "medicine" and task.fields["priority"] == 1
    assert task.fields["household_id"] == HOUSEHOLD_A and task.fields["status"] == "open"
    assert task.fields["title"] == "上门配送：3号楼 1单元 502室"
    carried = " ".join(str(value) for value in task.fields.values())
    assert "硝苯地平" not in carried and "20mg" not in carried
    delivered = push(world, COORD, a_changeset(triage(record_id, status="delivered")))
    assert code_of(delivered) is None


@pytest.mark.parametrize("gone", ["household", "building"])
def test_no_run_is_made_for_a_resident_whose_home_is_gone(world: MemoryStore, gone: str) -> None:
    record_id = requested(world)
    home = stored(world, HOUSEHOLD_A if gone == "household" else BUILDING_A)
    world.put(replace(home, deleted=True, fields={}), None)
    outcome = push(world, MEDIC, a_changeset(triage(record_id, status="approved")))
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and conflict.code == "invalid"
    assert conflict.field == "resident_id" and "home is unknown" in conflict.detail
    assert world.get(medicine_task_id(record_id)) is None
    assert stored(world, record_id).fields["status"] == "requested"


def run(world: MemoryStore, task_id: str, end: str) -> None:
    """Have vol-a claim and start the task, then end it ``end`` (a coordinator cancels)."""
    if end == "cancelled":
        moves = [(COORD, {"status": "cancelled"})]
    else:
        moves = [(VOL_A, {"status": "claimed"}), (VOL_A, {"status": "in_progress"})]
        ending = {"proof": "门口签收"} if end == "done" else {"notes": "无人应门"}
        moves.append((VOL_A, {"status": end, **ending}))
    for actor, fields in moves:
        assert code_of(push(world, actor, a_changeset(an_update(task_id, **fields)))) is None


@pytest.mark.parametrize(
    ("end", "status"),
    [("done", "delivered"), ("failed", "needs_call"), ("cancelled", "needs_call")],
)
def test_a_medicine_runs_end_moves_its_request(world: MemoryStore, end: str, status: str) -> None:
    record_id = requested(world, by=VOL_A2)
    push(world, MEDIC, a_changeset(triage(record_id, status="approved")))
    first = medicine_task_id(record_id)
    assert stored(world, first).fields["med_request_id"] == record_id
    run(world, first, end)
    assert stored(world, record_id).fields["status"] == status
    if status == "delivered":
        return
    # Back with the clinicians: approving again makes the request's next run.
    assert code_of(push(world, MEDIC, a_changeset(triage(record_id, status="approved")))) is None
    second = medicine_task_id(record_id, 1)
    assert stored(world, record_id).fields["task_id"] == second
    assert stored(world, second).fields["status"] == "open"
    run(world, second, "done")
    assert stored(world, record_id).fields["status"] == "delivered"


def approved(world: MemoryStore) -> tuple[str, str]:
    """Push a request and its approval; return the request's and its run's ids."""
    record_id = requested(world)
    assert code_of(push(world, MEDIC, a_changeset(triage(record_id, status="approved")))) is None
    return record_id, medicine_task_id(record_id)


def live_runs(world: MemoryStore, record_id: str) -> list[str]:
    """Return the ids of the tasks naming the request that are not done, failed or cancelled."""
    page = world.page(UserScope(everything=True), 0, 100_000, frozenset())
    return [
        r.id
        for r in page.records
        if r.type == "task"
        and not r.deleted
        and r.fields.get("med_request_id") == record_id
        and r.fields["status"] in {"open", "claimed", "in_progress"}
    ]


#: A move of an approved request out of ``approved``: (who, the status asked for).
LEAVING_APPROVED = [
    (MEDIC, "needs_call"),  # again
    (COORD, "needs_call"),
    (MEDIC, "delivered"),  # by other means
    (COORD, "cancelled"),
    (MEDIC, "cancelled"),
]


@pytest.mark.parametrize(("actor", "target"), LEAVING_APPROVED)
@pytest.mark.parametrize("run_status", ["open", "claimed"])
def test_a_request_leaving_approved_cancels_its_run_not_yet_started(
    world: MemoryStore, actor: object, target: str, run_status: str
) -> None:
    record_id, task_id = approved(world)
    if run_status == "claimed":
        push(world, VOL_A, a_changeset(an_update(task_id, status="claimed")))
    before = stored(world, task_id).version
    outcome = push(world, actor, a_changeset(triage(record_id, status=target)))  # type: ignore[arg-type]
    assert code_of(outcome) is None
    assert stored(world, record_id).fields["status"] == target
    assert stored(world, task_id).fields["status"] == "cancelled"
    assert live_runs(world, record_id) == []
    # The cancel is written like any change: a new version (devices pull it), stamped.
    task = stored(world, task_id)
    assert task.version > before
    assert task.stamps["status"].by == actor.user_id  # type: ignore[attr-defined]
    # A volunteer's claim or start made offline before it lands late: refused, not revived.
    late = push(world, VOL_A, a_changeset(an_update(task_id, status="in_progress")))
    assert code_of(late) in {"stale_transition", "already_claimed"}
    assert stored(world, task_id).fields["status"] == "cancelled"


@pytest.mark.parametrize(("actor", "target"), LEAVING_APPROVED)
def test_a_run_under_way_keeps_its_request_approved_until_it_ends(
    world: MemoryStore, actor: object, target: str
) -> None:
    record_id, task_id = approved(world)
    push(world, VOL_A, a_changeset(an_update(task_id, status="claimed")))
    push(world, VOL_A, a_changeset(an_update(task_id, status="in_progress")))
    outcome = push(world, actor, a_changeset(triage(record_id, status=target)))  # type: ignore[arg-type]
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and (conflict.code, conflict.holder) == (
        "already_claimed",
        VOL_A.user_id,
    )
    assert stored(world, record_id).fields["status"] == "approved"
    assert live_runs(world, record_id) == [task_id]
    # The volunteer's end of the run moves the request; then the move can be made.
    failed = an_update(task_id, status="failed", notes="无人应门")
    assert code_of(push(world, VOL_A, a_changeset(failed))) is None
    assert stored(world, record_id).fields["status"] == "needs_call"


def test_approving_again_while_a_run_is_live_leaves_one_live_run(world: MemoryStore) -> None:
    record_id, first = approved(world)
    assert code_of(push(world, MEDIC, a_changeset(triage(record_id, status="needs_call")))) is None
    assert code_of(push(world, MEDIC, a_changeset(triage(record_id, status="approved")))) is None
    second = medicine_task_id(record_id, 1)
    assert live_runs(world, record_id) == [second]
    assert stored(world, first).fields["status"] == "cancelled"
    assert stored(world, record_id).fields["task_id"] == second


def test_deleting_the_run_sends_its_request_back_to_the_clinicians(world: MemoryStore) -> None:
    record_id, task_id = approved(world)
    assert code_of(push(world, COORD, a_changeset(a_delete(task_id)))) is None
    assert stored(world, record_id).fields["status"] == "needs_call"


#: One step of the property: who moves what — the request to a status, or one of its tasks.
Step = tuple[str, str, int]
TASK_MOVES = {
    "claim": (VOL_A, {"status": "claimed"}),
    "start": (VOL_A, {"status": "in_progress"}),
    "done": (VOL_A, {"status": "done", "proof": "门口签收"}),
    "fail": (VOL_A, {"status": "failed", "notes": "无人应门"}),
    "cancel": (COORD, {"status": "cancelled"}),
}
request_steps = st.tuples(
    st.sampled_from(("medic", "coord", "asker")), st.sampled_from(STATUSES), st.just(0)
)
task_steps = st.tuples(
    st.just("task"), st.sampled_from((*TASK_MOVES, "delete")), st.integers(0, 5)
)


def take(world: MemoryStore, record_id: str, step: Step) -> None:
    """Push one step; refused ones are answered and change nothing."""
    who, what, which = step
    if who != "task":
        actor = {"medic": MEDIC, "coord": COORD, "asker": VOL_A}[who]
        push(world, actor, a_changeset(triage(record_id, status=what)))
        return
    task_id = medicine_task_id(record_id, which)
    if world.get(task_id) is None:
        return
    if what == "delete":
        push(world, COORD, a_changeset(a_delete(task_id)))
        return
    actor, fields = TASK_MOVES[what]
    push(world, actor, a_changeset(an_update(task_id, **fields)))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(request_steps, task_steps), max_size=25))
def test_a_request_has_at_most_one_live_run_and_only_while_approved(todo: list[Step]) -> None:
    world = MemoryStore()
    seed_world(world)
    record_id = requested(world)
    for step in todo:
        take(world, record_id, step)
        request = stored(world, record_id)
        runs = live_runs(world, record_id)
        assert len(runs) <= 1, (step, runs)
        if request.fields["status"] == "approved":
            assert runs == [request.fields["task_id"]], step
        else:
            assert runs == [], (step, request.fields["status"])


def test_nobody_links_a_task_to_a_request_by_hand(world: MemoryStore) -> None:
    record_id, task_id = approved(world)
    forged = an_update(task_id, med_request_id=record_id)
    assert code_of(push(world, COORD, a_changeset(forged))) == "forbidden"
    place = {"kind": "medicine", "building_id": BUILDING_A, "household_id": HOUSEHOLD_A}
    for task_id_ in (new_id(), medicine_task_id(record_id, 1)):
        made = a_create("task", task_id_, **task_fields(**place, med_request_id=record_id))
        outcome = push(world, COORD, a_changeset(made))
        assert (code_of(outcome), only(outcome).changes[0].conflict.field) == (  # type: ignore[union-attr]
            "forbidden",
            "med_request_id",
        )
    assert live_runs(world, record_id) == [task_id]
    linked = a_request(task_id=task_id)
    assert code_of(push(world, VOL_A, a_changeset(linked))) == "forbidden"  # type: ignore[arg-type]


def test_only_clinicians_coordinators_and_the_asker_receive_a_request(world: MemoryStore) -> None:
    record = stored(world, requested(world))
    seen = {
        name: view(record, actor) is not None
        for name, actor in {
            "coord": COORD,
            "medic": MEDIC,
            "asker": VOL_A,
            "other volunteer": VOL_A2,
            "leader": LEADER_A,
            "guard": GUARD_A,
        }.items()
    }
    assert seen == {
        "coord": True,
        "medic": True,
        "asker": True,
        "other volunteer": False,
        "leader": False,
        "guard": False,
    }


def test_a_pull_gives_a_volunteer_only_their_own_requests(world: MemoryStore) -> None:
    mine, theirs = requested(world, VOL_A), requested(world, VOL_A2)
    page = world.page(UserScope(compound_ids=VOL_A.scope.compound_ids), 0, 1000, frozenset())
    received = {r.id for r in page.records if view(r, VOL_A) is not None}
    assert mine in received and theirs not in received


def test_team_leaders_and_guards_cannot_ask(world: MemoryStore) -> None:
    for actor in (LEADER_A, GUARD_A):
        assert code_of(push(world, actor, a_changeset(a_request()))) == "forbidden"  # type: ignore[arg-type]


def test_another_volunteers_edit_reveals_nothing(world: MemoryStore) -> None:
    record_id = requested(world, VOL_A)
    outcome = push(world, VOL_A2, a_changeset(triage(record_id, notes="打过电话")))
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and (conflict.code, conflict.record) == ("not_found", None)
    assert stored(world, record_id).fields.get("notes") is None
