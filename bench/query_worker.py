"""The queries section's worker: data, the real queries and their floors, in one process.

Run as ``python -m bench.query_worker --runs N`` with ``WEIGUANG_DATABASE_URL``
naming an empty throwaway database (``bench/queries.py`` does). It builds
the schema, writes a neighbourhood through the SQL store (:func:`generate`),
copies the same facts into bare typed tables (the floor: what projection
tables written beside ``record`` would hold), times each real query of
``server.queries`` against the bare SQL on those tables, checks that both
give the same answer, and prints one JSON object: timings in seconds, row
counts, the indexes the real query's plan names.

It imports the server, so it runs in a process of its own: the bench process
imports nothing of the server.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Index, MetaData, String, Table, insert

from bench.ids import RANDOM_BITS, unix_ms_of, uuid7
from server import create_app, database, queries
from server.extensions import db
from server.store import SqlStore
from sync.actors import UserScope
from sync.records import FieldStamp, Record, Scope
from sync.times import format_datetime, to_utc_ms

HOUSEHOLDS = 5_000
RESIDENTS = 15_000
GATE_EVENTS = 100_000
COMPOUNDS = 3
BUILDINGS_PER_COMPOUND = 20
GATE_LOG_DAYS = 7
SCREENING_HOURS = 10
BENCH_USER_ID = 1
# Visit outcomes of one household's day, with their weights: most doors answer
# at once, some on a second knock, some never; a few refuse or are empty.
DAYS = (
    ((), 15),
    (("answered",), 45),
    (("no_answer", "answered"), 12),
    (("no_answer",), 10),
    (("no_answer", "no_answer"), 5),
    (("refused",), 5),
    (("moved_out",), 3),
)
# The floor's bare typed tables: the facts the queries need, one column each.
FLOOR = MetaData()
FLOOR_TABLES = (
    Table(
        "floor_household",
        FLOOR,
        Column("id", String(36), primary_key=True),
        Column("compound_id", String(36)),
        Column("building_id", String(36)),
    ),
    Table(
        "floor_visit",
        FLOOR,
        Column("household_id", String(36), index=True),
        Column("outcome", String(20)),
        Column("made_at", String(24)),
    ),
    Table(
        "floor_gate_event",
        FLOOR,
        Column("record_id", String(36), primary_key=True),
        Column("compound_id", String(36)),
        Column("at", String(24)),
        Index("ix_floor_gate_event", "compound_id", "at"),
    ),
)
FLOOR_PROGRESS = """
SELECT h.compound_id, h.building_id, count(*),
       count(CASE WHEN s.answered = 1 THEN 1 END), count(CASE WHEN s.answered = 0 THEN 1 END)
FROM floor_household h
LEFT JOIN (SELECT household_id,
                  max(CASE WHEN outcome = 'no_answer' THEN 0 ELSE 1 END) AS answered
           FROM floor_visit WHERE made_at >= {p} GROUP BY household_id) s
       ON s.household_id = h.id
GROUP BY h.compound_id, h.building_id
ORDER BY h.compound_id, h.building_id
"""
FLOOR_GATE_LOG = """
SELECT r.id, r.type, r.version, r.deleted, r.fields, r.stamps, r.scope
FROM floor_gate_event g JOIN record r ON r.id = g.record_id
WHERE g.compound_id = {p} AND g.at >= {p}
ORDER BY g.at DESC, r.version DESC
"""


@dataclass
class Neighbourhood:
    """What :func:`generate` wrote, as plain rows for the floor tables."""

    rng: random.Random
    now: datetime
    compounds: list[str] = field(default_factory=list)
    households: list[tuple[str, str, str]] = field(default_factory=list)
    visits: list[tuple[str, str, str]] = field(default_factory=list)
    residents: int = 0
    gate_events: list[tuple[str, str, str]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    def new_id(self, made_at: datetime) -> str:
        """Return the id a device would give a record made at ``made_at``: a UUID version 7.

        Its random bits come from the seeded generator (:func:`bench.ids.uuid7`).
        """
        return uuid7(unix_ms_of(made_at), self.rng.getrandbits(RANDOM_BITS))

    def add(
        self, record_type: str, fields: dict[str, Any], made_at: datetime, scope: Scope
    ) -> str:
        """Add a record of ``record_type`` made at ``made_at``; return its id."""
        record_id = self.new_id(made_at)
        stamp = FieldStamp(len(self.records) + 1, made_at, BENCH_USER_ID)
        stamps = dict.fromkeys(fields, stamp)
        record = Record(record_type, record_id, stamp.version, False, fields, stamps, scope)
        self.records.append(record)
        return record_id


def generate(rng: random.Random, now: datetime) -> Neighbourhood:
    """Make the neighbourhood: households, residents, today's visits, a week of gate events."""
    hood = Neighbourhood(rng, now)
    created = now - timedelta(days=30)
    hood.compounds = [hood.new_id(created) for _ in range(COMPOUNDS)]
    buildings = [
        (c, hood.new_id(created)) for c in hood.compounds for _ in range(BUILDINGS_PER_COMPOUND)
    ]
    for number in range(HOUSEHOLDS):
        compound, building = buildings[number % len(buildings)]
        fields = {"compound_id": compound, "building_id": building, "unit": "1"}
        fields |= {"floor": number // 40 % 30, "room": str(number)}
        scope = Scope(frozenset({compound}), building)
        hood.households.append((hood.add("household", fields, created, scope), compound, building))
    for _ in range(RESIDENTS):
        household, compound, building = rng.choice(hood.households)
        fields = {"household_id": household, "name": "resident", "needs": [], "languages": []}
        hood.add("resident", fields, created, Scope(frozenset({compound}), building))
        hood.residents += 1
    day_started = now - timedelta(hours=SCREENING_HOURS)
    outcomes, weights = zip(*DAYS, strict=True)
    for household, compound, building in hood.households:
        for outcome in rng.choices(outcomes, weights)[0]:
            made_at = to_utc_ms(day_started + timedelta(seconds=rng.uniform(0, 3600 * 9)))
            fields = {"household_id": household, "outcome": outcome, "present": 2, "needs": []}
            hood.add("visit", fields, made_at, Scope(frozenset({compound}), building))
            hood.visits.append((household, outcome, format_datetime(made_at)))
    span_s = GATE_LOG_DAYS * 24 * 3600
    for made_at in sorted(
        now - timedelta(seconds=rng.uniform(0, span_s)) for _ in range(GATE_EVENTS)
    ):
        compound = rng.choice(hood.compounds)
        made_at = to_utc_ms(made_at)
        fields = {"compound_id": compound, "post": "east", "direction": rng.choice(("in", "out"))}
        fields |= {"decision": "allow", "pass_id": hood.new_id(made_at), "policy_version": 3}
        record_id = hood.add("gate_event", fields, made_at, Scope(frozenset({compound})))
        hood.gate_events.append((record_id, compound, format_datetime(made_at)))
    return hood


def write(hood: Neighbourhood) -> None:
    """Write the records through the SQL store, then the floor tables, and analyse."""
    store = SqlStore.for_writing()
    for record in hood.records:
        store.next_version()
        store.put(record, None)
    store.flush()
    FLOOR.create_all(db.session.connection())
    for table, rows in zip(
        FLOOR_TABLES, (hood.households, hood.visits, hood.gate_events), strict=True
    ):
        names = [column.name for column in table.columns]
        db.session.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # As autovacuum would by the time anyone asks; SQLite gets no statistics.
        with db.engine.connect() as analysing:
            analysing.exec_driver_sql("ANALYZE")
            analysing.commit()


def param_mark() -> str:
    """Return the DB-API parameter mark of the database (``?`` or ``%s``)."""
    return "%s" if db.engine.dialect.name == "postgresql" else "?"


def bare(sql: str, *params: Any) -> Callable[[], list[Any]]:
    """Return a function running ``sql`` on a raw DB-API cursor and fetching every row."""
    text = sql.format(p=param_mark())

    def run() -> list[Any]:
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(text, params)
            rows = cursor.fetchall()
            cursor.close()
            connection.rollback()
            return rows
        finally:
            connection.close()

    return run


def real(action: Callable[[], Any]) -> Callable[[], Any]:
    """Return a function running ``action`` in the app's session, ending its transaction."""

    def run() -> Any:
        try:
            return action()
        finally:
            db.session.rollback()

    return run


def median_seconds(action: Callable[[], Any], runs: int) -> float:
    """Run ``action`` once to warm up, then ``runs`` times; return the median seconds."""
    action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def plan_indexes(action: Callable[[], Any]) -> list[str]:
    """Return the names of the indexes the plan of ``action``'s statement uses."""
    return sorted(set(re.findall(r"\b(ix_\w+)", database.plan_of(action))))


def measure(hood: Neighbourhood, runs: int) -> dict[str, Any]:
    """Time both queries and their floors; check that each pair agrees."""
    since = hood.now - timedelta(hours=SCREENING_HOURS)
    hour_ago = hood.now - timedelta(hours=1)
    everything = UserScope(everything=True)
    compound = hood.compounds[0]
    progress = real(lambda: queries.screening_progress(everything, since))
    floor_progress = bare(FLOOR_PROGRESS, format_datetime(since))
    gate_log = real(lambda: queries.gate_log([compound], hour_ago))
    floor_gate_log = bare(FLOOR_GATE_LOG, compound, format_datetime(hour_ago))
    progress_rows = [tuple(vars_of(p)) for p in progress()]
    if progress_rows != [tuple(row) for row in floor_progress()]:
        raise RuntimeError("screening progress differs from the floor's answer")
    gate_ids = [record.id for record in gate_log()]
    if gate_ids != [row[0] for row in floor_gate_log()]:
        raise RuntimeError("the gate log differs from the floor's answer")
    return {
        "progress": {
            "seconds": median_seconds(progress, runs),
            "floor_seconds": median_seconds(floor_progress, runs),
            "buildings": len(progress_rows),
            "indexes": plan_indexes(progress),
        },
        "gate_log": {
            "seconds": median_seconds(gate_log, runs),
            "floor_seconds": median_seconds(floor_gate_log, runs),
            "events": len(gate_ids),
            "indexes": plan_indexes(gate_log),
        },
    }


def vars_of(progress: queries.BuildingProgress) -> list[Any]:
    """Return a progress entry as the floor's row: ids, then the counts."""
    return [
        progress.compound_id,
        progress.building_id,
        progress.households,
        progress.visited,
        progress.no_answer,
    ]


def main(argv: list[str]) -> int:
    """Build, fill and measure; print the figures as JSON on stdout."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    app = create_app()
    with app.app_context():
        database.upgrade_schema()
        now = to_utc_ms(datetime.now(UTC))
        started = time.perf_counter()
        hood = generate(random.Random(args.seed), now)
        print(f"generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        write(hood)
        print(f"written in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        result = measure(hood, args.runs)
        result["written"] = {
            "records": len(hood.records),
            "households": len(hood.households),
            "residents": hood.residents,
            "visits": len(hood.visits),
            "gate_events": len(hood.gate_events),
            "seconds": time.perf_counter() - started,
        }
        db.engine.dispose()
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
