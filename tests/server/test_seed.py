"""The demo neighbourhood: size, shape, people, accounts, idempotency."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import count

from sqlalchemy import func, select

from server import seed
from server.clock import utcnow
from server.extensions import db
from server.models import RecordRow, RecordScope, User
from sync.catalog import REGISTRY
from sync.field import day_of
from sync.records import SERVER_USER_ID, Record, Scope
from sync.registry import validate_fields
from sync.times import parse_datetime
from tests.conftest import build_schema, make_app
from tests.helpers import DEMO_PASSWORD


def records_of(type_):
    return list(db.session.scalars(select(RecordRow).where(RecordRow.type == type_)))


def test_demo_has_the_promised_size(app):
    with app.app_context():
        counts = Counter(
            dict(
                db.session.execute(
                    select(RecordRow.type, func.count()).group_by(RecordRow.type)
                ).all()
            )
        )
    assert counts["compound"] >= 3
    assert counts["building"] >= 40
    assert counts["household"] >= 1500
    assert counts["resident"] >= 4000
    for kind in ("task", "supply_round", "package", "notice"):
        assert counts[kind] >= 1, kind


def test_households_have_shanghai_addresses(app):
    with app.app_context():
        buildings = {b.id: b.fields["name"] for b in records_of("building")}
        for household in records_of("household")[:200]:
            f = household.fields
            address = f"{buildings[f['building_id']]} {f['unit']}单元 {f['room']}室"
            assert re.fullmatch(r"\d+号楼 \d单元 \d0\d室", address), address
            assert f["room"].startswith(str(f["floor"]))


def test_about_one_household_in_ten_is_elderly_alone(app):
    with app.app_context():
        residents = records_of("resident")
        households = Counter(r.fields["household_id"] for r in residents)
        alone = {
            r.fields["household_id"] for r in residents if "elderly_alone" in r.fields["needs"]
        }
    assert all(households[h] == 1 for h in alone)
    assert 0.07 <= len(alone) / len(households) <= 0.13


def test_people_are_plausible_and_id_numbers_masked(app):
    with app.app_context():
        residents = [r.fields for r in records_of("resident")]
    assert any("chronic_medicine" in r["needs"] for r in residents)
    foreign = [r for r in residents if r["languages"] != ["zh"]]
    assert {"en", "ja", "ko"} <= {lang for r in foreign for lang in r["languages"]}
    # stored masked: the birth date never reaches the database
    assert all(re.fullmatch(r"3101\d\d\*{8}\d{3}[\dX]", r["id_number_masked"]) for r in residents)
    chinese = [r["name"] for r in residents if r["languages"] == ["zh"]]
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", n) for n in chinese)


def test_every_compound_has_open_tasks(app):
    with app.app_context():
        compounds = {c.id for c in records_of("compound")}
        open_tasks = {
            t.fields["compound_id"] for t in records_of("task") if t.fields["status"] == "open"
        }
    assert compounds == open_tasks


def test_demo_accounts_have_pinned_roles_and_scopes(app):
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        compound_a = seed.stable_id("compound", "A")
        compound_b = seed.stable_id("compound", "B")
        assert users["coord"].role == "coordinator"
        assert users["coord"].scope_kind == "neighbourhood"
        assert users["medic"].role == "clinician"
        assert users["leader-a"].role == "team_leader"
        assert users["guard-a"].role == "guard"
        assert users["vol-a"].scope_ids == [compound_a]
        assert users["guard-a"].scope_ids == [compound_a]
        assert users["vol-b"].scope_ids == [compound_b]


def test_seeding_twice_changes_nothing_but_passwords(app, client):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(RecordRow))
        scopes_before = db.session.scalar(select(func.count()).select_from(RecordScope))
        summary = seed.seed_demo("another-password")
        assert "already" in summary
        assert db.session.scalar(select(func.count()).select_from(RecordRow)) == before
        assert db.session.scalar(select(func.count()).select_from(RecordScope)) == scopes_before
        assert db.session.scalar(select(func.count()).select_from(User)) == len(seed.DEMO_USERS)
    ok = client.post(
        "/api/v1/auth/login", json={"username": "coord", "password": "another-password"}
    )
    assert ok.status_code == 200
    old = client.post("/api/v1/auth/login", json={"username": "coord", "password": DEMO_PASSWORD})
    assert old.status_code == 401


def test_the_demo_is_of_one_day_however_long_seeding_takes(tmp_path, monkeypatch):
    # Seeding run across the neighbourhood's midnight (16:00 UTC) once gave a
    # round and shifts of one day and visits stamped the next. Here the clock
    # moves a day at each reading: two readings are never of one day.
    days = (datetime(2026, 12, 1, 15, 59, 59, tzinfo=UTC) + timedelta(days=n) for n in count())
    monkeypatch.setattr(seed, "utcnow", lambda: next(days))
    app = make_app(f"sqlite:///{tmp_path}/demo.db")
    build_schema(app, seeded=True)
    with app.app_context():
        (test_round,) = records_of("test_round")
        today = db.session.get(RecordRow, seed.stable_id("supply_round", "today"))
        made = {
            parse_datetime(made_at)
            for row in db.session.scalars(select(RecordRow))
            for _version, made_at, *_ in row.stamps.values()
        }
        shifts, passes = records_of("shift"), records_of("gate_pass")
    (seeded,) = made  # every record was made at one instant
    day = date.fromisoformat(test_round.fields["date"])
    assert day == day_of(seeded)
    assert {day_of(parse_datetime(s.fields["starts_at"])) for s in shifts} == {day}
    assert parse_datetime(today.fields["opens_at"]) == seeded - timedelta(hours=1)
    assert {parse_datetime(p.fields["valid_until"]) for p in passes} == {
        seeded + seed.PASS_VALIDITY
    }


def test_seed_is_deterministic(app):
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        again = seed.demo_records("n", users, utcnow())
    with app.app_context():
        stored = {r.id: r.fields for r in db.session.scalars(select(RecordRow))}
    residents = [r for r in again if r.type == "resident"][:50]
    assert all(stored[r.id]["name"] == r.fields["name"] for r in residents)


def test_every_seeded_record_passes_its_declaration(app):
    """Seeding goes through the engine: valid, stamped by the server (or the demo user
    who placed an order or asked for medicine), scoped by the rules."""
    with app.app_context():
        rows = {row.id: row for row in db.session.scalars(select(RecordRow))}
        authors = {SERVER_USER_ID} | set(db.session.scalars(select(User.id)))
        places: dict[str, list[RecordScope]] = {}
        for link in db.session.scalars(select(RecordScope)):
            places.setdefault(link.record_id, []).append(link)
    assert len(rows) > 5000

    def stored_scope(record_id):
        links = places[record_id]
        return Scope(frozenset(link.compound_id for link in links), links[0].building_id)

    def lookup(record_id):
        row = rows.get(record_id)
        if row is None:
            return None
        return Record(
            row.type, row.id, row.version, row.deleted, row.fields, {}, stored_scope(row.id)
        )

    for row in rows.values():
        rtype = REGISTRY[row.type]
        copies = rtype.parent.copies if rtype.parent is not None else ()
        own = {name: value for name, value in row.fields.items() if name not in copies}
        assert validate_fields(rtype, own, creating=True) == own, row.id
        assert rtype.scope(row.id, row.fields, lookup) == stored_scope(row.id), row.id
        stamped_by = {stamp[2] for stamp in row.stamps.values()}
        assert stamped_by <= authors, row.id
        # Orders and medicine requests are placed by the demo users, everything else by the server.
        assert (SERVER_USER_ID in stamped_by) == (row.type not in {"order", "med_request"}), row.id
