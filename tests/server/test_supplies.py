"""Orders over HTTP on the demo neighbourhood: proxy and hotline flows.

A volunteer orders for an elderly household (``proxy``), the team leader
takes a hotline call and confirms an order after phoning; whoever made a
rejected order gets the code and, in plain words, what is still available;
guards neither order nor receive orders.
"""

from __future__ import annotations

from server import seed
from sync.supplies import order_id
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
