"""What the field-work features share: roles, the neighbourhood's day, places.

Screening (:mod:`sync.screening`), testing rounds (:mod:`sync.testing`) and
volunteers' shifts (:mod:`sync.volunteers`) all work by the neighbourhood's
calendar day and name a household by its address as a volunteer reads it on
the stairwell ("3号楼 1单元 502室").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sync.actors import Role
from sync.errors import Code, SyncError
from sync.records import SERVER_USER_ID, Record
from sync.registry import ChangeContext

COORDINATOR = frozenset({Role.COORDINATOR})
#: Who walks the stairwells: creates households, residents.
FIELD_WORKERS = frozenset({Role.COORDINATOR, Role.VOLUNTEER})
#: Who may see and record residents' health: screening visits, test results.
CARERS = frozenset({Role.COORDINATOR, Role.VOLUNTEER, Role.CLINICIAN})

#: The neighbourhood's time zone (contract, ``test_round.date``: Asia/Shanghai
#: for the demo). A fixed UTC+8 rather than a tz database lookup: ``sync`` does
#: no IO, and China has kept UTC+8 without daylight saving since 1991.
NEIGHBOURHOOD_ZONE = timezone(timedelta(hours=8), "Asia/Shanghai")


def day_of(moment: datetime) -> date:
    """Return the neighbourhood's calendar day at the aware time ``moment``."""
    return moment.astimezone(NEIGHBOURHOOD_ZONE).date()


def live_record(
    ctx: ChangeContext, record_id: object, type_name: str, field: str, problem: str = ""
) -> Record:
    """Return the live record ``record_id`` of ``type_name`` as the change sees it.

    :raises SyncError: ``invalid`` naming ``field`` when there is none; its
        detail is ``problem``, by default "refers to no <type_name>".
    """
    found = ctx.lookup(record_id) if isinstance(record_id, str) else None
    if found is None or found.deleted or found.type != type_name:
        raise SyncError(Code.INVALID, f"{field}: {problem or f'refers to no {type_name}'}", field)
    return found


def home_of(ctx: ChangeContext, resident: Record) -> tuple[Record, Record]:
    """Return the live household and building ``resident`` lives in.

    :raises SyncError: ``invalid`` naming ``resident_id`` when either is gone
        (a gate pass or a medicine run needs the drop point).
    """
    unknown = "the resident's home is unknown"
    household_id = resident.fields.get("household_id")
    household = live_record(ctx, household_id, "household", "resident_id", unknown)
    building_id = household.fields.get("building_id")
    return household, live_record(ctx, building_id, "building", "resident_id", unknown)


def place_of(ctx: ChangeContext, household: Record) -> str:
    """Return a household's address as read on the stairwell: ``3号楼 1单元 502室``."""
    building = ctx.lookup(str(household.fields["building_id"]))
    name = building.fields["name"] if building is not None else ""
    return f"{name} {household.fields['unit']}单元 {household.fields['room']}室".strip()


def made_by(ctx: ChangeContext, field: str) -> dict[str, object]:
    """Return ``{field: the author's user id}``, or nothing when the server itself writes.

    The server's own writes (the demo seed, the daily job) have no user to name.
    """
    return {} if ctx.actor.user_id == SERVER_USER_ID else {field: ctx.actor.user_id}
