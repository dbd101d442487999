"""Who receives what, over HTTP and Socket.IO: the declared audiences and sync policies.

The engine decides (``sync.visibility.view``); these tests check the pull
and the live rooms both go through it on the seeded demo.
"""

from __future__ import annotations

from server import seed
from server.extensions import socketio
from tests.helpers import sign_in
from tests.server.test_sync_api import a_changeset, create, pull_all, push, update

COMPOUND_A = seed.stable_id("compound", "A")
ROLES_OF = {
    "coord": "coordinator",
    "vol-a": "volunteer",
    "guard-a": "guard",
    "leader-a": "team_leader",
    "medic": "clinician",
}


def test_seeded_supplies_and_notices_reach_the_roles_that_need_them(client):
    expected = {
        "coord": {"supply_round", "package", "notice"},
        "vol-a": {"supply_round", "package", "notice"},
        "leader-a": {"supply_round", "package", "notice"},
        "guard-a": {"notice"},
        "medic": {"notice"},
    }
    for user, types in expected.items():
        records, _ = pull_all(client, sign_in(client, user))
        got = {r["type"] for r in records} & {"supply_round", "package", "notice"}
        assert got == types, user


def a_notice(**fields):
    return create(
        "notice",
        {"compound_ids": [COMPOUND_A], "title": {"zh-CN": "停水通知"}, "body": {"zh-CN": "明天"}}
        | fields,
    )


def received_ids(socket):
    """Return the ids of the records in the ``changes`` events a socket got since last asked."""
    return [
        record["id"]
        for event in socket.get_received()
        if event["name"] == "changes"
        for record in event["args"][0]["changes"]
    ]


def test_drafts_reach_coordinators_only_by_pull_and_live(app, client):
    tokens = {user: sign_in(client, user) for user in ROLES_OF}
    sockets = {
        user: socketio.test_client(app, flask_test_client=client, auth={"token": token})
        for user, token in tokens.items()
    }
    for socket in sockets.values():
        socket.get_received()
    draft = a_notice()
    result = push(client, tokens["coord"], a_changeset(draft))
    assert result["results"][0]["status"] == "applied", result
    for user, socket in sockets.items():
        live = received_ids(socket)
        pulled = [r["id"] for r in pull_all(client, tokens[user])[0]]
        sees = user == "coord"
        assert (draft["id"] in live) == sees, user
        assert (draft["id"] in pulled) == sees, user
    version = result["results"][0]["changes"][0]["version"]
    published = update("notice", draft["id"], version, published=True)
    push(client, tokens["coord"], a_changeset(published))
    for user, socket in sockets.items():
        live = received_ids(socket)
        assert draft["id"] in live, user
        socket.disconnect()


def test_a_package_stock_is_not_edited(client):
    coord = sign_in(client, "coord")
    package = seed.stable_id("package", 0)
    records, _ = pull_all(client, coord)
    version = next(r["version"] for r in records if r["id"] == package)
    result = push(client, coord, a_changeset(update("package", package, version, stock=1)))
    conflict = result["results"][0]["changes"][0]["conflict"]
    assert (conflict["code"], conflict["field"]) == ("forbidden", "stock")
