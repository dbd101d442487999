"""SIGTERM stops ``weiguang serve`` gracefully (``server/green.py``, ``drain``; issue 14, item 3).

The push in flight is answered and applied, new connections are refused,
live sockets are dropped so that their clients reconnect, the process exits
0; a server started again on the same port gets the clients back, and they
catch up from their cursor. Several processes behind nginx, restarted one
at a time under load: ``tests/server/test_front_door.py``.
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import sqlite3
import threading
import time
import uuid

import pytest
import socketio

from server import seed
from tests.helpers import a_task_create
from tests.servers import STOPPED, ServedApp, call, login

COMPOUND_A = seed.stable_id("compound", "A")
TIMEOUT_S = 60


def a_large_push(changesets=10, changes_each=300):
    return {
        "client_id": "large",
        "changesets": [
            {
                "id": str(uuid.uuid4()),
                "made_at": "2022-04-02T10:00:00.000Z",
                "changes": [a_task_create(COMPOUND_A) for _ in range(changes_each)],
            }
            for _ in range(changesets)
        ],
    }


def refuses_connections(port):
    """Tell whether ``port`` refuses connections within :data:`TIMEOUT_S` (the stop is async)."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.05)
    return False


def writing(sqlite_url):
    """Wait until a write transaction holds the SQLite database (the push is being applied)."""
    path = sqlite_url.removeprefix("sqlite:///")
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        connection = sqlite3.connect(path, timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
        except sqlite3.OperationalError:
            return True  # locked: the server is writing
        finally:
            connection.close()
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_sigterm_finishes_the_push_in_flight_and_clients_reconnect_after_a_restart(
    sqlite_url, transport
):
    served = ServedApp(sqlite_url).start()
    token = login(served.url, "coord")
    cursor = call(served.url, "GET", "/api/v1/sync/pull?types=compound", token)["cursor"]
    connects, drops = threading.Semaphore(0), threading.Event()
    client = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
    client.on("connect", connects.release)
    client.on("disconnect", lambda *reason: drops.set())
    client.connect(served.url, auth={"token": token}, transports=[transport], wait_timeout=10)
    assert connects.acquire(timeout=TIMEOUT_S)
    body = json.dumps(a_large_push()).encode()
    answered, sent = [], threading.Event()

    def push():
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=300)
        try:
            connection.request(
                "POST",
                "/api/v1/sync/push",
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            sent.set()
            reply = connection.getresponse()
            answered.append((reply.status, json.loads(reply.read())))
        finally:
            sent.set()
            connection.close()

    pusher = threading.Thread(target=push)
    try:
        pusher.start()
        assert sent.wait(TIMEOUT_S)
        # Sent is not received: on a loaded machine the request may still wait
        # in the listen backlog, which closing the listener resets.
        assert writing(sqlite_url), "the push never started"
        served.process.send_signal(signal.SIGTERM)
        assert drops.wait(TIMEOUT_S), "the live socket was not dropped"
        assert refuses_connections(served.port)
        pusher.join(TIMEOUT_S)
        assert served.process.wait(TIMEOUT_S) == 0
        output = served.stop()
        assert "Traceback" not in output, output
        assert STOPPED in output, output
        ((status, result),) = answered
        assert status == 200
        assert {r["status"] for r in result["results"]} == {"applied"}

        # Started again on its port: the client comes back by itself and
        # finds every task of the push from its cursor.
        served = ServedApp(sqlite_url, port=served.port).start()
        assert connects.acquire(timeout=TIMEOUT_S), "the client did not reconnect"
        created = {c["id"] for r in result["results"] for c in r["changes"]}
        seen = set()
        more = True
        while more:
            page = call(served.url, "GET", f"/api/v1/sync/pull?cursor={cursor}&types=task", token)
            seen |= {record["id"] for record in page["changes"]}
            cursor, more = page["cursor"], page["more"]
        assert created <= seen
    finally:
        client.disconnect()
        served.stop()
