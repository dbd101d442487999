"""Progress figures equal counts made from the database's rows, per compound and building.

The expected figures are recounted here in Python from every row of
``record`` and ``record_scope`` (no SQL grouping, no JSON functions), for
every measure the server offers, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from server import seed
from server.clock import utcnow
from server.extensions import db
from server.progress import MEASURES, SCREENING, available
from server.seed import stable_id
from sync.times import format_datetime
from tests.conftest import make_app
from tests.helpers import bearer, sign_in
from tests.server.test_exports import pulled, push, push_orders

NOW = format_datetime(utcnow())


def rows(app: Any) -> tuple[list[dict[str, Any]], dict[str, list[tuple[str, str | None]]]]:
    """Return every record row (fields and stamps parsed) and each record's scope rows."""
    with app.app_context():
        records = [
            {
                "id": r.id,
                "type": r.type,
                "deleted": bool(r.deleted),
                "fields": r.fields if isinstance(r.fields, dict) else json.loads(r.fields),
                "stamps": r.stamps if isinstance(r.stamps, dict) else json.loads(r.stamps),
            }
            for r in db.session.execute(
                text("SELECT id, type, deleted, fields, stamps FROM record")
            )
        ]
        places: dict[str, list[tuple[str, str | None]]] = {}
        for r in db.session.execute(
            text("SELECT record_id, compound_id, building_id FROM record_scope")
        ):
            places.setdefault(r.record_id, []).append((r.compound_id, r.building_id))
    return records, places


def recount(records, places, name: str, since: str) -> Counter:
    """Count one measure per (compound, building) the slow obvious way."""
    measure = MEASURES[name]
    counts: Counter = Counter()
    for record in records:
        if record["deleted"] or record["type"] != measure.record_type:
            continue
        if any(record["fields"].get(f) not in values for f, values in measure.where.items()):
            continue
        if measure.today and record["stamps"][measure.timed_by][1] < since:
            continue
        for place in places.get(record["id"], []):
            counts[place] += 1
    return counts


def recount_screening(records, since: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Return (households, visited, no_answer) per building, from the rows."""
    outcomes: dict[str, list[str]] = {}
    for visit in records:
        live = visit["type"] == "visit" and not visit["deleted"]
        if live and visit["stamps"]["household_id"][1] >= since:
            outcomes.setdefault(visit["fields"]["household_id"], []).append(
                visit["fields"]["outcome"]
            )
    figures: dict[tuple[str, str], list[int]] = {}
    for household in records:
        if household["type"] != "household" or household["deleted"]:
            continue
        key = (household["fields"]["compound_id"], household["fields"]["building_id"])
        entry = figures.setdefault(key, [0, 0, 0])
        entry[0] += 1
        seen = outcomes.get(household["id"], [])
        if any(o != "no_answer" for o in seen):
            entry[1] += 1
        elif seen:
            entry[2] += 1
    return {key: tuple(value) for key, value in figures.items()}


def some_work(client, coord: str, medic: str) -> None:
    """Visit, order, confirm, deliver and ask for medicine, as the day's work would."""
    households = pulled(client, coord, "household")
    visits = [
        {
            "type": "visit",
            "id": str(uuid.uuid4()),
            "op": "create",
            "fields": {
                "household_id": household["id"],
                "outcome": ("answered", "no_answer", "refused")[number % 3],
                "present": 1,
            },
        }
        for number, household in enumerate(households[:: len(households) // 12][:12])
    ]
    push(client, coord, visits, NOW)
    push_orders(client, coord)
    orders = pulled(client, coord, "order")
    for order in orders[:2]:
        push(client, coord, [update(order, status="confirmed")], NOW)
    delivered = next(o for o in pulled(client, coord, "order") if o["id"] == orders[0]["id"])
    push(client, coord, [update(delivered, status="delivered")], NOW)
    residents = pulled(client, medic, "resident")
    asks = [
        {
            "type": "med_request",
            "id": str(uuid.uuid4()),
            "op": "create",
            "fields": {
                "resident_id": resident["id"],
                "medicine": "降压药",
                "urgency": urgency,
                "status": "requested",
            },
        }
        for resident, urgency in zip(
            residents[:4], ("urgent", "urgent", "today", "routine"), strict=True
        )
    ]
    push(client, medic, asks, NOW)


#: The demo's open urgent medicine requests, standing beside the day's two.
SEEDED_URGENT = sum(1 for *_, urgency in seed.MED_REQUESTS if urgency == "urgent")


def update(record: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "type": record["type"],
        "id": record["id"],
        "op": "update",
        "base_version": record["version"],
        "fields": fields,
    }


@pytest.fixture
def worked(database_url):
    """An app on a seeded database of each engine, with a day's work pushed."""
    app = make_app(database_url)
    client = app.test_client()
    coord, medic = sign_in(client, "coord"), sign_in(client, "medic")
    some_work(client, coord, medic)
    yield app, client, coord
    with app.app_context():
        db.engine.dispose()


def test_every_figure_equals_a_recount_of_the_rows(worked):
    app, client, coord = worked
    since = format_datetime(utcnow() - timedelta(hours=6))
    reply = client.get(f"/api/v1/progress?since={since}", headers=bearer(coord))
    assert reply.status_code == 200
    answer = reply.get_json()
    records, places = rows(app)
    shown = {(p["compound_id"], p["building_id"]): p for p in answer["places"]}
    assert answer["measures"] == [*SCREENING, *available()]
    for name in available():
        expected = recount(records, places, name, since)
        got = {key: p[name] for key, p in shown.items() if name in p}
        assert got == dict(expected), name
    screening = {
        key: (p["households"], p["visited"], p["no_answer"])
        for key, p in shown.items()
        if "households" in p
    }
    assert screening == recount_screening(records, since)
    # The day's work is there to count: the 12 visits pushed above, and the
    # demo's screening under way (seeded today), every one of them once.
    visits = [
        v
        for v in records
        if v["type"] == "visit" and not v["deleted"] and v["stamps"]["household_id"][1] >= since
    ]
    assert len(visits) >= 12
    visited = {v["fields"]["household_id"] for v in visits}
    assert sum(v[1] + v[2] for v in screening.values()) == len(visited)
    assert sum(p.get("orders_delivered", 0) for p in shown.values()) == 1
    assert sum(p.get("urgent_requests", 0) for p in shown.values()) == 2 + SEEDED_URGENT
    assert sum(count for _hour, count in answer["hours"]["visited"]) == len(visits)


def test_the_window_counts_only_what_happened_in_it(worked):
    _app, client, coord = worked
    later = format_datetime(utcnow() - timedelta(seconds=1))
    answer = client.get(f"/api/v1/progress?since={later}", headers=bearer(coord)).get_json()
    # Pushed before the window: nothing of today's counts, standing figures unchanged.
    assert sum(p.get("visited", 0) + p.get("no_answer", 0) for p in answer["places"]) == 0
    assert sum(p.get("orders_delivered", 0) for p in answer["places"]) == 0
    assert sum(p.get("urgent_requests", 0) for p in answer["places"]) == 2 + SEEDED_URGENT
    assert answer["hours"]["visited"] == []


def test_a_compound_coordinator_counts_only_their_compound(worked):
    _app, client, coord = worked
    compound_b = stable_id("compound", "B")
    made = client.post(
        "/api/v1/users",
        json={
            "username": "coord-b",
            "display_name": "二村协调员",
            "role": "coordinator",
            "scope_kind": "compounds",
            "scope_ids": [compound_b],
            "password": "a long enough passphrase for B",
        },
        headers=bearer(coord),
    )
    assert made.status_code == 201, made.get_json()
    token = sign_in(client, "coord-b", "a long enough passphrase for B")
    since = format_datetime(utcnow() - timedelta(hours=6))
    answer = client.get(f"/api/v1/progress?since={since}", headers=bearer(token)).get_json()
    everyone = client.get(f"/api/v1/progress?since={since}", headers=bearer(coord)).get_json()
    assert {p["compound_id"] for p in answer["places"]} == {compound_b}
    # Compound B's figures are the neighbourhood coordinator's figures of B, no more, no less.
    assert answer["places"] == [p for p in everyone["places"] if p["compound_id"] == compound_b]
    assert len(everyone["places"]) > len(answer["places"])


@pytest.mark.parametrize("username", ["vol-a", "guard-a", "leader-a", "medic"])
def test_only_coordinators_see_progress(client, username):
    reply = client.get("/api/v1/progress", headers=bearer(sign_in(client, username)))
    assert reply.status_code == 403
    assert reply.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "since",
    ["2026-11-30T00:00:00", "yesterday", "2999-01-01T00:00:00Z", "2000-01-01T00:00:00Z", ""],
)
def test_a_bad_window_is_a_problem_not_a_guess(client, since):
    reply = client.get(f"/api/v1/progress?since={since}", headers=bearer(sign_in(client, "coord")))
    assert reply.status_code == 400
    assert reply.get_json()["type"].endswith("invalid-since")


def test_the_answer_holds_counts_and_ids_only(worked):
    app, client, coord = worked
    answer = client.get("/api/v1/progress", headers=bearer(coord)).get_json()
    records, _ = rows(app)
    ids = {r["id"] for r in records}
    for place in answer["places"]:
        for key, value in place.items():
            if key in ("compound_id", "building_id"):
                assert value is None or value in ids
            else:
                assert key in answer["measures"] and isinstance(value, int)


def test_a_measure_of_a_type_the_server_lacks_is_left_out(monkeypatch):
    from server import progress

    monkeypatch.setitem(progress.MEASURES, "ghosts", progress.Measure("ghost"))
    assert "ghosts" not in available()
    assert "orders_delivered" in available()
