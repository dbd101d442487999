"""One client may not monopolise a real ``weiguang serve`` (eventlet): the others keep answering.

A large push is sent; once its body is on the wire, ``/health`` and another
user's pull are asked again and again, and another device pushes too. The
server must answer some health checks and pulls before it answers the large
push (compared by order of completion, not by time), and every request,
the other push included, must succeed.

On both databases. On SQLite the other push waits for the large one on the
writer lock (``server/database.py``, ``queue_writers``); without it, it would
wait in SQLite's busy handler, which blocks the whole process, while the
large push, which yields in the middle of its transaction, never resumed:
"database is locked" after the busy timeout.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid

import pytest

from server import seed
from tests.helpers import a_task_create
from tests.servers import ServedApp, login

COMPOUND_A = seed.stable_id("compound", "A")
# Answers to other clients that must come before the push's: a server that
# serves one request to the end answers at most the one or two that slip in
# while it is still reading the push's body.
ANSWERS_DURING_PUSH = 5


def request(server, method, path, token=None, body=None):
    """Send a request and return its reply's status and body; None if never answered."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


def a_push(changesets, changes_each):
    return {
        "client_id": "big",
        "changesets": [
            {
                "id": str(uuid.uuid4()),
                "made_at": "2022-04-02T10:00:00.000Z",
                "changes": [a_task_create(COMPOUND_A) for _ in range(changes_each)],
            }
            for _ in range(changesets)
        ],
    }


@pytest.mark.parametrize(
    ("changesets", "changes_each"),
    [(20, 1000), (500, 40)],
    ids=["few-big-changesets", "many-small-changesets"],
)
def test_health_and_other_pulls_answer_while_a_large_push_runs(
    database_url, changesets, changes_each
):
    served = ServedApp(database_url).start()
    try:
        answer_while_pushing(served, changesets, changes_each)
    finally:
        served.stop()


def answer_while_pushing(served, changesets, changes_each):
    """Push a large push and ask for health and pulls until it is answered."""
    coord, medic = login(served.url, "coord"), login(served.url, "medic")
    other_device = login(served.url, "coord")
    body = json.dumps(a_push(changesets, changes_each)).encode()
    completed = []
    sent = threading.Event()

    def push():
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=600)
        try:
            connection.request(
                "POST",
                "/api/v1/sync/push",
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {coord}"},
            )
            sent.set()
            reply = connection.getresponse()
            reply.read()
            completed.append(("push", reply.status))
        finally:
            sent.set()
            connection.close()

    pusher = threading.Thread(target=push)
    pusher.start()
    assert sent.wait(120)
    small_push = json.dumps(a_push(1, 1))

    def push_small():
        status = request(served, "POST", "/api/v1/sync/push", other_device, small_push)[0]
        completed.append(("small push", status))

    # Started once the large push is under way: it waits for the large one.
    small_pusher = threading.Thread(target=push_small)
    while pusher.is_alive() and len(completed) < 200:
        completed.append(("health", request(served, "GET", "/api/v1/health")[0]))
        completed.append(("pull", request(served, "GET", "/api/v1/sync/pull?limit=50", medic)[0]))
        if not small_pusher.is_alive() and small_pusher.ident is None:
            small_pusher.start()
    pusher.join(timeout=600)
    if small_pusher.ident is not None:
        small_pusher.join(timeout=120)
    assert {status for _, status in completed} == {200}, completed
    assert ("small push", 200) in completed, completed
    before_push = completed[: completed.index(("push", 200))]
    assert len(before_push) >= ANSWERS_DURING_PUSH, f"only {before_push} answered during the push"
