"""Medicine requests over HTTP and Socket.IO on the demo neighbourhood.

An urgent request reaches coordinators and clinicians live (the alert) and
never a team leader or a guard; the clinician's approval makes a medicine
task every volunteer of the compound can claim, carrying the drop point
only (contract, Privacy).
"""

from __future__ import annotations

from server import seed
from server.extensions import socketio
from sync.medicine import medicine_task_id
from tests.helpers import sign_in
from tests.server.test_audience import received_ids
from tests.server.test_sync_api import a_changeset, create, pull_all, push, update

HOUSEHOLD = seed.stable_id("household", "A", 12, 3, "502")
RESIDENT = seed.stable_id("resident", HOUSEHOLD, 0)
USERS = ("coord", "medic", "vol-a", "leader-a", "guard-a")


def test_an_urgent_request_alerts_coordinators_live_and_approval_makes_a_task(app, client):
    tokens = {user: sign_in(client, user) for user in USERS}
    sockets = {
        user: socketio.test_client(app, flask_test_client=client, auth={"token": token})
        for user, token in tokens.items()
    }
    for socket in sockets.values():
        socket.get_received()
    request = create(
        "med_request",
        {"resident_id": RESIDENT, "medicine": "胰岛素笔芯", "urgency": "urgent", "dose": "3支"},
    )
    reply = push(client, tokens["vol-a"], a_changeset(request))
    assert reply["results"][0]["status"] == "applied", reply
    # A live room stands for every volunteer of the compound, so a volunteer's
    # own requests reach them by pull only; coordinators and clinicians live.
    live = {user: request["id"] in received_ids(socket) for user, socket in sockets.items()}
    assert live == {
        "coord": True,
        "medic": True,
        "vol-a": False,
        "leader-a": False,
        "guard-a": False,
    }
    version = reply["results"][0]["changes"][0]["version"]
    approve = update("med_request", request["id"], version, status="approved")
    assert push(client, tokens["medic"], a_changeset(approve))["results"][0]["status"] == "applied"
    task_id = medicine_task_id(request["id"])
    for user in USERS:
        pulled = {record["id"]: record for record in pull_all(client, tokens[user])[0]}
        assert (request["id"] in pulled) == (user in {"coord", "medic", "vol-a"}), user
        task = pulled[task_id]["fields"]
        assert (task["kind"], task["priority"], task["household_id"]) == ("medicine", 1, HOUSEHOLD)
        assert "胰岛素" not in str(task), user
    for socket in sockets.values():
        socket.disconnect()
