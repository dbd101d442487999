"""Testing rounds: a compound's round for a day, and each resident's mark in it.

A coordinator opens a ``test_round`` for one compound and one day (the day
in the neighbourhood's time zone, :data:`sync.field.NEIGHBOURHOOD_ZONE`) and
closes it when the round is over::

            close
     open ─────────▶ closed

Volunteers, coordinators and clinicians mark each resident of the compound
once per round with a ``test_result``. Its id is fixed by the contract
("Identity of marks"): the UUID version 5 of the resident's id in the
namespace of the round's id (:func:`mark_id`), so two devices marking
the same resident write the same record and meet in the conflict rules (the
later mark wins, the loser is kept as a ``conflict``) instead of duplicating.
A create under any other id is ``invalid``; a mark in a closed round is
``round_closed``; nobody deletes a mark.

A mark of ``antigen_positive`` makes an urgent task for the resident's
household (a side write, once per mark: :func:`positive_task_id`). The task
says where to go and that it is urgent, never why: tasks reach every role of
the compound, results only carers (contract, Privacy: a guard never receives
a ``test_result``).
"""

from __future__ import annotations

import uuid

from sync import fields as f
from sync.changes import Op
from sync.errors import Code, SyncError
from sync.field import CARERS, COORDINATOR, live_record, made_by, place_of
from sync.machines import StateMachine, Transition
from sync.registry import (
    ChangeContext,
    Parent,
    Permissions,
    RecordType,
    Ruling,
    SideWrite,
    Visibility,
)
from sync.scoping import PLACE_FIELDS, compound_field, from_parent

KINDS = ("pcr", "antigen")
ROUND_STATUSES = ("open", "closed")
OUTCOMES = ("tested", "absent", "exempt", "antigen_negative", "antigen_positive")
#: The outcome that makes an urgent task for the household.
POSITIVE = "antigen_positive"
#: The priority of that task (1 urgent … 3 routine).
URGENT = 1

ROUND_MACHINE = StateMachine(
    field="status",
    initial=frozenset({"open"}),
    final=frozenset({"closed"}),
    transitions=(Transition("close", "open", "closed", COORDINATOR),),
)

TEST_ROUND = RecordType(
    name="test_round",
    fields={
        "compound_id": f.Ref("compound"),
        "date": f.Date(),
        "kind": f.Enum(KINDS),
        "status": f.Enum(ROUND_STATUSES),
        "title": f.Nullable(f.Text(1, 200)),
    },
    required=frozenset({"compound_id", "date", "kind", "status"}),
    defaults={"status": "open", "kind": "pcr"},
    immutable=frozenset({"compound_id", "date"}),
    permissions=Permissions(create=COORDINATOR, update=COORDINATOR, delete=COORDINATOR),
    scope=compound_field,
    state_machine=ROUND_MACHINE,
    visibility=Visibility(roles=CARERS),
)


def mark_id(test_round_id: str, resident_id: str) -> str:
    """Return the id of a resident's mark in a round (contract, "Identity of marks").

    :param test_round_id: the round's id, the namespace.
    :param resident_id: the resident's id, as the name (its canonical text).
    :raises ValueError: if ``test_round_id`` is not a UUID.
    """
    return str(uuid.uuid5(uuid.UUID(test_round_id), resident_id))


def positive_task_id(result_id: str) -> str:
    """Return the id of the urgent task a positive mark makes (UUID version 5)."""
    return str(uuid.uuid5(uuid.UUID(result_id), "antigen-positive-task"))


def test_result_rules(ctx: ChangeContext) -> Ruling | None:
    """Judge a mark: its identity, its round's compound and status; act on a positive.

    :returns: the fields to write (``marked_by`` filled by the server) and
        the create of the household's urgent task on a first positive.
    :raises SyncError: ``invalid`` (a wrong id, a resident of another
        compound), ``round_closed`` (the round is closed).
    """
    if ctx.op is Op.DELETE:
        return None
    before = {} if ctx.current is None else dict(ctx.current.fields)
    after = {**before, **ctx.fields}
    round_ = live_record(ctx, after["test_round_id"], "test_round", "test_round_id")
    resident = live_record(ctx, after["resident_id"], "resident", "resident_id")
    if ctx.current is None:
        if ctx.record_id != mark_id(round_.id, resident.id):
            raise SyncError(Code.INVALID, "id: a mark's id is its resident's in the round")
        if resident.fields.get("compound_id") != round_.fields["compound_id"]:
            detail = "resident_id: not in the round's compound"
            raise SyncError(Code.INVALID, detail, "resident_id")
    if round_.fields["status"] != "open":
        detail = f"the testing round of {round_.fields['date']} is closed"
        raise SyncError(Code.ROUND_CLOSED, detail)
    out = dict(ctx.fields)
    if ctx.current is None:
        out.update(made_by(ctx, "marked_by"))
    if after["outcome"] != POSITIVE:
        return Ruling(out)
    task_id = positive_task_id(ctx.record_id)
    if ctx.lookup(task_id) is not None:
        return Ruling(out)
    household = live_record(ctx, resident.fields["household_id"], "household", "resident_id")
    task = {
        "kind": "other",
        "title": f"紧急上门：{place_of(ctx, household)}",
        "status": "open",
        "compound_id": household.fields["compound_id"],
        "building_id": household.fields["building_id"],
        "household_id": household.id,
        "priority": URGENT,
    }
    return Ruling(out, (SideWrite(task_id, task, create="task"),))


RESIDENT = Parent("resident_id", "resident", ("compound_id", "building_id", "household_id"))

TEST_RESULT = RecordType(
    name="test_result",
    fields={
        "test_round_id": f.Ref("test_round"),
        "resident_id": f.Ref("resident"),
        **PLACE_FIELDS,
        "household_id": f.Nullable(f.Ref("household")),
        "outcome": f.Enum(OUTCOMES),
        "needs_registration_help": f.Boolean(),
        "notes": f.Nullable(f.Text(0, 500, multiline=True)),
        "marked_by": f.Nullable(f.UserRef()),  # who marked first
    },
    required=frozenset({"test_round_id", "resident_id", "outcome"}),
    defaults={"needs_registration_help": False},
    immutable=frozenset({"test_round_id", "resident_id"}),
    permissions=Permissions(create=CARERS, update=CARERS),
    scope=from_parent(RESIDENT),
    parent=RESIDENT,
    rule_owned=frozenset({"marked_by"}),
    kind_rules=test_result_rules,
    personal=frozenset({"notes"}),
    # Contract, Privacy: no guard, no team leader (a result is health data).
    visibility=Visibility(roles=CARERS),
)
