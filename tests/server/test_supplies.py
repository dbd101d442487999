"""Orders over HTTP on the demo neighbourhood: proxy and hotline flows.

A volunteer orders for an elderly household (``proxy``), the team leader
takes a hotline call and confirms an order after phoning; whoever made a
rejected order gets the code and, in plain words, what is still available;
guards neither order nor receive orders.
"""

from __future__ import annotations

import pytest

from server import seed
from sync.supplies import delivery_task_id, order_id
from tests.helpers import bearer
from tests.server.test_sync_api import a_changeset, create, pull_all, push, update

ROUND = seed.stable_id("supply_round", 1)
VEG, PORK = seed.stable_id("package", 0), seed.stable_id("package", 1)
#: Inside the demo round's window (2022-04-03, 00:00 to 04:00 UTC).
IN_WINDOW = "2022-04-03T02:00:00.000Z"
AFTER_CUTOFF = "2022-04-03T04:30:00.000Z"


def household(number: int, room: str = "502") -> str:
    """Return the id of a demo household of compound A (building ``number``, unit 1)."""
    return seed.stable_id("household", "A", number, 1, room)


def an_order(household_id: str, channel: str, **lines: int) -> dict[str, object]:
    """Return the create of ``household_id``'s order in the demo round."""
    ids = {"veg": VEG, "pork": PORK}
    fields = {
        "supply_round_id": ROUND,
        "household_id": household_id,
        "channel": channel,
        "lines": [{"package_id": ids[name], "qty": qty} for name, qty in lines.items()],
    }
    return create("order", fields, order_id(ROUND, household_id))


def by_id(records: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    """Return pulled records by id."""
    return {record["id"]: record for record in records}


def first_change(reply: dict[str, object]) -> dict[str, object]:
    """Return the result of the first change of the first changeset."""
    results = reply["results"]
    assert isinstance(results, list)
    return results[0]["changes"][0]


def user_id(client, username: str) -> int:
    """Return a demo user's id, as the login answers it."""
    reply = client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": "demo-password-1", "device_name": "id"},
    )
    return int(reply.get_json()["user"]["id"])


def test_a_volunteer_orders_by_proxy_and_the_leader_confirms_after_phoning(client, token_for):
    volunteer, leader = token_for("vol-a"), token_for("leader-a")
    target = household(12)
    reply = push(
        client, volunteer, a_changeset(an_order(target, "proxy", veg=2), made_at=IN_WINDOW)
    )
    assert reply["results"][0]["status"] == "applied", reply
    version = first_change(reply)["version"]
    confirm = update("order", order_id(ROUND, target), version, status="confirmed", phoned=True)
    assert push(client, leader, a_changeset(confirm, made_at=AFTER_CUTOFF))["results"][0][
        "status"
    ] == ("applied")
    records = by_id(pull_all(client, leader)[0])
    order = records[order_id(ROUND, target)]["fields"]
    assert order["ordered_by"] == user_id(client, "vol-a")
    assert order["confirmed_by"] == user_id(client, "leader-a")
    assert (order["channel"], order["status"], order["phoned"]) == ("proxy", "confirmed", True)
    assert records[VEG]["fields"]["stock"] == 398


def test_the_leader_takes_a_hotline_order_and_the_volunteer_sees_it(client, token_for):
    leader, volunteer = token_for("leader-a"), token_for("vol-a")
    target = household(3, "101")
    call = an_order(target, "hotline", veg=1, pork=1)
    assert push(client, leader, a_changeset(call, made_at=IN_WINDOW))["results"][0]["status"] == (
        "applied"
    )
    order = by_id(pull_all(client, volunteer)[0])[order_id(ROUND, target)]["fields"]
    assert (order["channel"], order["ordered_by"]) == ("hotline", user_id(client, "leader-a"))


def test_a_rejected_order_says_why_and_what_is_left(client, token_for):
    volunteer = token_for("vol-a")
    big = an_order(household(1), "proxy", pork=99)
    takes = [an_order(household(n), "proxy", pork=99) for n in (2, 4)]
    push(client, volunteer, *(a_changeset(each, made_at=IN_WINDOW) for each in takes))
    reply = push(client, volunteer, a_changeset(big, made_at=IN_WINDOW))
    change = first_change(reply)
    assert change["status"] == "rejected"
    assert change["conflict"]["code"] == "out_of_stock"
    assert change["conflict"]["detail"] == "only 2 of 猪肉套餐 2kg left"
    late = push(
        client,
        volunteer,
        a_changeset(an_order(household(5), "proxy", veg=1), made_at=AFTER_CUTOFF),
    )
    conflict = first_change(late)["conflict"]
    assert conflict["code"] == "round_closed"
    assert "2022-04-03T04:00:00.000Z" in conflict["detail"]
    stock = by_id(pull_all(client, volunteer)[0])[PORK]["fields"]["stock"]
    assert stock == 2


def test_guards_neither_order_nor_receive_orders(client, token_for):
    guard, volunteer = token_for("guard-a"), token_for("vol-a")
    push(client, volunteer, a_changeset(an_order(household(7), "proxy", veg=1), made_at=IN_WINDOW))
    reply = push(client, guard, a_changeset(an_order(household(8), "proxy", veg=1)))
    assert first_change(reply)["conflict"]["code"] == "forbidden"
    types = {record["type"] for record in pull_all(client, guard)[0]}
    assert not types & {"order", "package", "supply_round", "restock"}


CHAIN_LIST = f"/api/v1/supplies/rounds/{ROUND}/chain_list"


def test_a_leader_imports_a_chain_list_and_confirms_it_as_orders(client, token_for):
    leader = token_for("leader-a")
    text = "#接龙 团购\n1. 12-1-502 蔬菜包×2\n2. 12号楼502 猪肉×1\n3. 3-2-101 鸡旦 两份 🙏\n"
    reply = client.post(CHAIN_LIST, json={"text": text}, headers=bearer(leader))
    assert reply.status_code == 200, reply.get_json()
    entries = reply.get_json()["entries"]
    assert [entry["ready"] for entry in entries] == [False, True, False, True]
    ambiguous = entries[2]
    assert ambiguous["problems"][0]["code"] == "ambiguous_address"
    labels = reply.get_json()["households"]
    assert [labels[c] for c in ambiguous["candidates"]] == [
        "12号楼 1单元 502室",
        "12号楼 2单元 502室",
        "12号楼 3单元 502室",
    ]
    eggs = seed.stable_id("package", 2)
    assert entries[3]["lines"] == [{"package_id": eggs, "qty": 2}]
    # The leader picks unit 3 for the ambiguous line and pushes them all.
    entries[2] |= {"household_id": ambiguous["candidates"][2], "ready": True}
    entries[2]["order_id"] = order_id(ROUND, entries[2]["household_id"])
    entries[2]["lines"] = [{"package_id": PORK, "qty": 1}]
    orders = [
        create(
            "order",
            {
                "supply_round_id": ROUND,
                "household_id": entry["household_id"],
                "channel": "resident",
                "lines": entry["lines"],
            },
            entry["order_id"],
        )
        for entry in entries
        if entry["ready"]
    ]
    result = push(client, leader, a_changeset(*orders, made_at=IN_WINDOW))
    assert result["results"][0]["status"] == "applied", result


def test_the_chain_list_is_for_leaders_and_coordinators_only(client, token_for):
    reply = client.post(
        CHAIN_LIST, json={"text": "1. 3-1-101 蔬菜包"}, headers=bearer(token_for("vol-a"))
    )
    assert reply.status_code == 403
    assert reply.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": 5}, {"text": "x" * 100_001}])
def test_a_bad_chain_list_body_is_problem_json(client, token_for, body):
    reply = client.post(CHAIN_LIST, json=body, headers=bearer(token_for("leader-a")))
    assert reply.status_code == 422
    assert reply.headers["Content-Type"] == "application/problem+json"


def test_a_round_out_of_scope_is_not_found(client, token_for):
    other = f"/api/v1/supplies/rounds/{seed.stable_id('supply_round', 99)}/chain_list"
    reply = client.post(other, json={"text": "1. x"}, headers=bearer(token_for("leader-a")))
    assert reply.status_code == 404


DELIVERIES = f"/api/v1/supplies/rounds/{ROUND}/deliveries"


def test_after_the_cutoff_each_unit_gets_a_delivery_task_whose_done_delivers(client, token_for):
    leader, volunteer = token_for("leader-a"), token_for("vol-a")
    targets = [household(9, "101"), household(9, "602")]
    orders = [an_order(target, "proxy", veg=1, pork=1) for target in targets]
    reply = push(client, volunteer, a_changeset(*orders, made_at=IN_WINDOW))
    confirms = [
        update(
            "order", order_id(ROUND, target), change["version"], status="confirmed", phoned=True
        )
        for target, change in zip(targets, reply["results"][0]["changes"], strict=True)
    ]
    push(client, leader, a_changeset(*confirms, made_at=AFTER_CUTOFF))
    made = client.post(DELIVERIES, headers=bearer(leader))
    assert made.status_code == 200, made.get_json()
    task_id = delivery_task_id(ROUND, seed.stable_id("building", "A", 9), "1")
    assert (made.get_json()["created"], made.get_json()["updated"]) == ([task_id], [])
    again = client.post(DELIVERIES, headers=bearer(leader)).get_json()
    assert (again["created"], again["updated"]) == ([], [])
    # The volunteer claims the unit's task, carries the goods and finishes with a proof.
    for status, extra in (("claimed", {}), ("in_progress", {}), ("done", {"proof": "门口签收"})):
        version = by_id(pull_all(client, volunteer)[0])[task_id]["version"]
        move = update("task", task_id, version, status=status, **extra)
        assert push(client, volunteer, a_changeset(move))["results"][0]["status"] == "applied"
    records = by_id(pull_all(client, leader)[0])
    # The packing notes reach the carers (volunteers), not the leader (task audiences).
    task = by_id(pull_all(client, volunteer)[0])[task_id]["fields"]
    assert (task["kind"], task["order_ids"]) == ("delivery", [order_id(ROUND, t) for t in targets])
    assert (
        task["notes"]
        == "101室：蔬菜包（8种）×1、猪肉套餐 2kg×1\n602室：蔬菜包（8种）×1、猪肉套餐 2kg×1"
    )
    assert [records[order_id(ROUND, t)]["fields"]["status"] for t in targets] == [
        "delivered",
        "delivered",
    ]


def test_delivery_tasks_wait_for_the_cutoff_and_are_the_organisers(client, token_for):
    today = f"/api/v1/supplies/rounds/{seed.stable_id('supply_round', 'today')}/deliveries"
    early = client.post(today, headers=bearer(token_for("leader-a")))
    assert early.status_code == 409
    assert early.headers["Content-Type"] == "application/problem+json"
    assert client.post(DELIVERIES, headers=bearer(token_for("vol-a"))).status_code == 403
    other = f"/api/v1/supplies/rounds/{seed.stable_id('supply_round', 99)}/deliveries"
    assert client.post(other, headers=bearer(token_for("coord"))).status_code == 404
