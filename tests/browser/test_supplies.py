"""Group buying and medicine in the browser: vol-a orders for a household offline, the
order lands or is refused with a clear reason on sync; leader-a confirms after phoning,
imports a chain list and prints a picking list; medic triages a request."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from server.seed import stable_id
from sync.medicine import MED_REQUEST
from sync.supplies import delivery_task_id, order_id
from sync.times import format_datetime
from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    act,
    api,
    expect_pending,
    expect_synced,
    go,
    landed,
    open_task,
    push_as,
    query,
    sign_in,
    status_bar,
    stored_token,
    token_of,
    user_id,
)
from tests.browser.test_layout import PHONE, SMALL_TARGETS, TARGETS

pytestmark = pytest.mark.browser

ROUND = stable_id("supply_round", "today")
INFANT = stable_id("package", "today", 3)  # 婴幼儿包: 40 in stock, at most 3 a household


def household(building: int, unit: int, room: str) -> str:
    """Return a demo household of compound A."""
    return stable_id("household", "A", building, unit, room)


def order_offline(page: Page, building: str, unit: str, room: str, package: str, qty: int) -> None:
    """As a signed-in volunteer, offline: order ``qty`` of ``package`` for a household."""
    page.context.set_offline(True)
    expect(status_bar(page)).to_contain_text("Offline", timeout=UI_TIMEOUT_MS)
    go(page, "/orders")
    page.get_by_role("link", name=re.compile("^Order in ")).click()
    page.get_by_label("Building").select_option(label=building)
    page.get_by_label("Unit (stairwell)").select_option(label=f"Unit {unit}")
    page.get_by_label("Household").select_option(label=f"Room {room}")
    page.get_by_label(re.compile(f"^{package} ·")).fill(str(qty))
    page.get_by_role("button", name="Place the order").click()
    expect(page.get_by_role("heading", name="Supply orders")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect_pending(page, 1)


def take_stock(base_url: str, token: str, db_path: str, left: int) -> None:
    """Have the leader take hotline orders until ``left`` infant packages remain."""
    stock = json.loads(query(db_path, "SELECT fields FROM record WHERE id = ?", INFANT)[0][0])[
        "stock"
    ]
    quantities = [2] * ((stock - left) // 2) + [1] * ((stock - left) % 2)
    homes = [
        household(10, unit, f"{floor}0{flat}")
        for unit in (1, 2, 3)
        for floor in range(1, 7)
        for flat in (1, 2)
    ]
    changes = [
        {
            "type": "order",
            "id": order_id(ROUND, home),
            "op": "create",
            "fields": {
                "supply_round_id": ROUND,
                "household_id": home,
                "channel": "hotline",
                "lines": [{"package_id": INFANT, "qty": qty}],
            },
        }
        for home, qty in zip(homes, quantities, strict=False)
    ]
    made_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = {
        "client_id": str(uuid.uuid4()),
        "changesets": [{"id": str(uuid.uuid4()), "made_at": made_at, "changes": changes}],
    }
    reply = api(base_url, "POST", "/sync/push", token, body)
    assert reply["results"][0]["status"] == "applied", reply


def test_a_proxy_order_made_offline_lands_on_sync(device: Any, db_path: str) -> None:
    page = device("vol-a")
    sign_in(page, "vol-a")
    order_offline(page, "4号楼", "2", "301", "蔬菜包", 2)
    page.context.set_offline(False)
    expect_synced(page)
    order = landed(page, db_path, order_id(ROUND, household(4, 2, "301")), status="placed")
    assert (order["channel"], order["ordered_by"]) == ("proxy", user_id(db_path, "vol-a"))
    expect(page.locator("#orders")).to_contain_text("4号楼 2单元 301室", timeout=UI_TIMEOUT_MS)


def test_a_proxy_order_made_offline_is_refused_with_what_is_left(
    device: Any, served: Any, db_path: str
) -> None:
    page = device("vol-a")
    sign_in(page, "vol-a")
    order_offline(page, "5号楼", "1", "202", "婴幼儿包", 3)
    # While the volunteer is in the stairwell, the hotline takes all but one.
    leader = device("leader-a")
    sign_in(leader, "leader-a")
    take_stock(served.url, stored_token(leader), db_path, left=1)
    page.context.set_offline(False)
    refused = page.locator("#refused")
    expect(refused).to_contain_text("Sold out.", timeout=SYNC_TIMEOUT_MS)
    # The stock the refusal names arrives with the pull after the push.
    expect(refused).to_contain_text(
        "Still available: 婴幼儿包: 1 left (you asked for 3).", timeout=SYNC_TIMEOUT_MS
    )
    expect(refused).to_contain_text("5号楼 1单元 202室", timeout=UI_TIMEOUT_MS)


def open_round(page: Page) -> None:
    """From home, open the demo's round that is taking orders."""
    go(page, "/supplies")
    page.locator("#rounds").get_by_role("link", name=re.compile("今日团购")).click()
    expect(page.locator("#packages")).to_contain_text("婴幼儿包", timeout=UI_TIMEOUT_MS)


def test_the_leader_confirms_an_order_after_phoning(device: Any, db_path: str) -> None:
    page = device("leader-a")
    sign_in(page, "leader-a")
    open_round(page)
    card = page.locator(".order", has_text="1号楼 2单元 502室")
    card.get_by_label("Phoned to confirm").check()
    card.get_by_role("button", name="Confirm").click()
    expect(card).to_contain_text("confirmed by phone", timeout=UI_TIMEOUT_MS)
    order = landed(page, db_path, order_id(ROUND, household(1, 2, "502")), status="confirmed")
    assert (order["phoned"], order["confirmed_by"]) == (True, user_id(db_path, "leader-a"))


def test_the_leader_imports_a_chain_list_fixing_and_skipping_lines(
    device: Any, db_path: str
) -> None:
    page = device("leader-a")
    sign_in(page, "leader-a")
    open_round(page)
    page.get_by_role("link", name="Import a chain list").click()
    page.get_by_label(re.compile("^The chain list")).fill(
        "#接龙 今日团购\n1. 6-1-101 蔬菜包×2\n2. 6号楼102 肉蛋包×1 🙏\n3. 6-2-201 奶粉×1\n"
    )
    page.get_by_role("button", name="Read the list").click()
    expect(page.locator("#chain-summary")).to_contain_text(
        "4 lines: 1 to order, 2 need you.", timeout=UI_TIMEOUT_MS
    )
    page.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(page.locator("#chain-status")).to_contain_text(
        "2 lines still need you.", timeout=UI_TIMEOUT_MS
    )
    ambiguous = page.locator(".chain-entry[data-line='3']")
    expect(ambiguous).to_contain_text("could be several households", timeout=UI_TIMEOUT_MS)
    ambiguous.get_by_label("Which household?").select_option(label="6号楼 2单元 102室")
    unknown = page.locator(".chain-entry[data-line='4']")
    expect(unknown).to_contain_text("No package like “奶粉”.", timeout=UI_TIMEOUT_MS)
    unknown.get_by_role("button", name="Skip this line").click()
    page.get_by_role("button", name="Confirm 2 orders").click()
    first = landed(page, db_path, order_id(ROUND, household(6, 1, "101")))
    second = landed(page, db_path, order_id(ROUND, household(6, 2, "102")))
    assert (first["channel"], [line["qty"] for line in first["lines"]]) == ("resident", [2])
    assert second["lines"] == [{"package_id": stable_id("package", "today", 1), "qty": 1}]


def test_the_picking_list_prints_one_building_a_page_without_the_app_around_it(
    device: Any,
) -> None:
    page = device("leader-a")
    sign_in(page, "leader-a")
    open_round(page)
    page.get_by_role("link", name="Picking list").click()
    # The seeded confirmed orders: 1号楼 1单元 101 and 302, 2号楼 3单元 602.
    buildings = page.locator(".picking-building")
    expect(buildings).to_have_count(2, timeout=UI_TIMEOUT_MS)
    expect(buildings.first).to_contain_text("302", timeout=UI_TIMEOUT_MS)
    expect(page.locator("#picking-totals")).to_contain_text("蔬菜包", timeout=UI_TIMEOUT_MS)
    # The same list as a file: this round's picking_list export.
    with (
        page.expect_request(lambda r: "/exports/picking_list.csv" in r.url) as asked,
        page.expect_download() as waiting,
    ):
        page.get_by_role("button", name="CSV (plain text)").click()
    assert f"supply_round_id={ROUND}" in asked.value.url
    rows = Path(waiting.value.path()).read_text(encoding="utf-8-sig").splitlines()[1:]
    seeded = {household(1, 1, "101"), household(1, 1, "302"), household(2, 3, "602")}
    assert {row.split(",")[0] for row in rows} == seeded
    expect(page.locator("#picking-status")).to_have_text("Done: the file is in your downloads.")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(buildings.first).to_be_visible(timeout=UI_TIMEOUT_MS)
    assert buildings.first.evaluate("e => getComputedStyle(e).breakAfter") == "page"
    assert len(page.pdf()) > 1000  # Chromium prints it


def test_the_leader_opens_a_round_lists_a_package_and_restocks_it(
    device: Any, db_path: str
) -> None:
    page = device("leader-a")
    sign_in(page, "leader-a")
    go(page, "/supplies")
    page.get_by_role("link", name="Open a round").click()
    page.get_by_label("Title (optional)").fill("周末团购")
    page.get_by_label("陇南一村（A）").check()
    page.locator("#new-round").get_by_role("button", name="Open a round").click()
    expect(page.get_by_role("heading", name="周末团购")).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.get_by_label("Name", exact=True).fill("周末蔬菜包")
    page.get_by_label("Price (yuan)").fill("39.9")
    page.get_by_label("In stock", exact=True).fill("50")
    page.locator("#new-package").get_by_role("button", name="Add a package").click()
    row = page.locator("#packages tr", has_text="周末蔬菜包")
    expect(row).to_contain_text("50", timeout=UI_TIMEOUT_MS)
    row.get_by_label("周末蔬菜包 · Quantity").fill("10")
    row.get_by_role("button", name="Restock").click()
    round_id = page.url.rsplit("/", 1)[1]
    package_id = row.get_attribute("data-package")
    assert package_id is not None
    round_ = landed(page, db_path, round_id, title="周末团购")
    assert round_["leader_id"] == user_id(db_path, "leader-a")
    package = landed(page, db_path, package_id, stock=60)
    assert (package["supply_round_id"], package["price_cents"]) == (round_id, 3990)
    expect(row.locator(".stock")).to_have_text("60", timeout=SYNC_TIMEOUT_MS)


def test_a_volunteer_carries_a_delivery_and_its_proof_delivers_the_order(
    device: Any, served: Any, db_path: str
) -> None:
    now = datetime.now(UTC)
    round_id, package_id = str(uuid.uuid4()), str(uuid.uuid4())
    times = {"opens_at": -2, "cutoff_at": -1, "delivers_at": 1}
    round_fields: dict[str, Any] = {
        name: format_datetime(now + timedelta(hours=hours)) for name, hours in times.items()
    }
    round_fields["compound_ids"] = [stable_id("compound", "A")]
    package = {"supply_round_id": round_id, "name": "晚班蔬菜包", "price_cents": 3900, "stock": 9}
    for change in (
        {"type": "supply_round", "id": round_id, "op": "create", "fields": round_fields},
        {"type": "package", "id": package_id, "op": "create", "fields": package},
    ):
        assert push_as(served.url, "leader-a", change)["status"] == "applied"
    home = household(9, 1, "101")
    order = {
        "supply_round_id": round_id,
        "household_id": home,
        "channel": "proxy",
        "lines": [{"package_id": package_id, "qty": 2}],
    }
    order_change = {"type": "order", "id": order_id(round_id, home), "op": "create"}
    placed = push_as(
        served.url, "vol-a", {**order_change, "fields": order}, now - timedelta(minutes=90)
    )
    assert placed["status"] == "applied", placed
    confirm = {
        "type": "order",
        "id": order_id(round_id, home),
        "op": "update",
        "base_version": placed["changes"][0]["version"],
        "fields": {"status": "confirmed", "phoned": True},
    }
    assert push_as(served.url, "leader-a", confirm)["status"] == "applied"
    # The serving process makes it within a minute; the leader need not wait.
    token = token_of(served.url, "leader-a")
    made = api(served.url, "POST", f"/supplies/rounds/{round_id}/deliveries", token)
    task_id = delivery_task_id(round_id, stable_id("building", "A", 9), "1")
    assert made["created"] == [task_id]
    page = device("vol-a")
    sign_in(page, "vol-a")
    open_task(page, task_id)
    expect(page.get_by_role("main")).to_contain_text("101室：晚班蔬菜包×2", timeout=UI_TIMEOUT_MS)
    for action in ("Claim this task", "Start"):
        act(page, action)
        expect_synced(page)
    proof = "Proof: the recipient’s code or a short note"
    act(page, "Mark done", "门口签收", label=proof)
    landed(page, db_path, order_id(round_id, home), status="delivered")


def test_the_clinician_triages_the_most_urgent_request_first(device: Any, db_path: str) -> None:
    page = device("medic")
    sign_in(page, "medic")
    page.get_by_role("link", name="Medicine requests").click()
    waiting = page.locator("#med-waiting li")
    expect(waiting.first).to_contain_text("胰岛素笔芯", timeout=UI_TIMEOUT_MS)
    expect(waiting.first).to_contain_text("Urgent", timeout=UI_TIMEOUT_MS)
    waiting.first.get_by_role("link").click()
    expect(page.locator("#med-facts")).to_contain_text("每日 3 次", timeout=UI_TIMEOUT_MS)
    expect(page.locator("#med-facts")).to_contain_text("3号楼 1单元 101室")  # the drop point
    page.get_by_role("button", name="Approve").click()
    request_id = stable_id("med_request", stable_id("resident", household(3, 1, "101"), 0))
    landed(page, db_path, request_id, status="approved")
    expect(page.get_by_role("link", name="Open the delivery task")).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )


def urgent_open(db_path: str) -> int:
    """Count the urgent medicine requests not at a final state, in the server's database."""
    final = MED_REQUEST.state_machine.final if MED_REQUEST.state_machine else frozenset()
    rows = query(db_path, "SELECT fields FROM record WHERE type = 'med_request' AND NOT deleted")
    requests = [json.loads(fields) for (fields,) in rows]
    return sum(1 for r in requests if r["urgency"] == "urgent" and r["status"] not in final)


def test_an_urgent_medicine_request_alerts_the_coordinator_live(
    device: Any, served: Any, db_path: str
) -> None:
    page = device("coord")
    sign_in(page, "coord")
    before = urgent_open(db_path)
    alert = page.get_by_role("alert").filter(has_text="urgent medicine request")
    if before:
        expect(alert).to_contain_text(f"{before} urgent medicine", timeout=SYNC_TIMEOUT_MS)
    resident = stable_id("resident", household(5, 2, "301"), 0)
    request = {"resident_id": resident, "medicine": "硝酸甘油片", "urgency": "urgent"}
    change = {"type": "med_request", "id": str(uuid.uuid4()), "op": "create", "fields": request}
    result = push_as(served.url, "vol-a", change)
    assert result["status"] == "applied", result
    assert urgent_open(db_path) == before + 1
    # Live: no reload, no sign-in again.
    expect(alert).to_contain_text(f"{before + 1} urgent medicine", timeout=SYNC_TIMEOUT_MS)
    expect(alert.get_by_role("link", name="硝酸甘油片 · 5号楼 2单元 301室")).to_be_visible()


def test_every_supplies_and_medicine_target_is_at_least_44_px(device: Any) -> None:
    page = device("phone", viewport=PHONE)
    sign_in(page, "coord")
    request_id = stable_id("med_request", stable_id("resident", household(3, 1, "101"), 0))
    base = f"/supplies/{ROUND}"
    for path in [
        "/supplies",
        "/supplies/new",
        base,
        f"{base}/order",
        f"{base}/chain",
        f"{base}/picking",
        "/orders",
        "/med",
        f"/med/{request_id}",
    ]:
        go(page, path)
        expect(page.locator("h1")).to_be_visible(timeout=UI_TIMEOUT_MS)
        expect(page.locator("main")).not_to_contain_text("not on this device")
        assert page.evaluate(SMALL_TARGETS, TARGETS) == [], path
