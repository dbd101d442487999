"""The audit trail: a change found by its text, with who, when and on which device."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    act,
    expect_synced,
    go,
    on_task,
    query,
    records_of_type,
    seeded_task_id,
)

pytestmark = pytest.mark.browser


def test_a_coordinator_finds_a_volunteers_note_in_the_audit_trail(
    device: Any, db_path: str
) -> None:
    volunteer = on_task(device, "vol-a", seeded_task_id("A", 5))
    act(volunteer, "Claim this task")
    act(volunteer, "Add note", "Gate code 4711", label="Note")
    expect_synced(volunteer)
    [(phone,)] = query(
        db_path,
        "SELECT device_name FROM device_token JOIN user_account u ON u.id = user_id "
        "WHERE u.username = 'vol-a'",
    )

    coordinator = on_task(device, "coord", seeded_task_id("A", 5))
    go(coordinator, "/")
    coordinator.get_by_role("link", name="Audit trail").click()
    coordinator.get_by_label("Text").fill("gate code 4711")
    coordinator.get_by_role("button", name="Search").click()
    entry = coordinator.locator("li.audit-entry")
    expect(entry).to_have_count(1)
    [task] = [
        t for t in records_of_type(db_path, "task") if t.get("notes") == "vol-a: Gate code 4711"
    ]
    expect(entry.get_by_role("heading")).to_have_text(f"Task: {task['title']}")
    expect(entry).to_contain_text("志愿者 A · ")
    expect(entry).to_contain_text(f"on {phone}")
    expect(entry.locator("dt:text-is('Notes') + dd")).to_have_text("vol-a: Gate code 4711")

    # Offline, the screen says the trail needs a connection instead of failing silently.
    coordinator.context.set_offline(True)
    coordinator.get_by_role("button", name="Search").click()
    expect(
        coordinator.get_by_text("No connection: the audit trail is kept on the server.")
    ).to_be_visible()
