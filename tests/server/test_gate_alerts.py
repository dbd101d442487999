"""Gate alerts are raised by the server when gate events land, and reach coordinators live."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import server.gate_alerts
import server.live
from server.clock import utcnow
from server.extensions import db, socketio
from server.models import RecordRow
from server.seed import stable_id
from sync.times import format_datetime
from tests.helpers import bearer, sign_in

COMPOUND_A = stable_id("compound", "A")


def log(client: FlaskClient, token: str, **fields: Any) -> dict[str, Any]:
    """Push one gate event at compound A; return the push's answer."""
    now = format_datetime(utcnow())
    values = {
        "compound_id": COMPOUND_A,
        "post": "West",
        "direction": "out",
        "decision": "allow",
        "policy_version": 1,
        "scanned_at": now,
    }
    values.update(fields)
    change = {"type": "gate_event", "id": str(uuid.uuid4()), "op": "create", "fields": values}
    body = {
        "client_id": str(uuid.uuid4()),
        "changesets": [{"id": str(uuid.uuid4()), "made_at": now, "changes": [change]}],
    }
    answer = client.post("/api/v1/sync/push", json=body, headers=bearer(token))
    assert answer.status_code == 200 and answer.json["results"][0]["status"] == "applied"
    return answer.json


def alerts(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session.scalars(select(RecordRow).where(RecordRow.type == "gate_alert"))
        return [dict(row.fields) for row in rows]


def live_records(socket: Any) -> list[dict[str, Any]]:
    """Return the records the socket received in ``changes`` events."""
    return [
        record
        for event in socket.get_received()
        if event["name"] == "changes"
        for record in event["args"][0]["changes"]
    ]


def test_a_copied_pass_alerts_the_coordinators_live(app: Flask, client: FlaskClient) -> None:
    guard, coord, volunteer = (sign_in(client, name) for name in ("guard-a", "coord", "vol-a"))
    watching = socketio.test_client(app, flask_test_client=client, auth={"token": coord})
    other = socketio.test_client(app, flask_test_client=client, auth={"token": volunteer})
    pass_id = str(uuid.uuid4())
    log(client, guard, pass_id=pass_id, post="West")
    assert alerts(app) == []
    log(client, guard, pass_id=pass_id, post="East")
    (alert,) = alerts(app)
    assert alert["kind"] == "copied_pass" and alert["posts"] == ["East", "West"]
    received = [r for r in live_records(watching) if r["type"] == "gate_alert"]
    assert [r["fields"]["kind"] for r in received] == ["copied_pass"]
    assert not [r for r in live_records(other) if r["type"] == "gate_alert"]
    watching.disconnect()
    other.disconnect()


def test_a_fever_alerts_over_the_policys_threshold_only(app: Flask, client: FlaskClient) -> None:
    guard = sign_in(client, "guard-a")
    log(client, guard, temperature_c=37.0)
    assert alerts(app) == []
    log(client, guard, temperature_c=38.4)
    assert [(a["kind"], a["temperature_c"]) for a in alerts(app)] == [("fever", 38.4)]


def test_a_guard_does_not_receive_alerts(app: Flask, client: FlaskClient) -> None:
    guard = sign_in(client, "guard-a")
    log(client, guard, temperature_c=39.0)
    pulled = client.get("/api/v1/sync/pull?cursor=0&types=gate_alert", headers=bearer(guard))
    assert all(r["type"] != "gate_alert" for r in pulled.json["changes"])


def test_a_push_whose_alerts_fail_still_answers_its_results(
    app: Flask, client: FlaskClient, monkeypatch: Any, caplog: Any
) -> None:
    def broken(*args: Any) -> list[dict[str, Any]]:
        raise RuntimeError("the gate log could not be read")

    monkeypatch.setattr(server.gate_alerts, "alerts_for", broken)
    guard = sign_in(client, "guard-a")
    log(client, guard, temperature_c=39.5)  # answered 200, applied
    assert alerts(app) == []
    assert "could not be raised" in caplog.text
    with app.app_context():
        logged = db.session.scalars(select(RecordRow).where(RecordRow.type == "gate_event"))
        assert [row.fields["temperature_c"] for row in logged] == [39.5]


def test_the_guard_is_answered_before_alerts_are_computed_or_announced(
    app: Flask, client: FlaskClient, monkeypatch: Any
) -> None:
    """Alerts and announcements run after the response (issue #16), in the order queued."""
    queued: list[tuple[Any, str]] = []
    monkeypatch.setattr(
        server.live, "after_response", lambda job, failure: queued.append((job, failure))
    )
    coord = sign_in(client, "coord")
    watching = socketio.test_client(app, flask_test_client=client, auth={"token": coord})
    guard = sign_in(client, "guard-a")
    log(client, guard, temperature_c=39.2)
    assert alerts(app) == [] and live_records(watching) == []
    assert [failure.split(" ")[0] for _, failure in queued] == ["announcing", "gate"]
    with app.app_context():
        for job, _ in queued:
            job()
    assert [a["kind"] for a in alerts(app)] == ["fever"]
    received = [r["fields"]["kind"] for r in live_records(watching) if r["type"] == "gate_alert"]
    assert received == ["fever"]
    watching.disconnect()
