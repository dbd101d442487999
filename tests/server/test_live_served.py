"""Socket.IO against real ``weiguang serve`` processes (eventlet), with Redis."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
import socketio

from tests.helpers import DEMO_PASSWORD
from tests.servers import ServedApp

pytestmark = pytest.mark.redis


def login(base_url, username):
    request = urllib.request.Request(
        base_url + "/api/v1/auth/login",
        data=json.dumps({"username": username, "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)["token"]


def logout(base_url, token):
    request = urllib.request.Request(
        base_url + "/api/v1/auth/logout",
        data=b"",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status


@pytest.fixture
def two_processes(pg_url, redis_url):
    env = {"WEIGUANG_MESSAGE_QUEUE": redis_url}
    first = ServedApp(pg_url, env).start()
    second = ServedApp(pg_url, env).start()
    yield first, second
    first.stop()
    second.stop()


def connected_client(base_url, token):
    client = socketio.Client(reconnection=False)
    gone = threading.Event()
    client.on("disconnect", lambda *args: gone.set())
    client.connect(base_url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return client, gone


def test_refused_without_token_on_served_app(two_processes):
    first, _ = two_processes
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            first.url, auth={"token": "nope"}, transports=["websocket"], wait_timeout=10
        )


def test_logout_on_one_process_disconnects_socket_on_another(two_processes):
    first, second = two_processes
    token = login(first.url, "vol-a")
    client, gone = connected_client(first.url, token)
    assert client.connected
    assert logout(second.url, token) == 204
    assert gone.wait(10), "the socket of the revoked token stayed open"
    client.disconnect()
