"""Structured logs and request ids: one JSON line per request and per push, nothing private."""

from __future__ import annotations

import io
import json
import logging
import urllib.error
import urllib.request
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server import live, logs
from server.extensions import db, socketio
from tests.helpers import DEMO_PASSWORD, bearer, sign_in
from tests.server.test_metrics import a_household
from tests.server.test_sync_api import a_changeset, a_task, create, push
from tests.server.test_sync_served import call, login
from tests.servers import ServedApp

# Values no log line may carry (a resident as a volunteer records one).
RESIDENT_NAME = "欧阳淑芬"
RESIDENT_PHONE = "13912345678"
WRONG_LOGIN = {"username": "vol-a", "password": "not-the-password-9431"}


@pytest.fixture
def log_lines():
    """Send the logs to a buffer as ``weiguang`` would; return a function reading the lines."""
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    stream = io.StringIO()
    logs.configure(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def a_resident(household_id):
    return {
        "household_id": household_id,
        "name": RESIDENT_NAME,
        "phone": RESIDENT_PHONE,
        "needs": ["chronic_medicine"],
    }


def test_every_request_is_one_json_line(client, log_lines):
    token = sign_in(client, "vol-a")
    reply = client.get("/api/v1/users/me", headers=bearer(token))
    lines = [line for line in log_lines() if line["logger"] == "weiguang.request"]
    assert [line["endpoint"] for line in lines] == ["/api/v1/auth/login", "/api/v1/users/me"]
    me = lines[-1]
    assert me["message"] == "request" and me["level"] == "INFO"
    assert me["method"] == "GET" and me["status"] == 200 and me["path"] == "/api/v1/users/me"
    assert me["user_id"] == reply.get_json()["id"] and isinstance(me["device_id"], int)
    assert me["request_id"] == reply.headers["X-Request-Id"]
    assert me["duration_ms"] >= 0 and "time" in me


def test_a_push_is_one_line_with_counts_and_codes(client, log_lines):
    token = sign_in(client, "vol-a")
    household = a_household(client, token)
    push(
        client,
        token,
        a_changeset(create("household", household)),
        a_changeset(create("task", a_task()), create("household", household)),
    )
    (line,) = [line for line in log_lines() if line["logger"] == "weiguang.push"]
    assert line["changesets"] == 2 and line["changes"] == 3
    assert line["changeset_results"] == {"applied": 1, "forbidden": 1}
    assert line["change_results"] == {"applied": 1, "forbidden": 1, "aborted": 1}
    assert isinstance(line["cursor"], int) and line["user_id"] and line["device_id"]
    request_line = [line for line in log_lines() if line.get("endpoint") == "/api/v1/sync/push"]
    assert request_line[0]["request_id"] == line["request_id"]


def test_under_eventlet_a_request_line_is_written_once_its_answer_has_gone_out(
    client, log_lines, monkeypatch
):
    # Issue 16: written before the answer, the line kept the client waiting
    # (a tenth of an empty pull). The WSGI server closes a response after
    # sending it, as eventlet's does under ``weiguang serve``.
    monkeypatch.setattr(socketio.server.eio, "async_mode", "eventlet")
    offered = "issue-16-late-line"
    reply = client.get("/api/v1/health", headers={"X-Request-Id": offered})
    assert reply.status_code == 200
    assert not [line for line in log_lines() if line["logger"] == "weiguang.request"]
    reply.close()
    (line,) = [line for line in log_lines() if line["logger"] == "weiguang.request"]
    assert line["endpoint"] == "/api/v1/health" and line["status"] == 200
    assert line["request_id"] == offered
    assert line["duration_ms"] >= 0


def test_under_eventlet_a_push_line_is_written_once_its_answer_has_gone_out(
    client, log_lines, monkeypatch
):
    token = sign_in(client, "vol-a")
    signed_in = len(log_lines())
    monkeypatch.setattr(socketio.server.eio, "async_mode", "eventlet")
    monkeypatch.setattr(live, "after_response", lambda job, failure: None)  # no announcer
    reply = client.post(
        "/api/v1/sync/push",
        json={"client_id": "late-line", "changesets": [a_changeset(create("task", a_task()))]},
        headers=bearer(token),
    )
    assert reply.status_code == 200
    assert log_lines()[signed_in:] == []
    reply.close()
    lines = log_lines()[signed_in:]
    assert [line["message"] for line in lines] == ["push", "request"]
    assert lines[0]["request_id"] == lines[1]["request_id"] == reply.headers["X-Request-Id"]
    assert lines[0]["changes"] == 1 and lines[1]["status"] == 200


@pytest.mark.parametrize(
    "offered",
    ["4f1c2b3a9d8e7f6a5b4c3d2e1f0a9b8c", str(uuid.uuid4()), "edge-01:req.42_7", "x" * 128],
)
def test_a_sane_request_id_is_kept_and_echoed(client, offered):
    reply = client.get(f"/api/v1/no-such/{uuid.uuid4()}", headers={"X-Request-Id": offered})
    assert reply.status_code == 404
    assert reply.headers["X-Request-Id"] == offered
    assert reply.get_json()["request_id"] == offered


@pytest.mark.parametrize(
    "offered",
    ["", "x" * 129, "has space", "line\\nbreak", 'quote"d', "<script>", "ünïcode", "a;b"],
)
def test_an_insane_request_id_is_replaced(client, offered):
    reply = client.get(f"/api/v1/no-such/{uuid.uuid4()}", headers={"X-Request-Id": offered})
    echoed = reply.headers["X-Request-Id"]
    assert echoed != offered and len(echoed) == 32 and echoed.isalnum()
    assert reply.get_json()["request_id"] == echoed


def test_every_problem_body_carries_the_request_id(client):
    token = sign_in(client, "vol-a")
    replies = [
        client.get("/api/v1/users/me"),  # 401
        client.post("/api/v1/users", json={}, headers=bearer(token)),  # 403
        client.post("/api/v1/sync/push", data="{", headers=bearer(token)),  # 415
        client.delete("/api/v1/health"),  # 405
    ]
    for reply in replies:
        assert reply.content_type == "application/problem+json"
        assert reply.get_json()["request_id"] == reply.headers["X-Request-Id"]
    assert len({reply.headers["X-Request-Id"] for reply in replies}) == len(replies)


def test_a_database_error_message_hides_the_statement_values(app):
    with app.app_context():
        with pytest.raises(SQLAlchemyError) as raised:
            db.session.execute(
                text("INSERT INTO no_such_table (name) VALUES (:name)"), {"name": RESIDENT_NAME}
            )
        db.session.rollback()
    assert "no_such_table" in str(raised.value)
    assert RESIDENT_NAME not in str(raised.value)


def test_served_logs_carry_no_token_password_or_resident_data(sqlite_url):
    """The real ``weiguang serve``: its whole output, every line JSON, nothing private."""
    server = ServedApp(sqlite_url).start()
    try:
        token = login(server.url, "vol-a")
        household = next(
            r
            for r in call(server.url, "GET", "/api/v1/sync/pull?limit=1000", token)["changes"]
            if r["type"] == "household"
        )
        resident = create("resident", a_resident(household["id"]))
        reply = call(
            server.url,
            "POST",
            "/api/v1/sync/push",
            token,
            {"client_id": "pytest", "changesets": [a_changeset(resident)]},
        )
        assert reply["results"][0]["status"] == "applied"
        with pytest.raises(urllib.error.HTTPError) as refused:
            call(server.url, "POST", "/api/v1/auth/login", body=WRONG_LOGIN)
        assert refused.value.code == 401
        refused.value.close()
    finally:
        output = server.stop()
    # Every line is JSON but the banner that click prints.
    lines = [json.loads(line) for line in output.splitlines() if "is serving on" not in line]
    assert {"request", "push"} <= {line["message"] for line in lines}
    # Each request's line, written once its answer had gone out (issue 16).
    requests = [
        (line["endpoint"], line["status"])
        for line in lines
        if line["message"] == "request" and line["endpoint"] != "/api/v1/health"
    ]
    assert requests == [
        ("/api/v1/auth/login", 200),
        ("/api/v1/sync/pull", 200),
        ("/api/v1/sync/push", 200),
        ("/api/v1/auth/login", 401),
    ]
    assert all(line["request_id"] for line in lines if line["message"] == "request")
    private = (token, DEMO_PASSWORD, WRONG_LOGIN["password"], RESIDENT_NAME, RESIDENT_PHONE)
    for secret in (*private, "chronic_medicine"):
        assert secret not in output
