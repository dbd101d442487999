"""The coordinator's conflict inbox: a lost value shown side by side, restored in one tap."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    act,
    claimed_then_offline,
    expect_pending,
    expect_synced,
    go,
    logged_result,
    outbox,
    query,
    records_of_type,
    seeded_task_id,
    server_record,
    status_bar,
)

pytestmark = pytest.mark.browser


def test_a_coordinator_restores_the_value_that_lost_and_the_inbox_empties(
    device: Any, db_path: str
) -> None:
    task = seeded_task_id("A", 3)
    volunteer, coordinator = claimed_then_offline(device, task)
    # The volunteer writes first, so the coordinator's later note is kept.
    act(volunteer, "Add note", "Door code 1234", label="Note")
    expect_pending(volunteer, 1)
    act(coordinator, "Add note", "Moved to her daughter's", label="Note")
    expect_pending(coordinator, 1)
    coordinator.context.set_offline(False)
    expect_synced(coordinator)
    volunteer.context.set_offline(False)
    expect(status_bar(volunteer)).to_contain_text("1 needs attention", timeout=SYNC_TIMEOUT_MS)

    # The count on the home screen tile, then the inbox with both values side by side.
    go(coordinator, "/")
    tile = coordinator.get_by_role("link", name="Conflict inbox")
    expect(tile).to_contain_text("1 waiting", timeout=SYNC_TIMEOUT_MS)
    tile.click()
    card = coordinator.locator("li.conflict")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", level=3)).to_have_text("Notes")
    kept, lost = card.locator(".is-kept"), card.locator(".is-lost")
    expect(kept.locator(".conflict-value")).to_have_text("coord: Moved to her daughter's")
    expect(lost.locator(".conflict-value")).to_have_text("vol-a: Door code 1234")
    expect(kept).to_contain_text("You")
    expect(lost).to_contain_text("志愿者 A")
    # On which device: the names the devices signed in with, never an install id.
    [(phone,)] = query(
        db_path,
        "SELECT device_name FROM device_token JOIN user_account u ON u.id = user_id "
        "WHERE u.username = 'vol-a'",
    )
    expect(lost).to_contain_text(f"on {phone}")
    expect(card).not_to_contain_text("an unnamed device")
    [conflict] = records_of_type(db_path, "conflict")
    expect(card).not_to_contain_text(conflict["lost_device"])

    # Offline while it is read from the outbox: online, a push could take it
    # from there before the read (a race the test lost once pushes got faster).
    coordinator.context.set_offline(True)
    card.get_by_role("button", name="Restore this value").click()
    expect(coordinator.get_by_text("No conflicts are waiting.")).to_be_visible()
    [restore] = outbox(coordinator)
    coordinator.context.set_offline(False)
    expect_synced(coordinator)

    # One changeset: the task's notes and the conflict resolved.
    assert [change["type"] for change in restore["changes"]] == ["task", "conflict"]
    assert logged_result(db_path, restore["id"])["status"] == "applied"
    assert server_record(db_path, task)["fields"]["notes"] == "vol-a: Door code 1234"
    [conflict] = records_of_type(db_path, "conflict")
    assert conflict["resolved"] is True
    go(coordinator, "/")
    expect(coordinator.get_by_role("link", name="Conflict inbox")).not_to_contain_text("waiting")


def test_a_coordinator_keeps_the_current_value_offline_and_it_syncs_later(
    device: Any, db_path: str
) -> None:
    task = seeded_task_id("A", 4)
    volunteer, coordinator = claimed_then_offline(device, task)
    act(volunteer, "Add note", "Left at the door", label="Note")
    act(coordinator, "Add note", "Handed over in person", label="Note")
    coordinator.context.set_offline(False)
    expect_synced(coordinator)
    volunteer.context.set_offline(False)
    expect_synced(volunteer)

    go(coordinator, "/conflicts")
    expect(coordinator.locator("li.conflict")).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    coordinator.context.set_offline(True)
    coordinator.get_by_role("button", name="Keep the current value").click()
    expect(coordinator.get_by_text("No conflicts are waiting.")).to_be_visible()
    expect_pending(coordinator, 1)
    coordinator.context.set_offline(False)
    expect_synced(coordinator)

    assert server_record(db_path, task)["fields"]["notes"].endswith("Handed over in person")
    [conflict] = records_of_type(db_path, "conflict")
    assert conflict["resolved"] is True
