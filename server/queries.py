"""Questions the features ask of records by their fields.

Screening, the gate, supplies and the coordinator board call these; they
read the generic ``record`` table by type name and the contract's pinned
field names ("Records"), through the partial expression indexes of
:data:`server.models.records.QUERY_INDEXES` (``docs/architecture.md``,
"Queries by field", says why indexes rather than projection tables). They
filter by scope and type but not by field visibility: callers apply that
to what they send on.

A record's *time*, here, is the device time (``made_at``) of the changeset
that created it, clamped so that it is never later than the server's
receipt (contract, "Conflict rules"): the stamp of one field that every
record of the type carries. Visits and gate events are append-only, so all
their fields keep that one stamp. The stamp of ``household_id`` times a
visit, that of ``compound_id`` a gate event.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.sql.expression import ColumnElement

from server.extensions import db
from server.models import RecordRow, RecordScope
from server.models.expressions import FieldText, StampTime
from server.store import RECORD_COLUMNS, covers, in_scope, to_record
from sync.actors import UserScope
from sync.records import Record
from sync.times import format_datetime

RECORD = RecordRow.__table__
#: The field whose stamp gives a visit's and a gate event's time (see above).
VISIT_TIME_FIELD = "household_id"
GATE_TIME_FIELD = "compound_id"


@dataclass(frozen=True, slots=True)
class BuildingProgress:
    """Where door-to-door screening stands in one building.

    A household counts as ``visited`` when a visit in the period got any
    outcome but ``no_answer`` (``answered``, ``refused``, ``moved_out``: the
    door was dealt with), as ``no_answer`` when it has visits in the period
    and all of them are ``no_answer`` (go back), else as not yet visited.
    Only live (undeleted) households and visits count.
    """

    compound_id: str
    building_id: str
    households: int
    visited: int
    no_answer: int

    @property
    def not_yet(self) -> int:
        """Return the households with no visit in the period."""
        return self.households - self.visited - self.no_answer


def of_type(table: Any, record_type: str) -> ColumnElement[bool]:
    """Return ``type = '<record_type>'``, the record type written as a literal.

    SQLite takes a partial index (``WHERE type = 'visit'``) only for a query
    that repeats that term; a bound ``type = ?`` does not match it.
    """
    return table.c.type == bindparam(None, record_type, literal_execute=True)


def live(table: Any, record_type: str) -> tuple[ColumnElement[bool], ...]:
    """Return the conditions for the undeleted records of ``record_type`` in ``table``."""
    return of_type(table, record_type), table.c.deleted.is_(False)


def every_live(record_type: str) -> list[Record]:
    """Return every live record of ``record_type``, whatever its scope (the server's jobs)."""
    statement = select(*RECORD_COLUMNS).where(*live(RECORD, record_type))
    return [to_record(row) for row in db.session.execute(statement)]


def delivery_marks(supply_round_id: str, task_ids: Collection[str]) -> tuple[object, ...]:
    """Return what moves when a round's delivery tasks may need bringing up.

    The round's version; the count and highest version of its orders (any
    state, deleted too: index ``ix_record_order_round``); the count and
    highest version of those of ``task_ids`` (primary keys) that failed, were
    cancelled or deleted — the task changes that give orders back. Equal
    marks, nothing of that changed.
    """
    rounds = select(RECORD.c.version).where(RECORD.c.id == supply_round_id)
    orders = select(func.count(), func.max(RECORD.c.version)).where(
        of_type(RECORD, "order"), FieldText(RECORD.c.fields, "supply_round_id") == supply_round_id
    )
    given_back = or_(
        RECORD.c.deleted, FieldText(RECORD.c.fields, "status").in_(("failed", "cancelled"))
    )
    tasks = select(func.count(), func.max(RECORD.c.version)).where(
        RECORD.c.id.in_(sorted(task_ids)), given_back
    )
    return (
        db.session.execute(rounds).scalar(),
        *db.session.execute(orders).one(),
        *db.session.execute(tasks).one(),
    )


def screening_progress(scope: UserScope, since: datetime | None = None) -> list[BuildingProgress]:
    """Return the screening progress of every building with households in ``scope``.

    :param scope: the households counted: those of its compounds and
        buildings (by their pinned ``compound_id`` and ``building_id``).
    :param since: count only visits made at or after this aware time (a
        day's round of door knocking); ``None`` counts every visit.
    :returns: one entry per building, ordered by compound and building id.
    """
    households = per_household(scope, since)
    statement = (
        select(
            households.c.compound_id,
            households.c.building_id,
            func.count().label("households"),
            func.count(case((households.c.answered == 1, 1))).label("visited"),
            func.count(case((households.c.answered == 0, 1))).label("no_answer"),
        )
        .group_by(households.c.compound_id, households.c.building_id)
        .order_by(households.c.compound_id, households.c.building_id)
    )
    return [BuildingProgress(**row._mapping) for row in db.session.execute(statement)]


def per_household(scope: UserScope, since: datetime | None) -> Any:
    """Return a subquery of the live households in ``scope`` and their visits, one row each.

    Columns: ``compound_id``, ``building_id`` and ``answered``: 1 when a
    visit since ``since`` had an outcome other than ``no_answer``, 0 when
    all of them had none, ``NULL`` without visits. The households' visits
    come by an outer join on the visit's ``household_id``: SQLite looks each
    household up in the visit index, PostgreSQL hashes the day's visits.
    """
    household = RECORD.alias("household")
    visit = RECORD.alias("visit")
    compound = FieldText(household.c.fields, "compound_id")
    building = FieldText(household.c.fields, "building_id")
    joined = [*live(visit, "visit"), FieldText(visit.c.fields, "household_id") == household.c.id]
    if since is not None:
        joined.append(StampTime(visit.c.stamps, VISIT_TIME_FIELD) >= format_datetime(since))
    outcome = case(
        (FieldText(visit.c.fields, "outcome") == "no_answer", 0),
        (visit.c.id.is_not(None), 1),
    )
    conditions = [*live(household, "household")]
    if not scope.everything:
        conditions.append(or_(compound.in_(scope.compound_ids), building.in_(scope.building_ids)))
    return (
        select(
            compound.label("compound_id"),
            building.label("building_id"),
            func.max(outcome).label("answered"),
        )
        .select_from(household)
        .outerjoin(visit, and_(*joined))
        .where(*conditions)
        .group_by(household.c.id)
        .subquery("per_household")
    )


def gate_log(
    compound_ids: Collection[str], since: datetime, until: datetime | None = None
) -> list[Record]:
    """Return the gate events of ``compound_ids`` recorded in ``[since, until)``.

    :param since: aware start time, included (``now - 1 hour`` for the last hour).
    :param until: aware end time, excluded; ``None`` for no end.
    :returns: ``gate_event`` records (deleted ones left out), newest first;
        events recorded at the same time by version, newest first.
    """
    at = StampTime(RECORD.c.stamps, GATE_TIME_FIELD)
    conditions = [
        *live(RECORD, "gate_event"),
        FieldText(RECORD.c.fields, "compound_id").in_(list(compound_ids)),
        at >= format_datetime(since),
    ]
    if until is not None:
        conditions.append(at < format_datetime(until))
    statement = (
        select(*RECORD_COLUMNS).where(*conditions).order_by(at.desc(), RECORD.c.version.desc())
    )
    return [to_record(row) for row in db.session.execute(statement)]


def orders_of_round(supply_round_id: str, scope: UserScope) -> list[Record]:
    """Return the live orders of one supply round placed for households in ``scope``.

    :returns: ``order`` records in version order (the order they were last written).
    """
    return records_naming("order", "supply_round_id", supply_round_id, scope)


def records_naming(record_type: str, field: str, value: str, scope: UserScope) -> list[Record]:
    """Return the live records of ``record_type`` in ``scope`` whose ``field`` is ``value``.

    A round's packages or orders; in version order.
    """
    conditions = [*live(RECORD, record_type), FieldText(RECORD.c.fields, field) == value]
    if not scope.everything:
        conditions.append(in_scope(RECORD.c.version, scope))
    statement = select(*RECORD_COLUMNS).where(*conditions).order_by(RECORD.c.version)
    return [to_record(row) for row in db.session.execute(statement)]


def live_records(
    record_type: str, scope: UserScope, compound_ids: Collection[str]
) -> list[Record]:
    """Return the live records of ``record_type`` in ``scope`` and in one of ``compound_ids``.

    A round's households and buildings; in version order.
    """
    within = UserScope(compound_ids=frozenset(compound_ids))
    conditions = [*live(RECORD, record_type), in_scope(RECORD.c.version, within)]
    if not scope.everything:
        conditions.append(in_scope(RECORD.c.version, scope))
    statement = select(*RECORD_COLUMNS).where(*conditions).order_by(RECORD.c.version)
    return [to_record(row) for row in db.session.execute(statement)]


@dataclass(frozen=True, slots=True)
class BuildingCoverage:
    """Where one testing round stands in one building.

    ``residents`` are the live residents of the building; each of them is
    counted under their mark's outcome in the round (``antigen_negative``
    counts as tested, ``antigen_positive`` as tested and positive), or as
    ``missing`` without one. ``needs_help`` counts marks flagged for help
    registering.
    """

    compound_id: str
    building_id: str
    residents: int
    tested: int
    positive: int
    absent: int
    exempt: int
    needs_help: int

    @property
    def missing(self) -> int:
        """Return the residents with no mark yet in the round."""
        return self.residents - self.tested - self.absent - self.exempt

    @property
    def share(self) -> float:
        """Return the share of residents dealt with (tested or exempt), 0 to 1."""
        return (self.tested + self.exempt) / self.residents if self.residents else 1.0


def testing_coverage(test_round_id: str, scope: UserScope) -> list[BuildingCoverage]:
    """Return the coverage of one testing round per building of its compound in ``scope``.

    :param test_round_id: the round (``test_round`` record id).
    :param scope: the residents counted: those of its compounds and buildings.
    :returns: one entry per building with residents, ordered by building id;
        empty for an unknown round.
    """
    resident = RECORD.alias("resident")
    mark = RECORD.alias("mark")
    round_ = RECORD.alias("round")
    compound = FieldText(resident.c.fields, "compound_id")
    building = FieldText(resident.c.fields, "building_id")
    outcome = FieldText(mark.c.fields, "outcome")
    joined = [
        *live(mark, "test_result"),
        FieldText(mark.c.fields, "resident_id") == resident.c.id,
        FieldText(mark.c.fields, "test_round_id") == test_round_id,
    ]
    conditions = [
        *live(resident, "resident"),
        compound
        == select(FieldText(round_.c.fields, "compound_id"))
        .where(round_.c.id == test_round_id, *live(round_, "test_round"))
        .scalar_subquery(),
    ]
    if not scope.everything:
        conditions.append(or_(compound.in_(scope.compound_ids), building.in_(scope.building_ids)))

    def counted(*outcomes: str) -> Any:
        return func.count(case((outcome.in_(outcomes), 1)))

    help_flag = FieldText(mark.c.fields, "needs_registration_help").in_(("true", "1"))
    statement = (
        select(
            compound.label("compound_id"),
            building.label("building_id"),
            func.count().label("residents"),
            counted("tested", "antigen_negative", "antigen_positive").label("tested"),
            counted("antigen_positive").label("positive"),
            counted("absent").label("absent"),
            counted("exempt").label("exempt"),
            func.count(case((help_flag, 1))).label("needs_help"),
        )
        .select_from(resident)
        .outerjoin(mark, and_(*joined))
        .where(*conditions)
        .group_by(compound, building)
        .order_by(building)
    )
    return [BuildingCoverage(**row._mapping) for row in db.session.execute(statement)]


def shifts_between(scope: UserScope, since: datetime, until: datetime) -> list[Record]:
    """Return the live shifts in ``scope`` that overlap ``[since, until)``.

    For who is on duty now (``since == until``: the shifts under way) and
    today's roster; judge each with :func:`sync.volunteers.duty_of`.

    :returns: ``shift`` records ordered by start time, then post.
    """
    starts = FieldText(RECORD.c.fields, "starts_at")
    ends = FieldText(RECORD.c.fields, "ends_at")
    conditions = [
        *live(RECORD, "shift"),
        starts <= format_datetime(until),
        ends > format_datetime(since),
    ]
    if not scope.everything:
        conditions.append(in_scope(RECORD.c.version, scope))
    statement = (
        select(*RECORD_COLUMNS)
        .where(*conditions)
        .order_by(starts, FieldText(RECORD.c.fields, "post"))
    )
    return [to_record(row) for row in db.session.execute(statement)]


@dataclass(frozen=True, slots=True)
class PlaceCount:
    """How many records of one kind lie in one compound and building (``None``: none)."""

    compound_id: str
    building_id: str | None
    count: int


def _counted(
    record_type: str,
    scope: UserScope,
    where: Mapping[str, Collection[str]],
    timed_by: str | None,
    since: datetime | None,
) -> tuple[Any, list[ColumnElement[bool]]]:
    """Return the join and conditions shared by the counts below."""
    placed = RECORD.join(RecordScope, RecordScope.version == RECORD.c.version)
    conditions = [*live(RECORD, record_type)]
    conditions += [FieldText(RECORD.c.fields, f).in_(list(values)) for f, values in where.items()]
    if not scope.everything:
        conditions.append(covers(RecordScope, scope))
    if since is not None and timed_by is not None:
        conditions.append(StampTime(RECORD.c.stamps, timed_by) >= format_datetime(since))
    return placed, conditions


def count_by_place(
    record_type: str,
    scope: UserScope,
    where: Mapping[str, Collection[str]] | None = None,
    timed_by: str | None = None,
    since: datetime | None = None,
) -> list[PlaceCount]:
    """Count the live records of ``record_type`` in ``scope`` per compound and building.

    A record counts in the compound and building of its scope rows
    (``record_scope``), so a type with no place fields of its own (a
    ``test_result``, scoped as its resident) is placed all the same.

    :param where: field → the string values that count (``{"status": ["delivered"]}``).
    :param timed_by: the field whose stamp times the record (``sync.times``
        wire form); with ``since``, only records whose stamp is at or after it count.
    :returns: one entry per compound and building with any, ordered by them.
    """
    placed, conditions = _counted(record_type, scope, where or {}, timed_by, since)
    statement = (
        select(RecordScope.compound_id, RecordScope.building_id, func.count().label("count"))
        .select_from(placed)
        .where(*conditions)
        .group_by(RecordScope.compound_id, RecordScope.building_id)
        .order_by(RecordScope.compound_id, RecordScope.building_id)
    )
    return [PlaceCount(**row._mapping) for row in db.session.execute(statement)]


def count_by_hour(
    record_type: str,
    scope: UserScope,
    timed_by: str,
    since: datetime,
    where: Mapping[str, Collection[str]] | None = None,
) -> list[tuple[str, int]]:
    """Count the live records of ``record_type`` in ``scope`` per UTC hour of ``timed_by``'s stamp.

    :returns: ``(hour, count)`` pairs from ``since`` on, in order; ``hour``
        is the stamp's first 13 characters, ``YYYY-MM-DDTHH`` in UTC. A
        record in two compounds of ``scope`` counts once a compound.
    """
    placed, conditions = _counted(record_type, scope, where or {}, timed_by, since)
    hour = func.substr(StampTime(RECORD.c.stamps, timed_by), 1, 13).label("hour")
    statement = (
        select(hour, func.count().label("count"))
        .select_from(placed)
        .where(*conditions)
        .group_by(hour)
        .order_by(hour)
    )
    return [(str(row.hour), int(row.count)) for row in db.session.execute(statement)]
