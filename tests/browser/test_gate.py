"""The gate in Chromium: a guard with no network scans a printed pass, the device
decides, and the gate event reaches the server when the network is back."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from server.pass_sheets import qr_png
from sync.gate import policy_id
from tests.browser.helpers import (
    COMPOUND_A,
    SYNC_TIMEOUT_MS,
    expect_pending,
    expect_synced,
    go,
    landed,
    push_as,
    query,
    records_of_type,
    sign_in,
    sign_out,
    wait_for_service_worker,
)
from tests.browser.test_csp import RECORD_VIOLATIONS, violations
from tests.browser.test_layout import PHONE, SMALL_TARGETS, TARGETS

pytestmark = pytest.mark.browser


def a_demo_pass(db_path: str) -> dict[str, Any]:
    """Return the fields and id of a live demo pass of compound A."""
    rows = query(db_path, "SELECT id, fields FROM record WHERE type = 'gate_pass' LIMIT 50")
    for pass_id, fields in rows:
        values = json.loads(fields)
        if not values["revoked"] and values["compound_id"] == COMPOUND_A:
            return {"id": pass_id, **values}
    raise AssertionError("no demo pass")


def policy_version(db_path: str) -> int:
    return int(
        query(db_path, "SELECT version FROM record WHERE id = ?", policy_id(COMPOUND_A))[0][0]
    )


def a_guard_at_the_gate(device: Any) -> Any:
    """Return guard-a's page on the gate screen, the first sync done."""
    page = device("guard-a")
    sign_in(page, "guard-a")
    wait_for_service_worker(page)
    # The first sync redraws the screen; the guard starts once it is done.
    expect_synced(page)
    page.get_by_role("link", name="Gate").click()
    expect(page.get_by_role("heading", name="Gate")).to_be_visible()
    return page


def test_a_guard_scans_a_printed_pass_offline_and_the_event_syncs_later(
    device: Any, db_path: str
) -> None:
    demo = a_demo_pass(db_path)
    page = a_guard_at_the_gate(device)

    page.context.set_offline(True)
    page.get_by_role("button", name="Out", exact=True).click()
    page.get_by_label("Temperature (°C) (optional)").fill("36.6")
    page.locator("#gate-photo").set_input_files(
        files=[{"name": "pass.png", "mimeType": "image/png", "buffer": qr_png(demo["token"])}]
    )
    # Compound A is sealed: a resident does not leave. The first decode loads the
    # decoder, which a loaded machine may take a while over.
    decision = page.locator("#gate-decision")
    expect(decision).to_contain_text("DENY", timeout=SYNC_TIMEOUT_MS)
    expect(decision).to_contain_text("control level forbids")
    expect(decision).to_contain_text(demo["address"])
    expect_pending(page, 1)
    assert not [e for e in records_of_type(db_path, "gate_event")]

    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="In", exact=True).click()
    page.get_by_label("Pass code").fill(demo["token"])
    page.get_by_role("button", name="Check").click()
    expect(decision).to_contain_text("ALLOW")
    expect_pending(page, 2)

    page.context.set_offline(False)
    expect_synced(page, timeout=SYNC_TIMEOUT_MS)
    events = sorted(records_of_type(db_path, "gate_event"), key=lambda e: e["direction"])
    assert [(e["direction"], e["decision"], e["reason"]) for e in events] == [
        ("in", "allow", "allowed"),
        ("out", "deny", "tier_forbids"),
    ]
    version = policy_version(db_path)
    for event in events:
        assert event["pass_id"] == demo["id"] and event["pass_kind"] == "resident"
        assert event["policy_version"] == version and event["compound_id"] == COMPOUND_A
    assert events[1]["temperature_c"] == 36.6


def test_a_forged_pass_is_denied_and_a_damaged_one_found_by_address(
    device: Any, db_path: str
) -> None:
    demo = a_demo_pass(db_path)
    header, payload, signature = demo["token"].split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    page = a_guard_at_the_gate(device)
    page.context.set_offline(True)
    page.get_by_role("button", name="In", exact=True).click()
    page.get_by_label("Pass code").fill(forged)
    page.get_by_role("button", name="Check").click()
    decision = page.locator("#gate-decision")
    expect(decision).to_contain_text("DENY", timeout=SYNC_TIMEOUT_MS)
    expect(decision).to_contain_text("altered or forged")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Find by address").fill(demo["address"])
    page.get_by_role("button", name="Find").click()
    page.locator("#gate-found button").first.click()
    expect(decision).to_contain_text("ALLOW")


def test_the_last_decision_and_the_passes_found_are_gone_after_signing_out(
    device: Any, db_path: str
) -> None:
    """A gate device changes hands: the next user sees nothing of the last one's scans."""
    demo = a_demo_pass(db_path)
    page = a_guard_at_the_gate(device)
    page.get_by_role("button", name="In", exact=True).click()
    page.get_by_label("Pass code").fill(demo["token"])
    page.get_by_role("button", name="Check").click()
    decision = page.locator("#gate-decision")
    expect(decision).to_contain_text(demo["address"], timeout=SYNC_TIMEOUT_MS)
    expect_synced(page, timeout=SYNC_TIMEOUT_MS)  # nothing queued: signing out asks nothing

    sign_out(page)
    sign_in(page, "guard-a")
    go(page, "/gate")
    expect(page.get_by_label("Pass code")).to_be_visible()
    expect(decision).to_have_count(0)

    # What "Find by address" found is forgotten the same way.
    page.get_by_label("Find by address").fill(demo["address"])
    page.get_by_role("button", name="Find").click()
    found = page.locator("#gate-found button")
    expect(found.first).to_be_visible()
    sign_out(page)
    sign_in(page, "guard-a")
    go(page, "/gate")
    expect(page.get_by_label("Find by address")).to_have_value("")
    expect(found).to_have_count(0)


def test_the_gate_screens_run_under_the_policy_with_targets_a_thumb_can_hit(
    device: Any,
) -> None:
    found: list[str] = []
    for username, paths in (
        ("guard-a", ("/gate", "/gate/visitors")),
        ("coord", ("/gate/log", "/gate/print", "/gate/policy")),
    ):
        page = device(username, viewport=PHONE)
        page.context.add_init_script(RECORD_VIOLATIONS)
        console: list[str] = []
        page.on("console", lambda message, seen=console: seen.append(message.text))
        page.reload()
        sign_in(page, username)
        for path in paths:
            go(page, path)
            expect(page.locator("h1")).to_be_visible()
            assert page.evaluate(SMALL_TARGETS, TARGETS) == [], path
        found += violations(page, console)
    assert found == []


def test_a_coordinator_edits_the_policy_and_it_lands_as_a_new_version(
    device: Any, db_path: str
) -> None:
    before = policy_version(db_path)
    ((fields,),) = query(db_path, "SELECT fields FROM record WHERE id = ?", COMPOUND_A)
    page = device("coord")
    sign_in(page, "coord")
    go(page, "/gate/policy")
    form = page.get_by_role("form", name=json.loads(fields)["name"])
    form.get_by_label("Exit window closes").fill("25:00")
    form.get_by_role("button", name="Save policy").click()
    expect(form.get_by_role("alert")).to_contain_text("Exit window closes")
    form.get_by_label("Exit window closes").fill("17:30")
    form.get_by_label("Fever threshold (°C)").fill("37.5")
    form.get_by_role("button", name="Save policy").click()
    landed(page, db_path, policy_id(COMPOUND_A), window_closes="17:30", fever_threshold_c=37.5)
    assert policy_version(db_path) > before


def test_the_coordinator_sees_a_guards_scans_and_a_fever_alert_live(
    device: Any, served: Any
) -> None:
    page = device("coord")
    sign_in(page, "coord")
    go(page, "/gate/log")
    expect(page.locator("h1")).to_be_visible()
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    event = {
        "compound_id": COMPOUND_A,
        "post": "东门 East",
        "direction": "in",
        "decision": "allow",
        "pass_kind": "resident",
        "policy_version": 1,
        "temperature_c": 39.2,
        "scanned_at": now,
    }
    change = {"type": "gate_event", "id": str(uuid.uuid4()), "op": "create", "fields": event}
    result = push_as(served.url, "guard-a", change)
    assert result["status"] == "applied", result
    # No reload: the scan and the alert the server raised arrive over the socket.
    expect(page.locator("#gate-latest")).to_contain_text("东门 East", timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#gate-alerts")).to_contain_text("Fever", timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#gate-alerts")).to_contain_text("39.2")
