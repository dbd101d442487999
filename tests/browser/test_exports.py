"""The export screen: a coordinator saves a CSV with its progress; a team leader, theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import go, sign_in, task_count

pytestmark = pytest.mark.browser


def test_a_coordinator_exports_tasks_as_csv_with_progress(device: Any, db_path: str) -> None:
    page = device("office")
    sign_in(page, "coord")
    go(page, "/exports")
    page.get_by_label("Data").select_option("tasks")
    page.get_by_label("File type").select_option("csv")
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Export").click()
    saved = Path(waiting.value.path()).read_bytes()
    assert saved.startswith(b"\xef\xbb\xbfid,kind,title,status")
    assert saved.count(b"\r\n") == task_count(db_path) + 1
    expect(page.locator("#export-status")).to_have_text("Done: the file is in your downloads.")
    assert page.locator("#export-progress").evaluate("bar => bar.value") == 1


def test_a_team_leader_may_export_orders_and_picking_lists_only(device: Any) -> None:
    page = device("leader")
    sign_in(page, "leader-a")
    go(page, "/exports")
    # The screen fills its list after navigation: wait for it before reading it.
    offered = page.locator("#export-dataset option")
    expect(offered).to_have_count(2)
    assert offered.evaluate_all("all => all.map(o => o.value)") == ["orders", "picking_list"]
