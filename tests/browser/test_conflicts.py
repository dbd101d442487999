"""Two devices edit one task offline; the one that syncs second sees what the server decided."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    act,
    cancel_task,
    claimed_then_offline,
    expect_pending,
    expect_synced,
    logged_result,
    on_task,
    outbox,
    records_of_type,
    seeded_task_id,
    server_record,
    status_bar,
    sync_badge,
    task_fact,
)

pytestmark = pytest.mark.browser


def sync_in_turn(first: Page, second: Page) -> None:
    """Bring ``first`` online and let it sync, then ``second``."""
    first.context.set_offline(False)
    expect_synced(first)
    second.context.set_offline(False)
    expect(status_bar(second)).to_contain_text("1 needs attention", timeout=SYNC_TIMEOUT_MS)
    expect_synced(second)


def test_a_claim_that_lost_to_a_cancel_is_rejected_with_the_servers_task(
    device: Any, db_path: str
) -> None:
    task = seeded_task_id("A", 2)
    volunteer = on_task(device, "vol-a", task)
    coordinator = on_task(device, "coord", task)
    volunteer.context.set_offline(True)
    coordinator.context.set_offline(True)
    act(volunteer, "Claim this task")
    expect(task_fact(volunteer, "Status")).to_have_text("Claimed")
    expect_pending(volunteer, 1)
    cancel_task(coordinator)
    expect_pending(coordinator, 1)
    [claim] = outbox(volunteer)

    sync_in_turn(coordinator, volunteer)

    # The task screen shows the server's task, marked as not accepted.
    expect(task_fact(volunteer, "Status")).to_have_text("Cancelled")
    expect(task_fact(volunteer, "Assignee")).to_have_text("Unassigned")
    expect(sync_badge(volunteer)).to_contain_text("Not accepted")
    volunteer.get_by_role("link", name="See why").click()
    expect(volunteer.get_by_role("heading", name="Needs attention")).to_be_visible()
    card = volunteer.get_by_role("listitem").filter(has_text="was not accepted")
    expect(card).to_contain_text(
        "On the server this task is “Cancelled”; from there it cannot become “Claimed”."
    )
    expect(card).to_contain_text("The server now has:")
    # "You tried to set" status claimed; "The server now has" status cancelled.
    expect(card.locator("dt:text-is('Status') + dd")).to_have_text(["Claimed", "Cancelled"])
    # Labels, names and values as a person reads them: no field names, ids or UUIDs.
    expect(card.locator("dt:text-is('Assignee') + dd")).to_have_text("You")
    expect(card).not_to_contain_text("assignee_id")
    expect(card).not_to_contain_text(task)
    # A claim of a cancelled task can never succeed: only keeping the server's version is offered.
    retry = card.get_by_role("button", name="Try again on top of the current version")
    expect(retry).to_have_count(0)
    expect(card.get_by_role("button", name="Keep the server’s version")).to_be_visible()

    fields = server_record(db_path, task)["fields"]
    assert fields["status"] == "cancelled"
    assert fields.get("assignee_id") is None
    result = logged_result(db_path, claim["id"])
    assert result["status"] == "rejected"
    assert result["changes"][0]["conflict"]["code"] == "stale_transition"


def test_a_note_that_lost_to_a_later_note_is_merged_and_shows_the_servers_notes(
    device: Any, db_path: str
) -> None:
    task = seeded_task_id("A", 3)
    volunteer, coordinator = claimed_then_offline(device, task)
    # The volunteer writes first, so the coordinator's note is the later edit.
    act(volunteer, "Add note", "Door code 1234", label="Note")
    expect_pending(volunteer, 1)
    act(coordinator, "Add note", "Moved to her daughter's, 12-3-502", label="Note")
    expect_pending(coordinator, 1)

    sync_in_turn(coordinator, volunteer)

    notes = volunteer.get_by_role("main").locator(".notes p")
    expect(notes).to_have_text("coord: Moved to her daughter's, 12-3-502")
    expect(sync_badge(volunteer)).to_have_count(0)
    expect(task_fact(volunteer, "Status")).to_have_text("Claimed")
    status_bar(volunteer).get_by_role("button", name="1 needs attention").click()
    card = volunteer.get_by_role("listitem").filter(has_text="was saved, but not all of it")
    expect(card).to_contain_text("their values were kept: Notes")
    expect(card.locator("dt:text-is('Notes') + dd")).to_have_text("vol-a: Door code 1234")

    fields = server_record(db_path, task)["fields"]
    assert fields["notes"] == "coord: Moved to her daughter's, 12-3-502"
    assert fields["status"] == "claimed"
    [conflict] = records_of_type(db_path, "conflict")
    assert conflict["record_id"] == task
    assert conflict["field"] == "notes"
    assert conflict["lost_value"] == "vol-a: Door code 1234"
    assert conflict["kept_value"] == fields["notes"]
