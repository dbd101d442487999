"""Door-to-door screening and the daily field tasks it leads to.

A ``visit`` is one knock on one household's door: who answered, how many
were present, what the household needs. Visits are facts (append-only: never
updated or deleted, never in conflict); the server records who made one
(``visited_by``) and, when the device gave no time, when (``visited_at``,
the changeset's ``made_at`` clamped to the receipt).

Daily tasks, with ids fixed by their household or stairwell and the day (so
making them twice makes them once):

- a ``check_in`` task per household with someone elderly living alone, each
  day (:func:`check_in_task_id`). A visit that flags ``elderly_alone`` makes
  that day's task at once (a side write); the daily job
  (:func:`daily_tasks`, run by ``weiguang daily-tasks``) makes it on the
  following days for every such household, whether flagged by a visit or on
  the resident's record.
- a ``garbage`` task per stairwell (building and unit) of every ``sealed``
  compound, each day (:func:`garbage_task_id`), by the same daily job.

Tasks reach every role of the compound, so their titles name the place and
the errand only, never a resident or their health.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from sync import fields as f
from sync.actors import Role
from sync.changes import Op
from sync.field import CARERS, NEIGHBOURHOOD_ZONE, day_of, live_record, made_by, place_of
from sync.records import Record
from sync.registry import ChangeContext, Permissions, RecordType, Ruling, SideWrite, Visibility
from sync.scoping import HOUSEHOLD, PLACE_FIELDS, from_parent
from sync.times import format_datetime

OUTCOMES = ("answered", "no_answer", "refused", "moved_out")
#: The need that makes a daily check-in task.
ELDERLY_ALONE = "elderly_alone"
#: A visit's needs: the resident needs, ``translator`` and ``lang:<tag>`` for
#: the language a translator must speak (BCP 47, e.g. ``lang:ja``).
VISIT_NEEDS = ("elderly_alone", "pregnant", "chronic_medicine", "disability", "translator")
LANGUAGE_NEED = "lang:"
#: When a daily task is due, the neighbourhood's local time.
DUE_AT = time(18, 0)
#: Priorities (1 urgent … 3 routine).
CHECK_IN_PRIORITY = 2
GARBAGE_PRIORITY = 2
_NAMESPACE = uuid.UUID("0f5c0f52-6a3e-4b8e-9f0e-5d2a7c1e9b31")


def check_in_task_id(household_id: str, day: date) -> str:
    """Return the id of a household's check-in task on ``day`` (UUID version 5)."""
    return str(uuid.uuid5(_NAMESPACE, f"check_in/{household_id}/{day.isoformat()}"))


def garbage_task_id(building_id: str, unit: str, day: date) -> str:
    """Return the id of a stairwell's garbage task on ``day`` (UUID version 5)."""
    return str(uuid.uuid5(_NAMESPACE, f"garbage/{building_id}/{unit}/{day.isoformat()}"))


def due_at(day: date) -> str:
    """Return when a daily task of ``day`` is due, as a contract date-time (UTC)."""
    return format_datetime(datetime.combine(day, DUE_AT, NEIGHBOURHOOD_ZONE))


def check_in_task(household: Record, place: str, day: date) -> dict[str, object]:
    """Return the fields of a household's check-in task on ``day``."""
    return {
        "kind": "check_in",
        "title": f"独居老人问候：{place}",
        "status": "open",
        "compound_id": household.fields["compound_id"],
        "building_id": household.fields["building_id"],
        "household_id": household.id,
        "priority": CHECK_IN_PRIORITY,
        "due_at": due_at(day),
    }


def visit_rules(ctx: ChangeContext) -> Ruling | None:
    """Record who visited and when; flagging ``elderly_alone`` makes today's check-in."""
    if ctx.op is not Op.CREATE:
        return None
    out = {**ctx.fields, **made_by(ctx, "visited_by")}
    if out.get("visited_at") is None:
        out["visited_at"] = format_datetime(ctx.made_at)
    needs = out.get("needs")
    if not isinstance(needs, list) or ELDERLY_ALONE not in needs:
        return Ruling(out)
    day = day_of(ctx.made_at)
    household = live_record(ctx, out["household_id"], "household", "household_id")
    task_id = check_in_task_id(household.id, day)
    if ctx.lookup(task_id) is not None:
        return Ruling(out)
    task = SideWrite(task_id, check_in_task(household, place_of(ctx, household), day), "task")
    return Ruling(out, (task,))


VISIT = RecordType(
    name="visit",
    fields={
        "household_id": f.Ref("household"),
        **PLACE_FIELDS,
        "outcome": f.Enum(OUTCOMES),
        "present": f.Integer(0, 100),
        "needs": f.ListOf(f.Text(1, 40)),
        "notes": f.Nullable(f.Text(0, 2000, multiline=True)),
        "visited_at": f.Nullable(f.DateTime()),
        "visited_by": f.Nullable(f.UserRef()),
    },
    required=frozenset({"household_id", "outcome", "present"}),
    defaults={"needs": []},
    append_only=True,
    permissions=Permissions(create=CARERS),
    scope=from_parent(HOUSEHOLD),
    parent=HOUSEHOLD,
    rule_owned=frozenset({"visited_by"}),
    kind_rules=visit_rules,
    personal=frozenset({"needs", "notes"}),
    # Contract, Privacy: a guard never receives a visit; a team leader no needs.
    visibility=Visibility(
        roles=CARERS | {Role.TEAM_LEADER},
        fields={"needs": CARERS, "notes": CARERS},
    ),
)


@dataclass(frozen=True, slots=True)
class DailyTask:
    """A task the daily job makes: its id and fields."""

    id: str
    fields: Mapping[str, object]


def daily_tasks(
    day: date,
    households: Iterable[Record],
    building_names: Mapping[str, str],
    sealed_compounds: frozenset[str],
    elderly_households: frozenset[str],
) -> list[DailyTask]:
    """Return the day's check-in and garbage tasks, in a stable order.

    :param households: the live households to consider.
    :param building_names: building id → name (``3号楼``), for titles.
    :param sealed_compounds: the ids of compounds whose tier is ``sealed``.
    :param elderly_households: ids of households with someone elderly living
        alone (flagged on a resident or by a visit).
    :returns: one check-in task per elderly household (in the order given),
        then one garbage task per stairwell of a sealed compound (by building
        id and unit); the caller skips those that exist.
    """
    out: list[DailyTask] = []
    stairwells: dict[tuple[str, str], Record] = {}
    for household in households:
        building_id = str(household.fields["building_id"])
        place = f"{building_names.get(building_id, '')} {household.fields['unit']}单元"
        if household.id in elderly_households:
            address = f"{place} {household.fields['room']}室".strip()
            fields = check_in_task(household, address, day)
            out.append(DailyTask(check_in_task_id(household.id, day), fields))
        if household.fields["compound_id"] in sealed_compounds:
            stairwells.setdefault((building_id, str(household.fields["unit"])), household)
    for (building_id, unit), household in sorted(stairwells.items()):
        name = building_names.get(building_id, "")
        fields = {
            "kind": "garbage",
            "title": f"封控楼垃圾清运：{name} {unit}单元".replace("： ", "："),
            "status": "open",
            "compound_id": household.fields["compound_id"],
            "building_id": building_id,
            "priority": GARBAGE_PRIORITY,
            "due_at": due_at(day),
        }
        out.append(DailyTask(garbage_task_id(building_id, unit, day), fields))
    return out
