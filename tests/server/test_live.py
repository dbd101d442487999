"""Socket.IO: token auth on connect, revocation disconnects."""

from __future__ import annotations

from typing import Any

import pytest

import server.live
from server.extensions import socketio
from tests.helpers import bearer, sign_in


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
