"""Rule 21 over Socket.IO: one ``changes`` event per commit per socket, each record once, latest.

Issue 7, item 11: a socket sat in one room per compound of its user's scope
and got a commit once per room it touched — a task moved from compound A to
B as the record from B's room and as a tombstone from A's, in an order that
depended on string hashing. Users of every scope shape the accounts allow
(the whole neighbourhood, one or two compounds, one or two buildings) watch
random moves among compounds and buildings.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import seed
from server.extensions import socketio
from tests.helpers import DEMO_PASSWORD, bearer, sign_in

COMPOUND_A, COMPOUND_B = seed.stable_id("compound", "A"), seed.stable_id("compound", "B")
BUILDING_A1, BUILDING_B1 = seed.stable_id("building", "A", 1), seed.stable_id("building", "B", 1)
PLACES = (
    (COMPOUND_A, None),
    (COMPOUND_A, BUILDING_A1),
    (COMPOUND_B, None),
    (COMPOUND_B, BUILDING_B1),
)
#: (username, role, scope kind, scope ids) of the users made for the test.
MADE = (
    ("coord-ab", "coordinator", "compounds", [COMPOUND_A, COMPOUND_B]),
    ("vol-a1", "volunteer", "buildings", [BUILDING_A1]),
    ("guard-a1-b1", "guard", "buildings", [BUILDING_A1, BUILDING_B1]),
)
WATCHERS = ("coord", "medic", "vol-a", "vol-b", "guard-a", "leader-a", *(m[0] for m in MADE))
PUSH, PULL = "/api/v1/sync/push", "/api/v1/sync/pull"


@pytest.fixture
def watched(app, client):
    """Sign everyone in with a socket; return the coordinator's token, the tasks, the sockets."""
    coord = sign_in(client, "coord")
    for username, role, kind, ids in MADE:
        body = {
            "username": username,
            "display_name": username,
            "role": role,
            "scope_kind": kind,
            "scope_ids": ids,
            "password": DEMO_PASSWORD,
        }
        assert client.post("/api/v1/users", json=body, headers=bearer(coord)).status_code == 201
    tasks = [str(uuid.uuid4()) for _ in range(3)]
    creates = [
        {"type": "task", "id": task, "op": "create", "fields": task_fields(COMPOUND_A, None)}
        for task in tasks
    ]
    push(client, coord, [creates])
    sockets = {}
    for name in WATCHERS:
        token = sign_in(client, name)
        socket = socketio.test_client(app, flask_test_client=client, auth={"token": token})
        assert socket.is_connected()
        socket.get_received()
        sockets[name] = (token, socket)
    yield coord, tasks, sockets
    for _, socket in sockets.values():
        socket.disconnect()


def task_fields(compound: str, building: str | None) -> dict:
    return {
        "kind": "delivery",
        "title": "送菜",
        "status": "open",
        "compound_id": compound,
        "building_id": building,
        "priority": 2,
    }


def push(client, token, changesets: list[list[dict]]) -> dict:
    body = {
        "client_id": "coord-laptop",
        "changesets": [
            {"id": str(uuid.uuid4()), "made_at": "2022-04-02T10:00:00.000Z", "changes": changes}
            for changes in changesets
        ],
    }
    reply = client.post(PUSH, json=body, headers=bearer(token))
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def pulled_since(client, token: str, cursor: int) -> dict[str, dict]:
    """Return the user's records after ``cursor`` by id (pages checked for repeats)."""
    out: dict[str, dict] = {}
    while True:
        body = client.get(f"{PULL}?cursor={cursor}&limit=7", headers=bearer(token)).get_json()
        ids = [record["id"] for record in body["changes"]]
        assert len(ids) == len(set(ids)), f"a record twice in one page: {ids}"
        out.update({record["id"]: record for record in body["changes"]})
        cursor = body["cursor"]
        if not body["more"]:
            return out


def same_state(event: dict, pulled: dict) -> bool:
    """Return whether an event's record equals a pulled one (a tombstone's version aside)."""
    if event["deleted"] and pulled["deleted"] and event["fields"] == pulled["fields"] == {}:
        return True
    return event == pulled


moves = st.lists(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, len(PLACES) - 1), st.booleans()),
        min_size=1,
        max_size=3,
    ),
    min_size=1,
    max_size=5,
)


def test_each_socket_gets_one_event_per_commit_with_each_record_once_and_latest(client, watched):
    coord, tasks, sockets = watched

    @settings(max_examples=8, suppress_health_check=list(HealthCheck))
    @given(pushes=moves, split=st.booleans())
    def check(pushes: list[list[tuple[int, int, bool]]], split: bool) -> None:
        for wanted in pushes:
            before = client.get(f"{PULL}?cursor=999999999", headers=bearer(coord)).get_json()
            changes = []
            for task, place, edit in wanted:
                compound, building = PLACES[place]
                fields = {"compound_id": compound, "building_id": building}
                if edit:
                    fields["notes"] = str(uuid.uuid4())
                changes.append(
                    {"type": "task", "id": tasks[task], "op": "update", "fields": fields}
                )
            push(client, coord, [[c] for c in changes] if split else [changes])
            for name, (token, socket) in sockets.items():
                events = [e["args"][0] for e in socket.get_received() if e["name"] == "changes"]
                assert len(events) <= 1, f"{name} got {len(events)} events for one commit"
                pulled = pulled_since(client, token, before["cursor"])
                records = events[0]["changes"] if events else []
                ids = [record["id"] for record in records]
                assert len(ids) == len(set(ids)), f"{name}: a record twice in one event: {ids}"
                for record in records:
                    assert same_state(record, pulled[record["id"]]), name
                live = {rid for rid, record in pulled.items() if not record["deleted"]}
                assert live <= set(ids), f"{name} missed {live - set(ids)}"

    check()


def test_a_task_moved_between_two_seen_compounds_reaches_their_coordinator_once(client, watched):
    # The example of issue 7, item 11.
    coord, tasks, sockets = watched
    move = {"compound_id": COMPOUND_B, "building_id": None}
    push(client, coord, [[{"type": "task", "id": tasks[0], "op": "update", "fields": move}]])
    for name in ("coord", "coord-ab", "medic"):
        (event,) = [
            e["args"][0] for e in sockets[name][1].get_received() if e["name"] == "changes"
        ]
        ((record),) = event["changes"]
        assert (record["id"], record["deleted"]) == (tasks[0], False), name
    (event,) = [e["args"][0] for e in sockets["vol-a"][1].get_received() if e["name"] == "changes"]
    assert [(r["id"], r["deleted"]) for r in event["changes"]] == [(tasks[0], True)]
