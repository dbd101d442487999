"""Two tabs of one device: a newer app upgrading the device store is never kept waiting
by an open tab of the older one, which stops and says so."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser

#: What a newer app's tab does first: open the device store at a later version.
OPEN_NEWER = """() => new Promise((resolve) => {
  const request = indexedDB.open('weiguang', 99);
  request.onblocked = () => resolve('blocked');
  request.onsuccess = () => { request.result.close(); resolve('opened'); };
  request.onerror = () => resolve(String(request.error));
})"""


def test_an_open_tab_closes_its_store_for_a_newer_app_and_says_so(device: Any) -> None:
    old_tab = device("phone")
    sign_in(old_tab, "vol-a")
    new_tab = old_tab.context.new_page()  # a second tab of the app on the same device
    new_tab.goto("/")
    assert new_tab.evaluate(OPEN_NEWER) == "opened"  # neither tab keeps it waiting
    expect(old_tab.get_by_role("alert")).to_contain_text("updated in another tab")
    expect(old_tab.get_by_role("button", name="Reload")).to_be_visible()
