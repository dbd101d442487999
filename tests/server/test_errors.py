"""Every error class answers problem+json, never HTML."""

from __future__ import annotations

import io

import pytest

from tests.conftest import make_app
from tests.helpers import DEMO_PASSWORD, bearer, sign_in

PROBLEM = "application/problem+json"


def assert_problem(reply, status):
    assert reply.status_code == status, reply.get_data(as_text=True)
    assert reply.content_type == PROBLEM
    body = reply.get_json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert "<html" not in reply.get_data(as_text=True).lower()
    return body


def test_malformed_json_is_400(client):
    reply = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert_problem(reply, 400)


def test_body_that_is_not_an_object_is_400(client):
    assert_problem(client.post("/api/v1/auth/login", json=[1, 2]), 400)


def test_missing_token_is_401(client):
    assert_problem(client.get("/api/v1/users/me"), 401)


def test_wrong_role_is_403(client):
    token = sign_in(client, "vol-a")
    reply = client.post("/api/v1/users", json={}, headers=bearer(token))
    assert_problem(reply, 403)


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/x", "/socket.io-not/x.js"])
def test_unknown_path_is_404(client, path):
    assert_problem(client.get(path), 404)


def test_wrong_method_is_405_with_allow(client):
    reply = client.get("/api/v1/auth/login")
    assert_problem(reply, 405)
    assert "POST" in reply.headers["Allow"]


def test_taken_username_is_409(client):
    token = sign_in(client, "coord")
    user = {
        "username": "vol-a",
        "display_name": "x",
        "role": "volunteer",
        "scope_kind": "neighbourhood",
        "password": DEMO_PASSWORD,
    }
    assert_problem(client.post("/api/v1/users", json=user, headers=bearer(token)), 409)


def test_body_over_limit_is_413_before_reading(sqlite_url):
    client = make_app(sqlite_url, MAX_BODY_BYTES=100).test_client()

    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("the body was read")

    reply = client.post(
        "/api/v1/auth/login",
        input_stream=Unreadable(),
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": "5000"},
    )
    assert_problem(reply, 413)


def test_non_json_body_is_415(client):
    assert_problem(client.post("/api/v1/auth/login", data="username=coord"), 415)


def test_invalid_values_are_422_with_field_errors(client):
    body = assert_problem(client.post("/api/v1/auth/login", json={"username": ""}), 422)
    assert set(body["errors"]) == {"username", "password"}


def test_unsupported_schema_is_426(client):
    reply = client.get("/api/v1/users/me", headers={"Weiguang-Schema": "999"})
    body = assert_problem(reply, 426)
    assert body["schema_current"] == 1


def test_too_many_requests_is_429(client):
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"username": "coord", "password": "bad"})
    assert_problem(
        client.post("/api/v1/auth/login", json={"username": "coord", "password": "x"}), 429
    )


def test_unexpected_error_is_500_without_internals(sqlite_url):
    app = make_app(sqlite_url)

    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals")

    reply = app.test_client().get("/api/v1/boom")
    body = assert_problem(reply, 500)
    assert "secret" not in body["detail"]
