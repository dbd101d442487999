"""Signing in and out, device tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.accounts import token_digest
from server.extensions import db
from server.models import AuditEntry, DeviceToken
from tests.helpers import DEMO_PASSWORD, bearer, sign_in

ME = "/api/v1/users/me"


def test_login_returns_token_and_user(client):
    reply = client.post(
        "/api/v1/auth/login",
        json={"username": "vol-a", "password": DEMO_PASSWORD, "device_name": "phone"},
    )
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["user"]["username"] == "vol-a"
    assert body["user"]["role"] == "volunteer"
    assert client.get(ME, headers=bearer(body["token"])).get_json()["username"] == "vol-a"


def test_wrong_password_and_unknown_user_are_401(client):
    for username, password in (("coord", "wrong"), ("nobody", DEMO_PASSWORD)):
        reply = client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert reply.status_code == 401
        assert reply.content_type == "application/problem+json"


def test_each_login_makes_its_own_token_stored_hashed(app, client):
    first, second = sign_in(client, "coord"), sign_in(client, "coord")
    assert first != second
    with app.app_context():
        stored = set(db.session.scalars(select(DeviceToken.token_hash)))
    assert {token_digest(first), token_digest(second)} <= stored
    assert first not in stored and second not in stored


def test_logout_revokes_that_token_only_at_once(client):
    kept, revoked = sign_in(client, "coord"), sign_in(client, "coord")
    assert client.post("/api/v1/auth/logout", headers=bearer(revoked)).status_code == 204
    assert client.get(ME, headers=bearer(revoked)).status_code == 401
    assert client.get(ME, headers=bearer(kept)).status_code == 200


def test_missing_or_garbage_token_is_401(client):
    assert client.get(ME).status_code == 401
    assert client.get(ME, headers=bearer("garbage")).status_code == 401
    assert client.get(ME, headers={"Authorization": "Basic abc"}).status_code == 401


def test_token_idle_too_long_stops_working(app, client):
    token = sign_in(client, "coord")
    with app.app_context():
        device = db.session.scalar(
            select(DeviceToken).where(DeviceToken.token_hash == token_digest(token))
        )
        device.last_seen_at = device.last_seen_at - timedelta(days=61)
        db.session.commit()
    assert client.get(ME, headers=bearer(token)).status_code == 401


def test_login_and_logout_are_audited(app, client):
    token = sign_in(client, "guard-a")
    client.post("/api/v1/auth/logout", headers=bearer(token))
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["login", "logout"]


def test_login_tells_the_last_changeset_the_server_accepted(client):
    first = client.post(
        "/api/v1/auth/login", json={"username": "vol-a", "password": DEMO_PASSWORD}
    ).get_json()
    assert first["sync"] == {"last_changeset_id": None, "last_changeset_at": None}
    changeset = {
        "id": "5f0c3c1e-9d7a-4c3e-8f4e-2b1c0a9d8e7f",
        "made_at": "2022-04-02T10:00:00Z",
        "changes": [],
    }
    reply = client.post(
        "/api/v1/sync/push",
        json={"client_id": "phone", "changesets": [changeset]},
        headers=bearer(first["token"]),
    )
    assert reply.status_code == 200
    again = client.post(
        "/api/v1/auth/login", json={"username": "vol-a", "password": DEMO_PASSWORD}
    ).get_json()
    assert again["sync"]["last_changeset_id"] == changeset["id"]
    assert again["sync"]["last_changeset_at"].endswith("+00:00")
