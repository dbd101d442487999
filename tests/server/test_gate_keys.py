"""The server's pass keys: demo passes, issuing through the API, rotation, sealing.

Every token is checked by an independent ES256 verifier (``cryptography``
alone, ``tests.server.test_passes.independent_verify``) against the keys the
compound record publishes, as a guard's device checks it.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import passes
from server.clock import utcnow
from server.extensions import db
from server.models import PassKeyRow, RecordRow
from server.seed import stable_id
from sync.times import format_datetime
from tests.helpers import bearer, sign_in
from tests.server.test_passes import independent_verify

COMPOUND_A = stable_id("compound", "A")
COMPOUND_B = stable_id("compound", "B")


def records(app: Flask, type_: str) -> list[RecordRow]:
    """Return the stored rows of a type."""
    with app.app_context():
        return list(db.session.scalars(select(RecordRow).where(RecordRow.type == type_)))


def fields_of(app: Flask, record_id: str) -> dict[str, Any]:
    """Return a stored record's fields."""
    with app.app_context():
        row = db.session.get(RecordRow, record_id)
        assert row is not None
        return dict(row.fields)


def verify(token: str, keys: list[dict[str, str]]) -> dict[str, object]:
    """Verify ``token`` with the published key its header names."""
    header = json.loads(header_of(token))
    (key,) = [jwk for jwk in keys if jwk["kid"] == header["kid"]]
    return independent_verify(token, key)


def test_every_resident_of_compound_a_has_a_demo_pass_that_verifies(app: Flask) -> None:
    residents = {
        row.id for row in records(app, "resident") if row.fields["compound_id"] == COMPOUND_A
    }
    demo = [row for row in records(app, "gate_pass") if not row.fields["revoked"]]
    assert {row.fields["resident_id"] for row in demo} == residents
    assert {row.fields["compound_id"] for row in demo} == {COMPOUND_A}
    keys = fields_of(app, COMPOUND_A)["pass_keys"]
    for row in demo[:50]:
        claims = verify(row.fields["token"], keys)
        assert claims["pid"] == row.id and claims["cid"] == COMPOUND_A
        assert claims["addr"] == row.fields["address"] and claims["ini"] == row.fields["initials"]
    assert fields_of(app, COMPOUND_B)["pass_keys"] == []


def test_private_keys_are_stored_sealed(app: Flask) -> None:
    with app.app_context():
        (row,) = db.session.scalars(select(PassKeyRow))
        assert "PRIVATE KEY" not in row.sealed_private
        assert b"PRIVATE KEY" in passes.unseal(app.config["SECRET_KEY"], row.sealed_private)


def issue(client: FlaskClient, token: str, resident_id: str, kind: str = "resident") -> str:
    """Issue a pass through the push endpoint; return its id."""
    pass_id = str(uuid.uuid4())
    until = format_datetime(utcnow() + timedelta(days=7))
    change = {
        "type": "gate_pass",
        "id": pass_id,
        "op": "create",
        "fields": {"resident_id": resident_id, "kind": kind, "valid_until": until},
    }
    body = {
        "client_id": str(uuid.uuid4()),
        "changesets": [
            {"id": str(uuid.uuid4()), "made_at": format_datetime(utcnow()), "changes": [change]}
        ],
    }
    answer = client.post("/api/v1/sync/push", json=body, headers=bearer(token))
    assert answer.status_code == 200
    assert answer.json["results"][0]["status"] == "applied", answer.json
    return pass_id


def a_resident_of(app: Flask, compound_id: str) -> str:
    """Return the id of some resident of a compound."""
    return next(
        row.id for row in records(app, "resident") if row.fields["compound_id"] == compound_id
    )


def test_a_coordinator_issues_and_reissuing_revokes(app: Flask, client: FlaskClient) -> None:
    token = sign_in(client, "coord")
    resident = a_resident_of(app, COMPOUND_A)
    (demo,) = [r.id for r in records(app, "gate_pass") if r.fields["resident_id"] == resident]
    new = issue(client, token, resident)
    assert fields_of(app, demo)["revoked"] is True
    issued = fields_of(app, new)
    assert issued["revoked"] is False
    assert verify(issued["token"], fields_of(app, COMPOUND_A)["pass_keys"])["pid"] == new


def test_rotation_adds_a_key_and_old_passes_stay_valid(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    result = runner.invoke(args=["rotate-pass-key", "A"])
    assert result.exit_code == 0, result.output
    keys = fields_of(app, COMPOUND_A)["pass_keys"]
    assert len(keys) == 2 and keys[1]["kid"] in result.output
    old = next(r for r in records(app, "gate_pass") if not r.fields["revoked"])
    assert verify(old.fields["token"], keys)["pid"] == old.id
    token = sign_in(client, "coord")
    new = issue(client, token, a_resident_of(app, COMPOUND_A), kind="worker")
    assert f'"kid":"{keys[1]["kid"]}"' in header_of(fields_of(app, new)["token"])


def header_of(token: str) -> str:
    """Return a token's protected header as text."""
    return base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()


def test_the_first_pass_of_a_compound_makes_its_first_key(app: Flask, client: FlaskClient) -> None:
    token = sign_in(client, "coord")
    pass_id = issue(client, token, a_resident_of(app, COMPOUND_B), kind="medical_exit")
    keys = fields_of(app, COMPOUND_B)["pass_keys"]
    assert len(keys) == 1
    assert verify(fields_of(app, pass_id)["token"], keys)["kind"] == "medical_exit"


def test_rotating_an_unknown_compound_says_so(runner: Any) -> None:
    result = runner.invoke(args=["rotate-pass-key", "no-such-compound"])
    assert result.exit_code != 0 and "no-such-compound" in result.output


def test_a_guard_pulls_passes_and_keys_but_no_personal_data(
    app: Flask, client: FlaskClient
) -> None:
    token = sign_in(client, "guard-a")
    seen: dict[str, list[dict[str, Any]]] = {}
    cursor, more = 0, True
    while more:
        page = client.get(f"/api/v1/sync/pull?cursor={cursor}&limit=1000", headers=bearer(token))
        body = page.json
        for record in body["changes"]:
            seen.setdefault(record["type"], []).append(record["fields"])
        cursor, more = body["cursor"], body["more"]
    assert {"visit", "med_request", "test_result"}.isdisjoint(seen)
    assert len(seen["gate_pass"]) >= 1000 and seen["compound"][0]["pass_keys"]
    assert len(seen["gate_policy"]) == 1
    forbidden = {"phone", "birth_year", "needs", "id_number_masked"}
    assert all(forbidden.isdisjoint(fields) for fields in seen["resident"])
