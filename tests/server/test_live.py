"""Socket.IO: token auth on connect, revocation disconnects, who is announced to."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

import server.live
from server import scopes, seed, socket_sessions
from server.clock import utcnow
from server.extensions import db, socketio
from server.models import DeviceToken, SocketSession
from tests.conftest import make_app
from tests.helpers import a_task_create, bearer, sign_in
from tests.servers import free_port

COMPOUND_A = seed.stable_id("compound", "A")


def test_socket_without_valid_token_fails_to_connect(app, client):
    for auth in (None, {}, {"token": "garbage"}, {"token": 42}):
        socket = socketio.test_client(app, flask_test_client=client, auth=auth)
        assert not socket.is_connected()


def test_socket_with_token_connects(app, client):
    token = sign_in(client, "vol-a")
    socket = socketio.test_client(app, flask_test_client=client, auth={"token": token})
    assert socket.is_connected()
    socket.disconnect()


def test_logout_disconnects_sockets_of_that_token_only(app, client):
    revoked, kept = sign_in(client, "vol-a"), sign_in(client, "vol-a")
    doomed = socketio.test_client(app, flask_test_client=client, auth={"token": revoked})
    other = socketio.test_client(app, flask_test_client=client, auth={"token": kept})
    assert doomed.is_connected() and other.is_connected()
    assert client.post("/api/v1/auth/logout", headers=bearer(revoked)).status_code == 204
    assert not doomed.is_connected()
    assert other.is_connected()
    again = socketio.test_client(app, flask_test_client=client, auth={"token": revoked})
    assert not again.is_connected()
    other.disconnect()


class HeldTasks:
    """Stands in for ``socketio.start_background_task``: remembers the announcer, never runs it."""

    def __init__(self) -> None:
        self.started: list[tuple[Any, ...]] = []

    def __call__(self, *task: Any) -> None:
        self.started.append(task)


@pytest.fixture
def green_announcer(app, monkeypatch):
    """As under eventlet: jobs after a response go to the announcer's queue (returned)."""
    held = HeldTasks()
    monkeypatch.setattr(socketio.server.eio, "async_mode", "eventlet")
    monkeypatch.setattr(socketio, "start_background_task", held)
    monkeypatch.setattr(server.live, "_waiting", None)
    return held


def test_a_job_after_the_response_waits_until_the_response_is_sent(app, green_announcer):
    ran: list[bool] = []
    with app.test_request_context("/api/v1/sync/push", method="POST"):
        server.live.after_response(lambda: ran.append(True), "failed")
        [(_, waiting)] = [task[1:] for task in green_announcer.started]
        job, _, sent = waiting.get_nowait()
        assert not sent.is_set()
        response = app.process_response(app.response_class("{}"))
        assert not sent.is_set()  # made, not yet written
    response.close()  # what the WSGI server does once it has written it
    assert sent.is_set()
    assert ran == []  # the announcer runs it, never the request
    job()
    assert ran == [True]


def test_a_job_queued_outside_a_request_is_ready_at_once(app, green_announcer):
    with app.app_context():
        server.live.after_response(lambda: None, "failed")
    [(_, waiting)] = [task[1:] for task in green_announcer.started]
    assert waiting.get_nowait()[2].is_set()


def push_a_task(client, token: str) -> None:
    """Push one new task in compound A as ``token``'s user."""
    body = {
        "client_id": "live",
        "changesets": [
            {
                "id": str(uuid.uuid4()),
                "made_at": utcnow().isoformat(),
                "changes": [a_task_create(COMPOUND_A)],
            }
        ],
    }
    reply = client.post("/api/v1/sync/push", json=body, headers=bearer(token))
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["results"][0]["status"] == "applied"


def test_a_push_nobody_can_hear_is_not_announced(app, client, monkeypatch):
    """One process, no socket open: nothing announced, ``socket_session`` unread (issue #16)."""
    held: list[Any] = []
    monkeypatch.setattr(server.live, "after_response", lambda job, failure: held.append(job))
    coordinator = sign_in(client, "coord")
    push_a_task(client, coordinator)
    assert held == []
    listener = socketio.test_client(
        app, flask_test_client=client, auth={"token": sign_in(client, "vol-a")}
    )
    listener.get_received()
    push_a_task(client, coordinator)
    [announcement] = held
    with app.app_context():
        announcement()
    [event] = [e for e in listener.get_received() if e["name"] == "changes"]
    assert [c["fields"]["compound_id"] for c in event["args"][0]["changes"]] == [COMPOUND_A]
    listener.disconnect()


@pytest.mark.parametrize("message_queue", [False, True])
def test_a_socket_of_another_process_is_announced_to_only_through_a_message_queue(
    sqlite_url, message_queue
):
    """Scaled out, ``socket_session`` tells who listens elsewhere; alone, no emit reaches them."""
    queue = f"redis://127.0.0.1:{free_port()}/0" if message_queue else None
    app = make_app(sqlite_url, MESSAGE_QUEUE=queue)
    try:
        sign_in(app.test_client(), "vol-a")
        with app.app_context():
            device_id = db.session.scalar(select(DeviceToken.id))
            db.session.add(
                SocketSession(
                    sid="elsewhere",
                    device_token_id=device_id,
                    process_id="another-process",
                    opened_at=utcnow(),
                    seen_at=utcnow(),
                )
            )
            db.session.commit()
            assert socket_sessions.none_can_hear() is not message_queue
            rooms = set(scopes.connected_audiences())
        room_a = scopes.audience_room("volunteer", "compounds", "", [COMPOUND_A])
        assert rooms == ({room_a} if message_queue else set())
    finally:
        with app.app_context():
            db.engine.dispose()
