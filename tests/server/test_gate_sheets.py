"""Printed pass sheets: a building's residents get new passes; reprinting revokes the last."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import pass_sheets
from server.extensions import db
from server.models import RecordRow
from server.seed import stable_id
from tests.helpers import bearer, sign_in

BUILDING = stable_id("building", "A", 3)
UNTIL = "2099-01-01T00:00:00+08:00"


def passes_of_building(app: Flask) -> list[dict[str, Any]]:
    """Return the passes of the residents of building 3 of compound A."""
    with app.app_context():
        rows = db.session.scalars(select(RecordRow).where(RecordRow.type == "gate_pass"))
        return [{"id": r.id, **r.fields} for r in rows if r.fields["building_id"] == BUILDING]


def residents_of_building(app: Flask) -> set[str]:
    with app.app_context():
        rows = db.session.scalars(select(RecordRow).where(RecordRow.type == "resident"))
        return {r.id for r in rows if r.fields["building_id"] == BUILDING and not r.deleted}


def print_sheet(client: FlaskClient, token: str, **body: Any) -> Any:
    return client.post(
        "/api/v1/gate/sheets",
        json={"building_id": BUILDING, "valid_until": UNTIL, **body},
        headers=bearer(token),
    )


def test_printing_a_sheet_issues_new_passes_and_revokes_the_old(
    app: Flask, client: FlaskClient
) -> None:
    coord = sign_in(client, "coord")
    before = {p["id"] for p in passes_of_building(app)}
    answer = print_sheet(client, coord)
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf" and answer.data.startswith(b"%PDF")
    assert "attachment" in answer.headers["Content-Disposition"]
    after = passes_of_building(app)
    live = [p for p in after if not p["revoked"]]
    assert {p["resident_id"] for p in live} == residents_of_building(app)
    assert not before & {p["id"] for p in live}
    assert all(p["revoked"] for p in after if p["id"] in before)
    assert all(p["valid_until"] == "2098-12-31T16:00:00.000Z" for p in live)

    print_sheet(client, coord)
    again = [p for p in passes_of_building(app) if not p["revoked"]]
    assert len(again) == len(live) and not {p["id"] for p in again} & {p["id"] for p in live}


def test_only_coordinators_print_sheets(app: Flask, client: FlaskClient) -> None:
    assert print_sheet(client, sign_in(client, "guard-a")).status_code == 403


def test_a_building_outside_the_scope_is_not_found(app: Flask, client: FlaskClient) -> None:
    coord = sign_in(client, "coord")
    answer = print_sheet(client, coord, building_id=stable_id("building", "Z", 1))
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"


def test_a_sheet_needs_a_zoned_end(app: Flask, client: FlaskClient) -> None:
    answer = print_sheet(client, sign_in(client, "coord"), valid_until="2099-01-01T00:00:00")
    assert answer.status_code == 422


def test_a_guard_prints_one_residents_own_pass(app: Flask, client: FlaskClient) -> None:
    pass_id = next(p["id"] for p in passes_of_building(app) if not p["revoked"])
    answer = client.get(
        f"/api/v1/gate/passes/{pass_id}.pdf", headers=bearer(sign_in(client, "guard-a"))
    )
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF")
    other = client.get(
        f"/api/v1/gate/passes/{pass_id}.pdf", headers=bearer(sign_in(client, "vol-a"))
    )
    assert other.status_code == 403


def test_a_sheet_prints_the_neighbourhoods_last_day_of_a_pass(
    app: Flask, client: FlaskClient, monkeypatch: Any
) -> None:
    printed: list[pass_sheets.PrintedPass] = []

    def sheet_pdf(title: str, passes: list[pass_sheets.PrintedPass], labels: Any) -> bytes:
        printed.extend(passes)
        return b"%PDF-"

    monkeypatch.setattr(pass_sheets, "sheet_pdf", sheet_pdf)
    coord = sign_in(client, "coord")
    # 01:00 on 1 January there is 17:00 on 31 December in UTC; a pass ending at
    # the neighbourhood's midnight is valid through the day before.
    for until, last in (
        ("2027-01-01T01:00:00+08:00", "2027-01-01"),
        ("2027-01-01T00:00:00+08:00", "2026-12-31"),
        ("2026-12-31T23:59:59+08:00", "2026-12-31"),
    ):
        printed.clear()
        assert print_sheet(client, coord, valid_until=until).status_code == 200
        assert printed and {p.valid_until for p in printed} == {last}, until
