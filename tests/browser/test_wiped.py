"""A device whose store was cleared is told so plainly after signing in."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    act,
    expect_synced,
    open_task,
    seeded_task_id,
    sign_in,
)
from tests.helpers import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_a_cleared_device_hears_what_the_server_last_got_from_its_user(device: Any) -> None:
    phone = device("phone")
    sign_in(phone, "vol-a")
    open_task(phone, seeded_task_id("A", 3))
    act(phone, "Claim this task")
    expect_synced(phone)
    # A new browser context has an empty IndexedDB, as a phone whose site data was cleared.
    cleared = device("cleared phone")
    cleared.get_by_label("Username").fill("vol-a")
    cleared.get_by_label("Password").fill(DEMO_PASSWORD)
    cleared.get_by_role("button", name="Sign in", exact=True).click()
    expect(cleared.get_by_text("This device’s data was cleared")).to_be_visible(
        timeout=SYNC_TIMEOUT_MS
    )


def test_a_user_who_never_synced_is_not_warned(device: Any) -> None:
    first = device("first phone")
    sign_in(first, "vol-b")
    expect(first.get_by_text("This device’s data was cleared")).to_have_count(0)
