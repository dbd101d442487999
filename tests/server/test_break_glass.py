"""Break the glass: a clinician of compound A opens compound B for a stated reason, for a while.

The grant works within its window with the reason recorded in the audit
log, coordinators learn of it live and can list it, and it ends by itself:
after its expiry, with nothing having run, compound B is out of the
clinician's pulls, pushes and live events again. The clock the grants are
judged by (``server.clock.utcnow``) is moved forward instead of waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from server import clock, seed
from server.extensions import db, socketio
from server.models import AuditEntry
from tests.helpers import a_clinician_of, a_coordinator_of, bearer, sign_in
from tests.server.test_sync_api import a_changeset, pull_all, push, update

BREAK_GLASS = "/api/v1/break-glass"
COMPOUND_A = seed.stable_id("compound", "A")
COMPOUND_B = seed.stable_id("compound", "B")
REASON = "夜间急诊：B区3号楼老人胸痛"


@pytest.fixture
def clinician(client):
    """Return the token of a clinician whose scope is compound A."""
    coord = sign_in(client, "coord")
    reply = client.post("/api/v1/users", json=a_clinician_of(COMPOUND_A), headers=bearer(coord))
    assert reply.status_code == 201, reply.get_json()
    return sign_in(client, "medic-a")


def records_of(client, token, compound_id):
    """Return the ids of the pulled records whose fields name ``compound_id``."""
    records, _ = pull_all(client, token)
    return {
        r["id"]: r
        for r in records
        if r["fields"].get("compound_id") == compound_id or r["id"] == compound_id
    }


def grants_pulled(client, token):
    """Return the grants a pull names: (compound id, expiry as ISO text with the zone)."""
    reply = client.get("/api/v1/sync/pull?cursor=0&limit=1", headers=bearer(token)).get_json()
    return [
        (grant["compound_id"], datetime.fromisoformat(grant["expires_at"]).isoformat())
        for grant in reply["grants"]
    ]


def live_ids(socket):
    """Return the ids of the records in the ``changes`` events a socket got since last asked."""
    return {
        record["id"]
        for event in socket.get_received()
        if event["name"] == "changes"
        for record in event["args"][0]["changes"]
    }


def test_no_glass_is_broken_without_a_reason_a_known_compound_or_the_role(client, clinician):
    volunteer = sign_in(client, "vol-a")
    asks = [
        (clinician, {"compound_id": COMPOUND_B}, 422),
        (clinician, {"compound_id": COMPOUND_B, "reason": "  "}, 422),
        (clinician, {"compound_id": COMPOUND_B, "reason": REASON, "minutes": 24 * 60}, 422),
        (clinician, {"compound_id": "no-such-compound", "reason": REASON}, 422),
        (clinician, {"compound_id": COMPOUND_A, "reason": REASON}, 422),
        (volunteer, {"compound_id": COMPOUND_B, "reason": REASON}, 403),
    ]
    for token, body, status in asks:
        reply = client.post(BREAK_GLASS, json=body, headers=bearer(token))
        assert reply.status_code == status, (body, reply.get_json())
        assert reply.content_type == "application/problem+json"
    assert not records_of(client, clinician, COMPOUND_B)


def test_a_grant_opens_the_compound_is_audited_told_live_and_ends_by_itself(
    app, client, clinician, monkeypatch
):
    coord = sign_in(client, "coord")
    coordinator_socket = socketio.test_client(app, flask_test_client=client, auth={"token": coord})
    coordinator_socket.get_received()
    assert not records_of(client, clinician, COMPOUND_B)

    reply = client.post(
        BREAK_GLASS,
        json={"compound_id": COMPOUND_B, "reason": REASON, "minutes": 60},
        headers=bearer(clinician),
    )
    assert reply.status_code == 201, reply.get_json()
    grant = reply.get_json()
    assert (grant["username"], grant["compound_id"], grant["reason"]) == (
        "medic-a",
        COMPOUND_B,
        REASON,
    )

    # Coordinators are told live, and can list it.
    told = [e for e in coordinator_socket.get_received() if e["name"] == "break_glass"]
    assert [e["args"][0]["id"] for e in told] == [grant["id"]]
    listed = client.get(BREAK_GLASS, headers=bearer(coord)).get_json()["grants"]
    assert [g["id"] for g in listed] == [grant["id"]]

    # The audit log holds it with its reason.
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.id == grant["id"]))
        assert (entry.action, entry.record_id, entry.detail["reason"]) == (
            "break-glass",
            COMPOUND_B,
            REASON,
        )

    # Within the window: compound B's records are the clinician's to pull and write,
    # and the pull names the grant, so that the device drops them when it ends.
    assert grants_pulled(client, clinician) == [(COMPOUND_B, grant["expires_at"])]
    opened = records_of(client, clinician, COMPOUND_B)
    resident = next(r for r in opened.values() if r["type"] == "resident")
    assert "needs" in resident["fields"]  # a clinician's view of a resident
    change = update("resident", resident["id"], resident["version"], needs=["chronic_medicine"])
    applied = push(client, clinician, a_changeset(change))["results"][0]
    assert applied["status"] == "applied", applied
    version = applied["changes"][0]["version"]
    clinician_socket = socketio.test_client(
        app, flask_test_client=client, auth={"token": clinician}
    )
    clinician_socket.get_received()
    note = update("resident", resident["id"], version, languages=["yue"])
    version = push(client, coord, a_changeset(note))["results"][0]["changes"][0]["version"]
    assert resident["id"] in live_ids(clinician_socket)

    # After the window, with nothing having run: compound B is closed again.
    later = clock.utcnow() + timedelta(minutes=61)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert not records_of(client, clinician, COMPOUND_B)
    assert grants_pulled(client, clinician) == []
    again = update("resident", resident["id"], version, needs=[])
    result = push(client, clinician, a_changeset(again))["results"][0]
    assert result["changes"][0]["conflict"]["code"] == "not_found"
    note = update("resident", resident["id"], version, languages=["wuu"])
    assert push(client, coord, a_changeset(note))["results"][0]["status"] == "applied"
    assert resident["id"] not in live_ids(clinician_socket)
    clinician_socket.disconnect()
    assert client.get(BREAK_GLASS, headers=bearer(coord)).get_json()["grants"] == []
    coordinator_socket.disconnect()


def open_b(client, token, minutes=60):
    reply = client.post(
        BREAK_GLASS,
        json={"compound_id": COMPOUND_B, "reason": REASON, "minutes": minutes},
        headers=bearer(token),
    )
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def test_a_grant_ended_early_closes_the_compound_at_once_audited_and_told_live(
    app, client, clinician
):
    coord = sign_in(client, "coord")
    coordinator_socket = socketio.test_client(app, flask_test_client=client, auth={"token": coord})
    grant = open_b(client, clinician)
    assert records_of(client, clinician, COMPOUND_B)
    coordinator_socket.get_received()

    # Nobody else may end it; whether it exists is not revealed.
    volunteer = sign_in(client, "vol-b")
    for token, status in ((volunteer, 403), (None, 401)):
        headers = bearer(token) if token else {}
        reply = client.post(f"{BREAK_GLASS}/{grant['id']}/end", headers=headers)
        assert reply.status_code == status, reply.get_json()
    other = a_coordinator_of(client, [COMPOUND_A], "coord-a")
    for token, grant_id in ((other, grant["id"]), (coord, grant["id"] + 1000)):
        reply = client.post(f"{BREAK_GLASS}/{grant_id}/end", headers=bearer(token))
        assert reply.status_code == 404, reply.get_json()
        assert reply.content_type == "application/problem+json"
    assert records_of(client, clinician, COMPOUND_B)

    # A coordinator who sees compound B ends it: closed at once, in pulls and the list.
    reply = client.post(f"{BREAK_GLASS}/{grant['id']}/end", headers=bearer(coord))
    assert reply.status_code == 200, reply.get_json()
    assert not records_of(client, clinician, COMPOUND_B)
    assert grants_pulled(client, clinician) == []
    assert client.get(BREAK_GLASS, headers=bearer(coord)).get_json()["grants"] == []
    told = [e for e in coordinator_socket.get_received() if e["name"] == "break_glass_ended"]
    assert [e["args"][0]["id"] for e in told] == [grant["id"]]
    with app.app_context():
        ends = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "break-glass-end")
        ).all()
        assert [(e.record_id, e.detail["grant_id"]) for e in ends] == [(COMPOUND_B, grant["id"])]
    again = client.post(f"{BREAK_GLASS}/{grant['id']}/end", headers=bearer(coord))
    assert again.status_code == 404
    coordinator_socket.disconnect()

    # The clinician may end their own grant when done.
    own = open_b(client, clinician)
    reply = client.post(f"{BREAK_GLASS}/{own['id']}/end", headers=bearer(clinician))
    assert reply.status_code == 200, reply.get_json()
    assert not records_of(client, clinician, COMPOUND_B)


def test_the_listing_names_the_compounds_a_clinician_may_open_and_no_others(client, clinician):
    """A clinician's device holds only their own compounds: the listing names the others."""
    coord = sign_in(client, "coord")
    before = client.get(BREAK_GLASS, headers=bearer(clinician)).get_json()["compounds"]
    ids = {compound["id"] for compound in before}
    assert COMPOUND_B in ids and COMPOUND_A not in ids
    assert all(compound["name"] for compound in before)
    reply = client.post(
        BREAK_GLASS,
        json={"compound_id": COMPOUND_B, "reason": REASON, "minutes": 60},
        headers=bearer(clinician),
    )
    assert reply.status_code == 201, reply.get_json()
    # Opened, it is in the clinician's scope: no longer one to open.
    after = client.get(BREAK_GLASS, headers=bearer(clinician)).get_json()["compounds"]
    assert {compound["id"] for compound in after} == ids - {COMPOUND_B}
    assert client.get(BREAK_GLASS, headers=bearer(coord)).get_json()["compounds"] == []
