"""The queries by field give the answer a plain Python computation gives, on both databases.

Each example writes a small neighbourhood of its own (fresh compound ids)
through the SQL store into one database per engine, then asks
``server.queries`` about those compounds only and compares with the same
question answered over the generated records in Python. Plans are checked
too: a query that stops matching its index still answers right, only slowly.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import database, queries
from server.extensions import db
from server.models.expressions import FieldText
from server.store import SqlStore
from sync.actors import UserScope
from sync.records import FieldStamp, Record, Scope
from sync.screening import OUTCOMES
from tests.conftest import ENGINES, empty_database, make_app

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
USER_ID = 7

minutes_ago = st.integers(min_value=0, max_value=3 * 24 * 60)
a_visit = st.tuples(st.sampled_from(OUTCOMES), minutes_ago, st.booleans())
a_household = st.tuples(st.lists(a_visit, max_size=4), st.integers(0, 9))
a_building = st.lists(a_household, max_size=4)
a_compound = st.lists(a_building, min_size=1, max_size=3)
an_event = st.tuples(st.integers(0, 1), minutes_ago, st.integers(0, 9))
a_window = st.tuples(minutes_ago, st.one_of(st.none(), st.integers(1, 600)))


@dataclass
class Neighbourhood:
    """Records written for one example, kept for the Python answers."""

    records: list[Record] = field(default_factory=list)
    compounds: list[str] = field(default_factory=list)
    buildings: list[tuple[str, str]] = field(default_factory=list)

    def add(
        self,
        store: SqlStore,
        record_type: str,
        fields: dict[str, Any],
        scope: Scope,
        made_at: datetime = NOW,
        deleted: bool = False,
    ) -> Record:
        """Write a record made at ``made_at`` through ``store``; return it."""
        version = store.next_version()
        stamps = dict.fromkeys(fields, FieldStamp(version, made_at, USER_ID))
        record = Record(record_type, new_id(), version, deleted, fields, stamps, scope)
        store.put(record, None)
        self.records.append(record)
        return record

    def of_type(self, record_type: str) -> list[Record]:
        """Return the live records of ``record_type``."""
        return [r for r in self.records if r.type == record_type and not r.deleted]


def new_id() -> str:
    """Return a fresh UUID."""
    return str(uuid.uuid4())


def made_at(record: Record) -> datetime:
    """Return the device time of the write that created ``record``."""
    return next(iter(record.stamps.values())).made_at


@pytest.fixture(scope="module", params=ENGINES)
def sql_app(request, tmp_path_factory):
    app = make_app(empty_database(request.param, tmp_path_factory.mktemp("q"), request))
    with app.app_context():
        database.upgrade_schema()
        yield app
        db.session.remove()
        db.engine.dispose()


def write_screening(compounds: list[list[list[tuple[list, int]]]]) -> Neighbourhood:
    """Write compounds → buildings → households (with visits and residents)."""
    hood = Neighbourhood()
    store = SqlStore.for_writing()
    for buildings in compounds:
        compound = new_id()
        hood.compounds.append(compound)
        for households in buildings:
            building = new_id()
            hood.buildings.append((compound, building))
            place = Scope(frozenset({compound}), building)
            for number, (visits, residents) in enumerate(households):
                fields = {"compound_id": compound, "building_id": building, "unit": "1"}
                fields |= {"floor": 1, "room": str(number)}
                household = hood.add(store, "household", fields, place, deleted=residents == 9)
                for _ in range(residents % 4):
                    fields = {"household_id": household.id, "name": "r"}
                    hood.add(store, "resident", fields, place)
                for outcome, minutes, deleted in visits:
                    fields = {"household_id": household.id, "outcome": outcome, "present": 1}
                    when = NOW - timedelta(minutes=minutes)
                    # A deleted visit cannot come from a device (visits are immutable),
                    # but the store can hold one: it must not count.
                    hood.add(store, "visit", fields, place, when, deleted and minutes % 5 == 0)
    store.flush()
    db.session.commit()
    return hood


def expected_progress(
    hood: Neighbourhood, covers: Callable[[str, str], bool], since: datetime | None
) -> list[queries.BuildingProgress]:
    """Answer the screening progress question in Python."""
    outcomes: dict[str, list[str]] = {}
    for visit in hood.of_type("visit"):
        if since is None or made_at(visit) >= since:
            outcomes.setdefault(str(visit.fields["household_id"]), []).append(
                str(visit.fields["outcome"])
            )
    counts: dict[tuple[str, str], list[int]] = {}
    for household in hood.of_type("household"):
        place = (str(household.fields["compound_id"]), str(household.fields["building_id"]))
        if not covers(*place):
            continue
        tally = counts.setdefault(place, [0, 0, 0])
        tally[0] += 1
        seen = outcomes.get(household.id, [])
        if any(outcome != "no_answer" for outcome in seen):
            tally[1] += 1
        elif seen:
            tally[2] += 1
    return [queries.BuildingProgress(*place, *tally) for place, tally in sorted(counts.items())]


@settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    compounds=st.lists(a_compound, min_size=1, max_size=2),
    since_minutes=st.one_of(st.none(), minutes_ago),
    by_building=st.booleans(),
)
def test_screening_progress_counts_as_python_does(sql_app, compounds, since_minutes, by_building):
    with sql_app.app_context():
        hood = write_screening(compounds)
        since = None if since_minutes is None else NOW - timedelta(minutes=since_minutes)
        if by_building:
            chosen = frozenset(b for _, b in hood.buildings[::2])
            scope = UserScope(building_ids=chosen)
            covers: Callable[[str, str], bool] = lambda c, b: b in chosen  # noqa: E731
        else:
            scope = UserScope(compound_ids=frozenset(hood.compounds[:1]))
            covers = lambda c, b: c == hood.compounds[0]  # noqa: E731
        answer = queries.screening_progress(scope, since)
        db.session.rollback()
        assert answer == expected_progress(hood, covers, since)
        assert all(entry.not_yet >= 0 for entry in answer)


def write_gate_events(events: list[tuple[int, int, int]]) -> Neighbourhood:
    """Write gate events into two fresh compounds (the first one asked about)."""
    hood = Neighbourhood(compounds=[new_id(), new_id()])
    store = SqlStore.for_writing()
    for which, minutes, salt in events:
        compound = hood.compounds[which]
        fields = {"compound_id": compound, "post": "east", "direction": "in"}
        fields |= {"decision": "allow", "policy_version": 1}
        # Several events in one millisecond: the version breaks the tie.
        when = NOW - timedelta(minutes=minutes // 3 * 3)
        hood.add(store, "gate_event", fields, Scope(frozenset({compound})), when, salt == 9)
    store.flush()
    db.session.commit()
    return hood


@settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(events=st.lists(an_event, max_size=30), window=a_window, both=st.booleans())
def test_gate_log_returns_the_window_newest_first(sql_app, events, window, both):
    start_minutes, length_minutes = window
    since = NOW - timedelta(minutes=start_minutes)
    until = None if length_minutes is None else since + timedelta(minutes=length_minutes)
    with sql_app.app_context():
        hood = write_gate_events(events)
        asked = hood.compounds if both else hood.compounds[:1]
        answer = queries.gate_log(asked, since, until)
        db.session.rollback()
    expected = sorted(
        (
            e
            for e in hood.of_type("gate_event")
            if e.fields["compound_id"] in asked
            and made_at(e) >= since
            and (until is None or made_at(e) < until)
        ),
        key=lambda e: (made_at(e), e.version),
        reverse=True,
    )
    assert [(r.id, r.version, dict(r.fields)) for r in answer] == [
        (e.id, e.version, dict(e.fields)) for e in expected
    ]


def test_gate_log_window_includes_its_start_and_excludes_its_end(sql_app):
    with sql_app.app_context():
        hood = write_gate_events([(0, 60, 0), (0, 30, 0), (0, 0, 0)])
        at_start, middle, at_end = sorted(hood.records, key=made_at)
        answer = queries.gate_log(hood.compounds, made_at(at_start), made_at(at_end))
        db.session.rollback()
    assert [r.id for r in answer] == [middle.id, at_start.id]


@settings(
    max_examples=20,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(orders=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1), st.booleans())))
def test_orders_of_round_are_the_rounds_live_orders_in_scope(sql_app, orders):
    rounds = [new_id(), new_id(), new_id()]
    with sql_app.app_context():
        hood = Neighbourhood(compounds=[new_id(), new_id()])
        store = SqlStore.for_writing()
        for round_index, compound_index, deleted in orders:
            compound = hood.compounds[compound_index]
            fields = {"supply_round_id": rounds[round_index], "household_id": new_id()}
            fields |= {"lines": [{"package_id": new_id(), "qty": 1}], "status": "placed"}
            hood.add(store, "order", fields, Scope(frozenset({compound})), deleted=deleted)
        store.flush()
        db.session.commit()
        scope = UserScope(compound_ids=frozenset(hood.compounds[:1]))
        answer = queries.orders_of_round(rounds[0], scope)
        everyone = queries.orders_of_round(rounds[0], UserScope(everything=True))
        db.session.rollback()
    in_round = [o for o in hood.of_type("order") if o.fields["supply_round_id"] == rounds[0]]
    assert [r.id for r in answer] == [
        o.id for o in in_round if hood.compounds[0] in o.scope.compound_ids
    ]
    assert [r.id for r in everyone] == [o.id for o in in_round]


def test_each_query_is_served_by_its_index(sql_app):
    with sql_app.app_context():
        hood = write_gate_events([(0, 5, 0)])
        postgres = db.engine.dialect.name == "postgresql"
        # On a test-sized table PostgreSQL would rightly scan: the question is
        # whether each index *can* serve its query (its expressions match).
        plans = {
            "ix_record_gate_event_time": database.plan_of(
                lambda: queries.gate_log(hood.compounds, NOW - timedelta(hours=1)),
                avoid_seq_scans=True,
            ),
            "ix_record_order_round": database.plan_of(
                lambda: queries.orders_of_round(new_id(), UserScope(everything=True)),
                avoid_seq_scans=True,
            ),
        }
        if not postgres:
            # PostgreSQL hashes the day's visits instead (docs/architecture.md).
            plans["ix_record_visit_household"] = database.plan_of(
                lambda: queries.screening_progress(UserScope(everything=True), NOW)
            )
    for index, plan in plans.items():
        assert re.search(rf"\b{index}\b", plan), plan


@pytest.mark.parametrize("name", ["", "Household", "a-b", "a'); DROP TABLE record; --", "1st"])
def test_a_field_name_that_is_not_one_is_refused(name):
    with pytest.raises(ValueError):
        FieldText(None, name)
