"""A new device is not a wiped one: the warning comes only when changes were really lost."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    act,
    expect_pending,
    expect_synced,
    on_task,
    seeded_task_id,
    server_record,
    sign_in,
    submit_sign_in,
)

pytestmark = pytest.mark.browser

WARNING = "This device’s data was cleared"


NOTHING_UNSYNCED = """() => Object.values(
  JSON.parse(localStorage.getItem('weiguang.device') || '{}'),
).every(mark => mark.unsynced === 0)"""


def wipe_store(page: Page) -> None:
    """Clear the device's IndexedDB only, as a browser evicting it does, and reload the app."""
    origin = page.evaluate("location.origin")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "indexeddb"})
    cdp.detach()
    page.goto("/")


def a_synced_claim(device: Any, db_path: str) -> Page:
    """Return a volunteer's phone that claimed a task and synced the claim."""
    task = seeded_task_id("A", 3)
    phone = on_task(device, "vol-a", task, "phone")
    act(phone, "Claim this task")
    expect_synced(phone)
    for _ in range(300):  # the server has the claim: the device marked it queued before
        if server_record(db_path, task)["fields"].get("assignee_id"):
            break
        phone.wait_for_timeout(100)
    phone.wait_for_function(NOTHING_UNSYNCED)  # and then marked nothing left
    return phone


def test_a_new_device_of_a_user_who_synced_elsewhere_is_not_warned(
    device: Any, db_path: str
) -> None:
    a_synced_claim(device, db_path)
    new_phone = device("new phone")
    sign_in(new_phone, "vol-a")
    expect(new_phone.get_by_text(WARNING)).to_have_count(0)
    expect(new_phone.get_by_role("status")).not_to_contain_text("attention")


def test_a_wiped_device_that_held_unsynced_changes_says_how_many_were_lost(device: Any) -> None:
    phone = on_task(device, "vol-a", seeded_task_id("A", 3), "phone")
    phone.context.set_offline(True)
    act(phone, "Claim this task")
    expect_pending(phone, 1)
    phone.context.set_offline(False)
    phone.route("**/api/v1/sync/push", lambda route: route.abort())  # it never reaches the server
    wipe_store(phone)
    phone.unroute("**/api/v1/sync/push")
    submit_sign_in(phone, "vol-a")
    expect(phone.get_by_text(WARNING)).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    expect(
        phone.get_by_text("held 1 change of yours that had not reached the server")
    ).to_be_visible()


def test_a_wiped_device_that_had_synced_everything_is_not_warned(
    device: Any, db_path: str
) -> None:
    phone = a_synced_claim(device, db_path)
    wipe_store(phone)
    sign_in(phone, "vol-a")
    expect(phone.get_by_text(WARNING)).to_have_count(0)
