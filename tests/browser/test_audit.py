"""The audit trail: a change found by its text, with who, when and on which device."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    COMPOUND_A,
    act,
    api,
    expect_synced,
    go,
    on_task,
    push_as,
    query,
    records_of_type,
    seeded_task_id,
    server_record,
    sign_in,
    sign_out,
    token_of,
)
from tests.helpers import a_clinician_of

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


def test_what_a_search_found_stays_on_screen_when_the_screen_redraws(
    device: Any, served: Any, db_path: str
) -> None:
    """A live redraw (here: a new colleague in the directory) keeps the search and its results.

    They are kept for the user who searched: signed out, the device shows them to nobody else.
    """
    task_id = seeded_task_id("A", 5)
    before = server_record(db_path, task_id)["version"]
    note = {"notes": "Gate code 4711"}
    change = {"type": "task", "id": task_id, "op": "update", "base_version": before}
    assert push_as(served.url, "coord", {**change, "fields": note})["status"] == "applied"

    coordinator = device("coord")
    sign_in(coordinator, "coord")
    go(coordinator, "/audit")
    coordinator.get_by_label("Text").fill("gate code 4711")
    coordinator.get_by_role("button", name="Search").click()
    entry = coordinator.locator("li.audit-entry")
    expect(entry).to_have_count(1)

    # A new clinician, then a conflict (another install's older edit): the
    # conflict's live event makes the app read the directory again, and the
    # screen redraws.
    clinician = a_clinician_of(COMPOUND_A)
    api(served.url, "POST", "/users", token_of(served.url, "coord"), clinician)
    older = {**change, "fields": {"notes": "an older note"}}
    lost = push_as(served.url, "coord", older, made_at=datetime(2022, 4, 1, tzinfo=UTC))
    assert lost["changes"][0]["lost_fields"] == ["notes"]
    person = coordinator.get_by_label("Person")
    expect(person.locator("option", has_text=clinician["display_name"])).to_have_count(1)

    expect(entry).to_have_count(1)
    expect(entry.locator("dt:text-is('Notes') + dd")).to_have_text("Gate code 4711")
    expect(coordinator.get_by_label("Text")).to_have_value("gate code 4711")

    # Kept for the coordinator only: whoever signs in next on this device sees none of it.
    sign_out(coordinator)
    sign_in(coordinator, "vol-a")
    go(coordinator, "/audit")
    expect(coordinator.get_by_label("Text")).to_have_value("")
    expect(entry).to_have_count(0)
