"""The people directory: display names within the caller's scope only."""

from __future__ import annotations

import uuid

import pytest

from server import seed
from server.extensions import db
from server.models import User
from tests.helpers import a_coordinator_of, a_task_create, bearer, sign_in

COMPOUND_A = seed.stable_id("compound", "A")
COMPOUND_B = seed.stable_id("compound", "B")

DIRECTORY = "/api/v1/users/directory"


def names_seen_by(client, token_for, username: str) -> set[str]:
    reply = client.get(DIRECTORY, headers=bearer(token_for(username)))
    assert reply.status_code == 200
    return {person["display_name"] for person in reply.get_json()["users"]}


@pytest.mark.parametrize(
    ("username", "seen"),
    [
        # A volunteer of compound A works alongside A's people and the
        # neighbourhood-wide ones, not compound B's volunteer.
        ("vol-a", {"志愿者 A", "门岗 A", "团长 A", "居委会协调员", "医护志愿者"}),
        ("vol-b", {"志愿者 B", "居委会协调员", "医护志愿者"}),
        ("guard-a", {"志愿者 A", "门岗 A", "团长 A", "居委会协调员", "医护志愿者"}),
        (
            "coord",
            {"志愿者 A", "志愿者 B", "门岗 A", "团长 A", "居委会协调员", "医护志愿者"},
        ),
    ],
)
def test_directory_lists_only_people_sharing_a_compound(client, token_for, username, seen):
    assert names_seen_by(client, token_for, username) == seen


def test_directory_gives_id_name_and_role_only(client, token_for):
    reply = client.get(DIRECTORY, headers=bearer(token_for("vol-a")))
    people = reply.get_json()["users"]
    assert all(set(person) == {"id", "display_name", "role"} for person in people)
    assert {"volunteer", "coordinator"} <= {person["role"] for person in people}


def test_directory_needs_a_token(client):
    reply = client.get(DIRECTORY)
    assert reply.status_code == 401
    assert reply.content_type == "application/problem+json"


def test_directory_leaves_out_deactivated_users(app, client, token_for):
    token = token_for("vol-a")
    with app.app_context():
        guard = db.session.query(User).filter_by(username="guard-a").one()
        guard.active = False
        db.session.commit()
    people = client.get(DIRECTORY, headers=bearer(token)).get_json()["users"]
    names = {person["display_name"] for person in people}
    assert "门岗 A" not in names and "志愿者 A" in names


def a_conflict_between_two_devices(client, compound_id: str) -> None:
    """Let vol-a's phone and coord's laptop set one task's notes concurrently."""
    phone = sign_in(client, "vol-a" if compound_id == COMPOUND_A else "vol-b", device_name="手机")
    laptop = sign_in(client, "coord", device_name="居委会笔记本")
    task = a_task_create(compound_id)
    base = push(client, laptop, [task], "laptop-install")
    claim = {"type": "task", "id": task["id"], "op": "update", "base_version": base}
    push(client, phone, [{**claim, "fields": {"status": "claimed"}}], "phone-install")
    push(client, laptop, [{**claim, "fields": {"notes": "from the office"}}], "laptop-install")
    push(client, phone, [{**claim, "fields": {"notes": "door code 1234"}}], "phone-install")


def push(client, token: str, changes: list, client_id: str) -> int:
    body = {
        "client_id": client_id,
        "changesets": [
            {"id": str(uuid.uuid4()), "made_at": "2022-04-02T10:00:00.000Z", "changes": changes}
        ],
    }
    reply = client.post("/api/v1/sync/push", json=body, headers=bearer(token))
    assert reply.get_json()["results"][0]["status"] == "applied", reply.get_json()
    return reply.get_json()["cursor"]


def devices_seen_by(client, token: str) -> dict[str, str]:
    devices = client.get(DIRECTORY, headers=bearer(token)).get_json()["devices"]
    return {device["client_id"]: device["name"] for device in devices}


def test_coordinators_get_the_names_of_the_devices_their_conflicts_name(client, token_for):
    assert devices_seen_by(client, token_for("coord")) == {}
    a_conflict_between_two_devices(client, COMPOUND_A)
    seen = {"laptop-install": "居委会笔记本", "phone-install": "手机"}
    assert devices_seen_by(client, token_for("coord")) == seen
    # Only coordinators see conflicts, so nobody else learns device names.
    for username in ("vol-a", "guard-a", "leader-a", "medic"):
        assert devices_seen_by(client, token_for(username)) == {}
    # A coordinator of compound B sees no device of compound A's conflicts.
    assert devices_seen_by(client, a_coordinator_of(client, [COMPOUND_B], "coord-b")) == {}


def test_devices_of_resolved_conflicts_are_not_named(client, token_for):
    a_conflict_between_two_devices(client, COMPOUND_A)
    coord = token_for("coord")
    pulled = client.get(
        "/api/v1/sync/pull?cursor=0&limit=1000&types=conflict", headers=bearer(coord)
    )
    (conflict,) = [r for r in pulled.get_json()["changes"] if r["type"] == "conflict"]
    resolve = {
        "type": "conflict",
        "id": conflict["id"],
        "op": "update",
        "base_version": conflict["version"],
        "fields": {"resolved": True},
    }
    push(client, coord, [resolve], "laptop-install")
    assert devices_seen_by(client, coord) == {}
