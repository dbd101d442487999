"""Break the glass in Chromium: the grant's compound comes onto the device and leaves it.

A clinician of compound A opens compound B (``POST /api/v1/break-glass``);
the app pulls B's records, older than its cursor. At the grant's expiry the
device, offline, drops them by its own clock (the browser's clock is moved
forward instead of waiting); back online, with the grant ended on the
server too (its time moved back in the server's database, as if the hour
had passed there), it holds compound A's records again and none of B's, and
the attention screen says whose access ended.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from server.seed import stable_id
from tests.browser.helpers import (
    COMPOUND_A,
    SYNC_TIMEOUT_MS,
    api,
    db_path_of,
    expect_synced,
    go,
    open_task,
    sign_in,
    stored_token,
)
from tests.helpers import DEMO_PASSWORD

pytestmark = pytest.mark.browser

COMPOUND_B = stable_id("compound", "B")
TASK_A = stable_id("task", "A", 0)
TASK_B = stable_id("task", "B", 0)
REASON = "夜间急诊：B区3号楼老人胸痛"

HOLDS = """([type, id]) => new Promise((resolve, reject) => {
  const open = indexedDB.open('weiguang');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const request = db.transaction('records').objectStore('records').get([type, id]);
    request.onerror = () => reject(request.error);
    request.onsuccess = () => { db.close(); resolve(Boolean(request.result)); };
  };
})"""

COUNT_OF_B = """(compound) => new Promise((resolve, reject) => {
  const open = indexedDB.open('weiguang');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const request = db.transaction('records').objectStore('records').getAll();
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      db.close();
      const inB = (r) => r.id === compound || r.fields?.compound_id === compound;
      resolve(request.result.filter(inB).length);
    };
  };
})"""


def holds(page: Page, record_type: str, record_id: str) -> bool:
    return bool(page.evaluate(HOLDS, [record_type, record_id]))


def records_of_b(page: Page) -> int:
    return int(page.evaluate(COUNT_OF_B, COMPOUND_B))


def wait_until_held(page: Page, record_type: str, record_id: str, held: bool) -> None:
    page.wait_for_function(
        f"async (key) => ({HOLDS})(key).then((held) => held === {str(held).lower()})",
        arg=[record_type, record_id],
        timeout=SYNC_TIMEOUT_MS,
        polling=250,
    )


def a_clinician_of_compound_a(base_url: str) -> None:
    login = {"username": "coord", "password": DEMO_PASSWORD, "device_name": "pytest"}
    coord = api(base_url, "POST", "/auth/login", "", login)["token"]
    api(
        base_url,
        "POST",
        "/users",
        coord,
        {
            "username": "medic-a",
            "display_name": "A区医生",
            "role": "clinician",
            "scope_kind": "compounds",
            "scope_ids": [COMPOUND_A],
            "password": DEMO_PASSWORD,
        },
    )


def end_on_the_server(db_path: str, grant_id: int) -> None:
    """Move the grant two hours back in the server's database: it has ended there too."""
    import sqlite3

    connection = sqlite3.connect(db_path, timeout=10)
    try:
        with connection:
            connection.execute(
                "UPDATE audit_entry SET at = datetime(at, '-2 hours') WHERE id = ?", (grant_id,)
            )
    finally:
        connection.close()


def test_a_grant_brings_compound_b_onto_the_device_and_its_end_takes_it_off(
    device: Any, served: Any, sqlite_url: str
) -> None:
    a_clinician_of_compound_a(served.url)
    page = device("clinician")
    page.clock.install()  # the device's clock, moved forward below
    page.reload()
    sign_in(page, "medic-a")
    assert holds(page, "task", TASK_A)
    assert records_of_b(page) == 0

    grant = api(
        served.url,
        "POST",
        "/break-glass",
        stored_token(page),
        {"compound_id": COMPOUND_B, "reason": REASON, "minutes": 60},
    )
    page.reload()  # the app opened again: its next sync names the grant
    expect_synced(page)
    wait_until_held(page, "task", TASK_B, True)
    open_task(page, TASK_B)  # shown
    assert records_of_b(page) > 1

    # Offline at the expiry: the device drops B's records by its own clock.
    page.context.set_offline(True)
    page.clock.fast_forward("01:01:00")
    wait_until_held(page, "task", TASK_B, False)
    assert records_of_b(page) == 0
    expect(page.locator("h1")).to_have_text("Task not found")

    # Online again, the grant ended on the server too: A's records come back, B's do not.
    end_on_the_server(db_path_of(sqlite_url), grant["id"])
    page.context.set_offline(False)
    wait_until_held(page, "task", TASK_A, True)
    expect_synced(page)
    assert records_of_b(page) == 0
    assert not holds(page, "task", TASK_B)
    go(page, "/attention")
    expect(page.get_by_text("Temporary access to")).to_be_visible()
    expect(page.get_by_text("has ended")).to_be_visible()
