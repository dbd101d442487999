"""A token revoked while the device was offline: sign in again, and the outbox syncs."""

from __future__ import annotations

import urllib.error
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    act,
    api,
    expect_pending,
    expect_synced,
    logged_changesets,
    open_task,
    outbox,
    seeded_task_id,
    server_record,
    sign_in,
    status_bar,
    stored_token,
    task_fact,
)
from tests.helpers import DEMO_PASSWORD
from tests.servers import ServedApp

pytestmark = pytest.mark.browser


def test_token_revoked_offline_asks_to_sign_in_then_the_outbox_syncs(
    device: Any, served: ServedApp, db_path: str
) -> None:
    task = seeded_task_id("A", 6)
    page = device("vol-a")
    sign_in(page, "vol-a")
    open_task(page, task)
    page.context.set_offline(True)
    act(page, "Claim this task")
    expect_pending(page, 1)
    [claim] = outbox(page)
    revoked = stored_token(page)
    # Revoked elsewhere (a lost phone reported, say) while this device has no signal.
    api(served.url, "POST", "/auth/logout", revoked)

    page.context.set_offline(False)

    bar = status_bar(page)
    expect(bar).to_contain_text("Signed out: changes are kept", timeout=SYNC_TIMEOUT_MS)
    expect(page.get_by_text("Your sign-in has expired.")).to_be_visible()
    expect_pending(page, 1)
    assert logged_changesets(db_path) == []
    bar.get_by_role("button", name="Sign in again").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("vol-a")
    expect(page.get_by_text("1 change by vol-a is kept on this device")).to_be_visible()
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("heading", name="Hello, 志愿者 A")).to_be_visible()
    expect_synced(page)
    assert outbox(page) == []
    assert logged_changesets(db_path) == [claim["id"]]
    assert server_record(db_path, task)["fields"]["status"] == "claimed"
    assert stored_token(page) != revoked
    with pytest.raises(urllib.error.HTTPError) as refused:
        api(served.url, "GET", "/sync/pull", revoked)
    with refused.value:  # the error holds the connection open until closed
        assert refused.value.code == 401
    open_task(page, task)
    expect(task_fact(page, "Assignee")).to_have_text("Assigned to you")
