"""Medicine requests: a resident's refill, triaged by clinicians.

A volunteer, coordinator or clinician asks for a resident's medicine; a
clinician triages it (urgency: urgent, today, routine; and a decision)
through the shared state machine::

                 approve                 deliver
     requested ───────────▶ approved ─────────────▶ delivered
       │   │                   │    │
       │   │ call        again │    │ cancel
       │   ▼                   ▼    ▼
       │ needs_call ◀──────────┘  cancelled
       │     └──▶ approved | referred | rejected
       │
       ├─ refer ─▶ referred      ├─ reject ─▶ rejected      └─ cancel ─▶ cancelled

Approval makes a ``medicine`` task for the resident's household (a side
write): the task carries only what the trip needs — the drop point and a
priority from the urgency — never the medicine or the resident's health
(contract, Privacy: a volunteer receives only the ``med_request``s they
made; team leaders and guards none). The task names its request
(``med_request_id``, rule-made) and the run's end moves the request through
this machine (:func:`medicine_run_rules`, a task rule): ``done`` (with the
recipient's code or a note in ``proof``) delivers it; ``failed``,
``cancelled`` or a deleted task sends it back to ``needs_call``, where the
clinicians see it needs a new run, and approving it again makes the next task.

A request has at most one live run (a task not yet done, failed or
cancelled): every move of the request's status cancels the runs still live
(:func:`_end_runs`) — ``again``, a delivery by other means, a cancellation,
and an approval before it makes the next run. The cancel is a side write
through the task's machine, so devices receive it by sync and a late claim
of the cancelled task is ``stale_transition``; a run a volunteer has
started cannot be cancelled, so such a move of its request is refused
``already_claimed``, naming them (the run ends with their ``done`` or
``failed``). Only these rules link a task and a request: a device's
create naming a ``med_request_id`` (or a request's ``task_id``) is
``forbidden`` (``rule_made``).
"""

from __future__ import annotations

import uuid

from sync import fields as f
from sync.actors import Role
from sync.changes import Op
from sync.errors import Code, SyncError
from sync.field import home_of, place_of
from sync.machines import StateMachine, Transition
from sync.policy import Own
from sync.records import Record
from sync.registry import (
    ChangeContext,
    Parent,
    Permissions,
    RecordType,
    Ruling,
    SideWrite,
    Visibility,
)
from sync.scoping import PLACE_FIELDS, from_parent

URGENCIES = ("urgent", "today", "routine")
STATUSES = (
    "requested",
    "approved",
    "needs_call",
    "referred",
    "rejected",
    "delivered",
    "cancelled",
)
#: A task's priority (1 urgent … 3 routine) by urgency.
PRIORITY = {"urgent": 1, "today": 2, "routine": 3}

CLINICIANS = frozenset({Role.CLINICIAN})
REQUESTERS = frozenset({Role.COORDINATOR, Role.VOLUNTEER, Role.CLINICIAN})
#: What a volunteer may change on a request they made.
VOLUNTEER_FIELDS = frozenset({"status", "notes", "dose", "prescription"})
_DELIVERERS = frozenset({Role.COORDINATOR, Role.CLINICIAN})
_OVERSEERS = frozenset({Role.COORDINATOR, Role.CLINICIAN})


def _triage(source: str) -> tuple[Transition, ...]:
    """Return a clinician's decisions from ``source``."""
    targets = ("approved", "referred", "rejected")
    names = {"approved": "approve", "referred": "refer", "rejected": "reject"}
    return tuple(Transition(names[t], source, t, CLINICIANS) for t in targets)


MED_MACHINE = StateMachine(
    field="status",
    initial=frozenset({"requested"}),
    final=frozenset({"referred", "rejected", "delivered", "cancelled"}),
    transitions=(
        *_triage("requested"),
        Transition("call", "requested", "needs_call", CLINICIANS),
        *_triage("needs_call"),
        Transition("deliver", "approved", "delivered", _DELIVERERS),
        Transition("again", "approved", "needs_call", _OVERSEERS),
        Transition("cancel", "requested", "cancelled", REQUESTERS),
        Transition("cancel", "needs_call", "cancelled", REQUESTERS),
        Transition("cancel", "approved", "cancelled", _OVERSEERS),
    ),
)


#: What a medicine run's end (the task's new status) makes of its request.
RUN_ENDS = {"done": "delivered", "failed": "needs_call", "cancelled": "needs_call"}


def medicine_task_id(med_request_id: str, n: int = 0) -> str:
    """Return the id of the ``n``-th task an approved request makes (UUID version 5).

    :param n: 0 for the first approval; 1, 2 … for the runs approved again
        after one failed or was cancelled.
    """
    name = "medicine-task" + (f"/{n}" if n else "")
    return str(uuid.uuid5(uuid.UUID(med_request_id), name))


def med_request_rules(ctx: ChangeContext) -> Ruling | None:
    """Record who asked and who triaged; make the task on approval.

    :raises SyncError: ``not_found`` when a volunteer acts on a request
        someone else made (its existence is not revealed).
    """
    if ctx.op is Op.DELETE:
        return None
    out = dict(ctx.fields)
    if ctx.current is None:
        out["requested_by"] = ctx.actor.user_id
        return Ruling(out)
    mine = ctx.current.fields.get("requested_by") == ctx.actor.user_id
    if ctx.actor.role == Role.VOLUNTEER and not mine:
        raise SyncError(Code.NOT_FOUND, f"no med_request {ctx.record_id}")
    target = out.get("status")
    if target is None:
        return Ruling(out)
    if ctx.actor.role == Role.CLINICIAN and ctx.current.fields["status"] in {
        "requested",
        "needs_call",
    }:
        out["triaged_by"] = ctx.actor.user_id
    taken = _task_ids_taken(ctx)
    ended = _end_runs(ctx.record_id, taken)
    if target != "approved":
        return Ruling(out, ended)
    task = _medicine_task(ctx, {**ctx.current.fields, **out}, len(taken))
    out["task_id"] = task.record_id
    return Ruling(out, (*ended, task))


def _task_ids_taken(ctx: ChangeContext) -> list[Record]:
    """Return the records under the request's task ids so far (:func:`medicine_task_id`)."""
    taken: list[Record] = []
    while (task := ctx.lookup(medicine_task_id(ctx.record_id, len(taken)))) is not None:
        taken.append(task)
    return taken


def _end_runs(request_id: str, taken: list[Record]) -> tuple[SideWrite, ...]:
    """Return the cancels of the request's live runs (see the module's docstring)."""
    return tuple(
        SideWrite(task.id, {"status": "cancelled"})
        for task in taken
        if task.fields.get("med_request_id") == request_id
        and not task.deleted
        and task.fields.get("status") not in RUN_ENDS
    )


def _medicine_task(ctx: ChangeContext, request: dict[str, object], n: int) -> SideWrite:
    """Return the create of the ``n``-th run for an approved request: the drop point only."""
    resident = ctx.lookup(str(request["resident_id"]))
    assert resident is not None
    household, building = home_of(ctx, resident)
    place = place_of(ctx, household)
    fields = {
        "kind": "medicine",
        # No medicine in the title, not even the word: the kind says what the trip is.
        "title": f"上门配送：{place}",
        "status": "open",
        "compound_id": household.fields["compound_id"],
        "building_id": building.id,
        "household_id": household.id,
        "priority": PRIORITY[str(request["urgency"])],
        "med_request_id": ctx.record_id,
    }
    return SideWrite(medicine_task_id(ctx.record_id, n), fields, create="task")


def medicine_run_rules(ctx: ChangeContext) -> Ruling | None:
    """Move a medicine task's request when the run ends; a task rule.

    A run ends by :data:`RUN_ENDS` or by its task's deletion (as if
    cancelled). Only the request's current run moves it (its ``task_id``
    is this task), and only by a move of :data:`MED_MACHINE` (a request
    delivered meanwhile stays delivered).

    A device's task never names a ``med_request_id`` (``rule_made``): runs
    are made by a request's approval.
    """
    if ctx.current is None:
        return None
    before = ctx.current.fields.get("status")
    target = "cancelled" if ctx.op is Op.DELETE else ctx.fields.get("status")
    if target not in RUN_ENDS or target == before or before in RUN_ENDS:
        return None
    request_id = ctx.current.fields.get("med_request_id")
    request = ctx.lookup(request_id) if isinstance(request_id, str) else None
    if request is None or request.deleted or request.fields.get("task_id") != ctx.record_id:
        return None
    moved = RUN_ENDS[str(target)]
    if not MED_MACHINE.leads(request.fields.get("status"), moved):
        return None
    return Ruling(ctx.fields, (SideWrite(request.id, {"status": moved}),))


RESIDENT = Parent("resident_id", "resident", ("compound_id", "building_id"))

MED_REQUEST = RecordType(
    name="med_request",
    fields={
        "resident_id": f.Ref("resident"),
        **PLACE_FIELDS,
        "medicine": f.Text(1, 200),
        "dose": f.Nullable(f.Text(0, 200)),
        "urgency": f.Enum(URGENCIES),
        "status": f.Enum(STATUSES),
        "prescription": f.Nullable(f.Text(0, 2000, multiline=True)),
        "notes": f.Nullable(f.Text(0, 2000, multiline=True)),
        "requested_by": f.Nullable(f.UserRef()),
        "triaged_by": f.Nullable(f.UserRef()),
        "task_id": f.Nullable(f.Uuid()),
    },
    required=frozenset({"resident_id", "medicine", "urgency", "status"}),
    defaults={"status": "requested"},
    immutable=frozenset({"resident_id"}),
    permissions=Permissions(
        create=REQUESTERS,
        update=REQUESTERS,
        update_fields={Role.VOLUNTEER: VOLUNTEER_FIELDS},
    ),
    scope=from_parent(RESIDENT),
    parent=RESIDENT,
    state_machine=MED_MACHINE,
    rule_owned=frozenset({"requested_by", "triaged_by", "task_id"}),
    rule_made=frozenset({"triaged_by", "task_id"}),
    personal=frozenset({"medicine", "dose", "prescription", "notes"}),
    kind_rules=med_request_rules,
    # Contract, Privacy: no team leader or guard; a volunteer only their own.
    visibility=Visibility(roles=REQUESTERS),
    sync_policy={Role.VOLUNTEER: Own("requested_by")},
)
