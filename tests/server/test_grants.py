"""Account management never gives a scope wider than the granter's own.

The matrix walks every role of a granter, in a neighbourhood, compound or
building scope, against every role and scope an account may be given:
inside the granter's scope, outside it and wider than it.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import User
from server.models.accounts import ROLES
from server.seed import stable_id
from tests.helpers import DEMO_PASSWORD, bearer, sign_in

USERS = "/api/v1/users"
A, B = stable_id("compound", "A"), stable_id("compound", "B")
A1, A2, B1 = (stable_id("building", c, n) for c, n in (("A", 1), ("A", 2), ("B", 1)))
SCOPES = {
    "neighbourhood": ("neighbourhood", []),
    "compound A": ("compounds", [A]),
    "compound B": ("compounds", [B]),
    "compounds A and B": ("compounds", [A, B]),
    "building A1": ("buildings", [A1]),
    "buildings A1 and A2": ("buildings", [A1, A2]),
    "building B1": ("buildings", [B1]),
    "no compound": ("compounds", []),
}
# What each granter's scope may give: written out by hand, not derived.
WITHIN = {
    "neighbourhood": set(SCOPES),
    "compound A": {"compound A", "building A1", "buildings A1 and A2", "no compound"},
    "building A1": {"building A1", "no compound"},
}
# The account endpoints that change users: the matrix below covers each.
ACCOUNT_WRITES = {("/api/v1/users", "POST")}


def new_user(username, role, scope):
    scope_kind, scope_ids = SCOPES[scope]
    return {
        "username": username,
        "display_name": username,
        "role": role,
        "scope_kind": scope_kind,
        "scope_ids": scope_ids,
        "password": DEMO_PASSWORD,
    }


def granter_token(client, role, scope):
    """Create (as the neighbourhood's coordinator) a granter of ``role`` in ``scope``; sign in."""
    coord = sign_in(client, "coord")
    reply = client.post(USERS, json=new_user("granter", role, scope), headers=bearer(coord))
    assert reply.status_code == 201, reply.get_json()
    return sign_in(client, "granter")


def user_count(app, username):
    with app.app_context():
        return db.session.scalar(select(func.count()).where(User.username == username))


def test_coordinator_of_a_cannot_create_a_wider_coordinator_or_a_volunteer_of_b(app, client):
    token = granter_token(client, "coordinator", "compound A")
    for username, role, scope in (
        ("nb-coord", "coordinator", "neighbourhood"),
        ("vol-of-b", "volunteer", "compound B"),
    ):
        reply = client.post(USERS, json=new_user(username, role, scope), headers=bearer(token))
        assert reply.status_code == 403
        assert reply.content_type == "application/problem+json"
        assert reply.get_json()["type"].endswith("/forbidden-scope")
        assert user_count(app, username) == 0


GRANTERS = list(itertools.product(ROLES, WITHIN))


@pytest.mark.parametrize(("role", "scope"), GRANTERS, ids=[f"{r} of {s}" for r, s in GRANTERS])
def test_who_may_create_whom(app, client, role, scope):
    token = granter_token(client, role, scope)
    wrong = []
    for index, (target_role, target_scope) in enumerate(itertools.product(ROLES, SCOPES)):
        username = f"made-{index}"
        body = new_user(username, target_role, target_scope)
        reply = client.post(USERS, json=body, headers=bearer(token))
        allowed = role == "coordinator" and target_scope in WITHIN[scope]
        expected = 201 if allowed else 403
        outcome = (reply.status_code, reply.content_type, user_count(app, username))
        if outcome != (
            expected,
            "application/json" if allowed else "application/problem+json",
            int(allowed),
        ):
            wrong.append(f"{target_role} of {target_scope}: {outcome}")
        elif allowed:
            made = reply.get_json()
            assert (made["role"], made["scope_kind"], made["scope_ids"]) == (
                target_role,
                body["scope_kind"],
                sorted(body["scope_ids"]),
            )
    assert not wrong, f"{role} of {scope} got: {wrong}"


def test_the_matrix_covers_every_account_write(app):
    writes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(USERS)
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    }
    assert writes == ACCOUNT_WRITES, "extend test_who_may_create_whom to the new endpoint"
