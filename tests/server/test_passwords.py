"""A new account's password: at least 8 characters and hard to guess."""

from __future__ import annotations

import pytest

from server import passwords
from tests.helpers import DEMO_PASSWORD, bearer, sign_in

WEAK = (
    "x",
    "seven77",
    "password",
    "Password1",
    "passw0rd1",
    "12345678",
    "qwertyuiop",
    "iloveyou",
    "a123456789",
    "weiguang2022",
    "微光微光微光微光",
)
STRONG = (
    DEMO_PASSWORD,
    "many-small-lights",
    "tiger-river-42",
    "Zhang.Wei.1985",
    "x" + "ab3$-" * 40,
)


def new_user(username, password):
    return {
        "username": username,
        "display_name": "新志愿者",
        "role": "volunteer",
        "scope_kind": "neighbourhood",
        "password": password,
    }


@pytest.mark.parametrize("password", WEAK)
def test_a_short_or_common_password_is_refused(client, password):
    token = sign_in(client, "coord")
    reply = client.post("/api/v1/users", json=new_user("new-vol", password), headers=bearer(token))
    assert reply.status_code == 422
    assert reply.content_type == "application/problem+json"
    assert list(reply.get_json()["errors"]) == ["password"]


def test_a_password_made_of_the_accounts_own_names_is_refused(client):
    token = sign_in(client, "coord")
    body = new_user("lantern-keeper", "lantern-keeper")
    reply = client.post("/api/v1/users", json=body, headers=bearer(token))
    assert reply.status_code == 422


@pytest.mark.parametrize("password", STRONG)
def test_a_long_uncommon_password_is_accepted(client, password):
    token = sign_in(client, "coord")
    reply = client.post("/api/v1/users", json=new_user("new-vol", password), headers=bearer(token))
    assert reply.status_code == 201, reply.get_json()
    assert sign_in(client, "new-vol", password)


def test_only_the_first_characters_are_scored_and_any_length_is_judged():
    assert passwords.problems("a" * 1024)
    assert passwords.problems("tiger-river-42" + "a" * 1000) == []
