"""Tasks: the task board's record type and its state machine.

::

                claim              start               done
      open ────────────▶ claimed ────────────▶ in_progress ────────▶ done
        │                   │                       │
        │ cancel            │ cancel                │ fail (reason in notes)
        ▼                   ▼                       ▼
    cancelled ◀─────────────┘                     failed

``done``, ``failed`` and ``cancelled`` are final: nothing leaves them, so
``done`` is never undone by a late sync. A claim sets ``assignee_id`` (the
caller when absent). Volunteers act only on tasks they hold; coordinators
move any task and reassign it. :mod:`sync.machines` applies the rules.

Who receives which tasks is minimised to each role's job (contract,
Privacy: a task for a household, with its title, points at the people who
live there, and a medicine run or a check on an elderly resident tells
their health): coordinators, volunteers and clinicians receive every task
in scope, whole; a team leader only deliveries, which they hand to
volunteers, without notes or proof; a guard only the trips that pass the
gate (deliveries, escorts), as kind, status, place, holder, priority and
time — no title, household, notes or proof.
"""

from __future__ import annotations

from sync import fields as f
from sync.actors import Role
from sync.machines import StateMachine, Transition
from sync.medicine import medicine_run_rules
from sync.policy import Matching
from sync.registry import ChangeContext, Judges, Permissions, RecordType, Ruling, Visibility
from sync.scoping import compound_field
from sync.supplies import MAX_TASK_ORDERS, deliver_orders

KINDS = ("delivery", "medicine", "garbage", "check_in", "escort", "other")
STATUSES = ("open", "claimed", "in_progress", "done", "failed", "cancelled")
#: What a volunteer may change on a task.
VOLUNTEER_FIELDS = frozenset({"status", "assignee_id", "notes", "proof"})

_BOTH = frozenset({Role.VOLUNTEER, Role.COORDINATOR})
_COORDINATOR = frozenset({Role.COORDINATOR})
#: Who carries tasks out or oversees them: they receive every task, whole.
_CARERS = frozenset({Role.COORDINATOR, Role.VOLUNTEER, Role.CLINICIAN})
#: The kinds of task each other role's job needs (see the module's docstring).
GATE_KINDS = ("delivery", "escort")
HANDOVER_KINDS = ("delivery",)

TASK_MACHINE = StateMachine(
    field="status",
    initial=frozenset({"open", "claimed"}),
    final=frozenset({"done", "failed", "cancelled"}),
    transitions=(
        Transition("claim", "open", "claimed", _BOTH, claim=True),
        Transition("start", "claimed", "in_progress", _BOTH),
        Transition("done", "in_progress", "done", _BOTH, requires=("proof",)),
        Transition("fail", "in_progress", "failed", _BOTH, requires=("notes",)),
        Transition("cancel", "open", "cancelled", _COORDINATOR),
        Transition("cancel", "claimed", "cancelled", _COORDINATOR),
    ),
    holder="assignee_id",
    held=frozenset({"claimed", "in_progress"}),
    holder_roles=frozenset({Role.VOLUNTEER}),
)


def task_rules(ctx: ChangeContext) -> Ruling | None:
    """Carry a run's end to what it served: a delivery's orders, a medicine request."""
    rulings = [r for r in (deliver_orders(ctx), medicine_run_rules(ctx)) if r is not None]
    if not rulings:
        return None
    return Ruling(ctx.fields, tuple(w for ruling in rulings for w in ruling.side_writes))


TASK = RecordType(
    name="task",
    fields={
        "kind": f.Enum(KINDS),
        "title": f.Text(1, 200),
        "status": f.Enum(STATUSES),
        "compound_id": f.Ref("compound"),
        "building_id": f.Nullable(f.Ref("building", same=("compound_id",))),
        "household_id": f.Nullable(f.Ref("household", same=("compound_id", "building_id"))),
        "assignee_id": f.Nullable(f.UserRef()),
        "priority": f.Integer(1, 3),
        "due_at": f.Nullable(f.DateTime()),
        "notes": f.Nullable(f.Text(0, 2000, multiline=True)),
        "proof": f.Nullable(f.Text(1, 200)),
        # A group-buying delivery's orders: done marks them delivered (sync.supplies),
        # so only live orders of the task's own compound.
        "order_ids": f.Nullable(f.ListOf(f.Ref("order", same=("compound_id",)), MAX_TASK_ORDERS)),
        # A medicine run's request: its end moves the request (sync.medicine).
        "med_request_id": f.Nullable(f.Uuid()),
    },
    required=frozenset({"kind", "title", "status", "compound_id", "priority"}),
    defaults={"status": "open"},
    permissions=Permissions(
        create=_COORDINATOR,
        update=_BOTH,
        delete=_COORDINATOR,
        update_fields={Role.VOLUNTEER: VOLUNTEER_FIELDS},
    ),
    scope=compound_field,
    scope_fields=frozenset({"compound_id", "building_id"}),
    state_machine=TASK_MACHINE,
    kind_rules=task_rules,
    # A run ends by a move of its status, or by its task's deletion.
    kind_rules_judge=Judges(create=False, update=frozenset({"status"})),
    rule_owned=frozenset({"med_request_id"}),
    rule_made=frozenset({"med_request_id"}),
    personal=frozenset({"notes", "proof"}),
    visibility=Visibility(
        roles=frozenset(Role),
        fields={
            "title": _CARERS | {Role.TEAM_LEADER},
            "household_id": _CARERS | {Role.TEAM_LEADER},
            "notes": _CARERS,
            "proof": _CARERS,
        },
    ),
    sync_policy={
        Role.GUARD: Matching("kind", GATE_KINDS),
        Role.TEAM_LEADER: Matching("kind", HANDOVER_KINDS),
    },
)
