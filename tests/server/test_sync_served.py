"""The sync endpoints on real ``weiguang serve`` processes (eventlet) on PostgreSQL.

- eight threads push while a puller loops on its cursor: it sees every change
  exactly once;
- a push waiting on a database lock does not stall the process's other
  connections (psycopg2 made cooperative for eventlet);
- with Redis as message queue, a push on one process reaches a socket of
  another process as a live ``changes`` event.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import uuid

import psycopg2
import pytest
import socketio

from server import seed
from tests.servers import ServedApp, call, login

pytestmark = pytest.mark.postgres
COMPOUND_A = seed.stable_id("compound", "A")
PUSHERS = 8
PUSHES_EACH = 12


def task_changeset():
    return {
        "id": str(uuid.uuid4()),
        "made_at": "2022-04-02T10:00:00.000Z",
        "changes": [
            {
                "type": "task",
                "id": str(uuid.uuid4()),
                "op": "create",
                "fields": {
                    "kind": "garbage",
                    "title": "清运",
                    "status": "open",
                    "priority": 3,
                    "compound_id": COMPOUND_A,
                },
            }
        ],
    }


@pytest.fixture
def served(pg_url):
    server = ServedApp(pg_url).start()
    yield server
    server.stop()


def test_puller_sees_every_change_of_eight_pushers_exactly_once(served):
    token = login(served.url, "coord")
    created, seen, errors = [], [], []
    start_cursor = call(served.url, "GET", "/api/v1/sync/pull?cursor=999999999", token)["cursor"]
    done = threading.Event()

    def pusher():
        try:
            for _ in range(PUSHES_EACH):
                changesets = [task_changeset() for _ in range(3)]
                body = {"client_id": "load", "changesets": changesets}
                reply = call(served.url, "POST", "/api/v1/sync/push", token, body)
                assert all(r["status"] == "applied" for r in reply["results"])
                created.extend(c["changes"][0]["id"] for c in changesets)
        except Exception as error:  # reported below, with the others
            errors.append(error)

    def puller():
        cursor = start_cursor
        while True:
            finished = done.is_set()
            page = call(served.url, "GET", f"/api/v1/sync/pull?cursor={cursor}&limit=7", token)
            seen.extend(r["id"] for r in page["changes"])
            cursor = page["cursor"]
            if finished and not page["more"]:
                return

    threads = [threading.Thread(target=pusher) for _ in range(PUSHERS)]
    reader = threading.Thread(target=puller)
    reader.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    reader.join(timeout=120)
    assert not errors, errors[:3]
    assert len(created) == PUSHERS * PUSHES_EACH * 3
    assert sorted(seen) == sorted(created), "the puller missed or repeated a change"


def test_a_push_waiting_on_the_database_does_not_stall_other_requests(served, pg_url):
    token = login(served.url, "coord")
    blocker = psycopg2.connect(pg_url)
    cursor = blocker.cursor()
    cursor.execute("UPDATE sync_state SET high_water = high_water")  # hold the writer lock
    replies = []
    body = {"client_id": "x", "changesets": [task_changeset()]}
    pushing = threading.Thread(
        target=lambda: replies.append(call(served.url, "POST", "/api/v1/sync/push", token, body))
    )
    pushing.start()
    time.sleep(0.5)  # the push is now waiting on the lock, inside the server
    try:
        started = time.monotonic()
        health = call(served.url, "GET", "/api/v1/health", timeout=5)
        assert health["status"] == "ok"
        assert time.monotonic() - started < 3
        assert not replies, "the push should still be waiting"
    finally:
        blocker.rollback()
        blocker.close()
    pushing.join(timeout=30)
    assert replies and replies[0]["results"][0]["status"] == "applied"


@pytest.mark.redis
def test_push_on_one_process_reaches_a_socket_on_another(pg_url, redis_url):
    env = {"WEIGUANG_MESSAGE_QUEUE": redis_url}
    first, second = ServedApp(pg_url, env).start(), ServedApp(pg_url, env).start()
    try:
        listener = socketio.Client(reconnection=False)
        events = []
        arrived = threading.Event()

        @listener.on("changes")
        def on_changes(payload):
            events.append(payload)
            arrived.set()

        listener.connect(
            first.url,
            auth={"token": login(first.url, "vol-a")},
            transports=["websocket"],
            wait_timeout=10,
        )
        changeset = task_changeset()
        body = {"client_id": "x", "changesets": [changeset]}
        reply = call(second.url, "POST", "/api/v1/sync/push", login(second.url, "coord"), body)
        assert arrived.wait(10), "no live event crossed to the other process"
        assert events[0]["cursor"] == reply["cursor"]
        assert [r["id"] for r in events[0]["changes"]] == [changeset["changes"][0]["id"]]
        listener.disconnect()
    finally:
        first.stop()
        second.stop()


def test_refused_socket_and_http_errors_are_not_html(served):
    with pytest.raises(urllib.error.HTTPError) as error:
        call(served.url, "GET", "/api/v1/sync/pull")
    with error.value:
        assert error.value.code == 401
        assert error.value.headers["Content-Type"] == "application/problem+json"
