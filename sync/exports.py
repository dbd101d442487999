"""The export datasets: which records each one reads, its columns, who may take it.

Contract, "Exports": one row per record (``picking_list``: one per household
and package), the first column of a record dataset the record's ``id``; an
export holds exactly what the caller could pull, with the same field
visibility; coordinators may export every dataset, team leaders ``orders``
and ``picking_list``.

A feature adds or changes its dataset here, in :data:`DATASETS`, and nowhere
else: a dataset whose record type is not declared yet exports its header
alone, and gains rows once the type is in :data:`sync.catalog.REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sync.actors import Role
from sync.records import Record
from sync.registry import RecordType

#: One cell value: text, a number, a boolean, a list or ``None`` (empty).
Cell = object
Row = tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, the fields it is made from and how.

    :param needs: the record fields the value is made from; a role that may
        not see one of them does not get the column (contract, "Privacy").
    :param value: makes the cell from the (already redacted) fields.
    """

    name: str
    needs: tuple[str, ...]
    value: Callable[[Mapping[str, object]], Cell]


def field(name: str) -> Column:
    """Return the column that shows the record field ``name`` as it is."""
    return Column(name, (name,), lambda fields: fields.get(name))


#: Turns the records of a dataset, in its order, into rows of its columns.
Rows = Callable[[Iterable[Record], tuple[Column, ...]], Iterator[Row]]


def one_row_per_record(records: Iterable[Record], columns: tuple[Column, ...]) -> Iterator[Row]:
    """Return a row per record: its ``id``, then the columns."""
    for record in records:
        yield (record.id, *(column.value(record.fields) for column in columns))


@dataclass(frozen=True, slots=True)
class Dataset:
    """The declaration of one export dataset.

    :param record_type: the type whose records it reads.
    :param columns: its columns after the leading ``id`` (record datasets)
        or, with ``rows`` given, all of its columns.
    :param roles: the roles that may export it (others get 403).
    :param rows: makes the rows from the records; the default is one row per
        record led by its ``id``.
    :param sort_field: the field the records are read in order of (``None``:
        by id), for ``rows`` that group.
    :param filters: fields of the record type that narrow the export to one
        value each, given as query parameters of the same name (a round's
        picking list: ``?supply_round_id=``).
    """

    name: str
    record_type: str
    columns: tuple[Column, ...]
    roles: frozenset[str] = frozenset({Role.COORDINATOR})
    rows: Rows = one_row_per_record
    sort_field: str | None = None
    filters: frozenset[str] = frozenset()

    @property
    def record_dataset(self) -> bool:
        """Return whether it has one row per record, led by the ``id``."""
        return self.rows is one_row_per_record

    def columns_for(self, role: str, rtype: RecordType | None) -> tuple[Column, ...]:
        """Return the columns ``role`` gets: those made of fields it may see.

        A type not declared yet keeps all its columns (its export is empty);
        a role the type does not reach gets none.
        """
        if rtype is None:
            return self.columns
        if role not in rtype.visibility.roles:
            return ()
        restricted = rtype.visibility.fields
        return tuple(
            column
            for column in self.columns
            if all(
                name in rtype.fields and (name not in restricted or role in restricted[name])
                for name in column.needs
            )
        )

    def header(self, columns: tuple[Column, ...]) -> tuple[str, ...]:
        """Return the header row for ``columns``."""
        names = tuple(column.name for column in columns)
        return ("id", *names) if self.record_dataset else names


def fields_of(*names: str) -> tuple[Column, ...]:
    """Return a plain column for each of ``names``."""
    return tuple(field(name) for name in names)


def shift_hours(fields: Mapping[str, object]) -> Cell:
    """Return a shift's length in hours, rounded to 0.01 (``None`` if unknown)."""
    starts, ends = fields.get("starts_at"), fields.get("ends_at")
    if not isinstance(starts, str) or not isinstance(ends, str):
        return None
    seconds = (parse_time(ends) - parse_time(starts)).total_seconds()
    return round(seconds / 3600, 2)


def parse_time(text: str) -> datetime:
    """Read a stored ISO 8601 time (``Z`` or an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


#: The orders whose goods go out: confirmed by the team leader (issue 12: the
#: picking list's totals are the confirmed orders'), not yet delivered.
PICKED_STATUSES = frozenset({"confirmed"})
PICKING_COLUMNS = fields_of("household_id", "package_id", "qty", "order_ids")


def picking_rows(records: Iterable[Record], columns: tuple[Column, ...]) -> Iterator[Row]:
    """Return one row per household and package: the quantity over its confirmed orders.

    ``records`` are orders sorted by ``household_id``; ``columns`` are
    ignored beyond the visibility check (the columns are fixed).
    """
    del columns
    for household_id, orders in groupby(records, key=lambda r: r.fields.get("household_id")):
        totals: dict[str, int] = {}
        order_ids: dict[str, list[str]] = {}
        for order in orders:
            if order.fields.get("status") not in PICKED_STATUSES:
                continue
            lines = order.fields.get("lines")
            for line in lines if isinstance(lines, list) else ():
                if isinstance(line, Mapping):
                    package_id = str(line.get("package_id"))
                    totals[package_id] = totals.get(package_id, 0) + int(line.get("qty") or 0)
                    order_ids.setdefault(package_id, []).append(order.id)
        for package_id in sorted(totals):
            yield (household_id, package_id, totals[package_id], order_ids[package_id])


def _picking_columns() -> tuple[Column, ...]:
    """The picking list's columns; each needs the order fields it is made of."""
    needs = ("household_id", "lines", "status")
    return tuple(Column(column.name, needs, column.value) for column in PICKING_COLUMNS)


_ORGANISERS = frozenset({Role.COORDINATOR, Role.TEAM_LEADER})
_BY_ROUND = frozenset({"supply_round_id"})

#: Every export dataset of the contract, by name.
DATASETS: Mapping[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        Dataset(
            "residents",
            "resident",
            fields_of(
                "household_id",
                "compound_id",
                "building_id",
                "name",
                "phone",
                "birth_year",
                "needs",
                "languages",
                "id_number_masked",
            ),
        ),
        Dataset(
            "visits",
            "visit",
            fields_of(
                "household_id",
                "compound_id",
                "building_id",
                "outcome",
                "present",
                "needs",
                "notes",
                "visited_at",
            ),
        ),
        Dataset(
            "test_results",
            "test_result",
            fields_of(
                "test_round_id", "resident_id", "outcome", "needs_registration_help", "notes"
            ),
            filters=frozenset({"test_round_id"}),
        ),
        Dataset(
            "tasks",
            "task",
            fields_of(
                "kind",
                "title",
                "status",
                "compound_id",
                "building_id",
                "household_id",
                "assignee_id",
                "priority",
                "due_at",
                "notes",
                "proof",
            ),
        ),
        Dataset(
            "orders",
            "order",
            fields_of("supply_round_id", "household_id", "lines", "channel", "status"),
            roles=_ORGANISERS,
            filters=_BY_ROUND,
        ),
        Dataset(
            "picking_list",
            "order",
            _picking_columns(),
            roles=_ORGANISERS,
            rows=picking_rows,
            sort_field="household_id",
            filters=_BY_ROUND,
        ),
        Dataset(
            "gate_events",
            "gate_event",
            fields_of(
                "compound_id",
                "post",
                "direction",
                "decision",
                "reason",
                "pass_id",
                "temperature_c",
                "policy_version",
            ),
        ),
        Dataset(
            "volunteer_hours",
            "shift",
            (
                *fields_of("volunteer_id", "compound_id", "post", "starts_at", "ends_at"),
                Column("hours", ("starts_at", "ends_at"), shift_hours),
            ),
        ),
    )
}
