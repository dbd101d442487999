"""The people directory: display names within the caller's scope only."""

from __future__ import annotations

import pytest

from server.extensions import db
from server.models import User
from tests.helpers import bearer

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
