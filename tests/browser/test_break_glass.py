"""Break the glass in Chromium: the grant's compound comes onto the device and leaves it.

A clinician of compound A opens compound B (``POST /api/v1/break-glass``);
the server disconnects the app's live socket, so the app syncs at once and
pulls B's records, older than its cursor. At the grant's expiry the
device, offline, drops them by its own clock (the browser's clock is moved
forward instead of waiting) and keeps every record of compound A, its
user's own, and a visit to a household of A queued offline; back online, with the
grant ended on the server too (its time moved back in the server's
database, as if the hour had passed there), the visit lands, it holds compound A's
records and none of B's, and the attention screen says whose access ended.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from server.seed import stable_id
from tests.browser.helpers import (
    COMPOUND_A,
    READ_RECORDS,
    READ_STORE,
    SYNC_TIMEOUT_MS,
    api,
    db_path_of,
    expect_synced,
    go,
    open_task,
    sign_in,
    stored_token,
)
from tests.helpers import DEMO_PASSWORD, a_clinician_of

pytestmark = pytest.mark.browser

COMPOUND_B = stable_id("compound", "B")
TASK_A = stable_id("task", "A", 0)
TASK_B = stable_id("task", "B", 0)
REASON = "夜间急诊：B区3号楼老人胸痛"
HOUSEHOLD_A = stable_id("household", "A", 1, 1, "101")
#: Queue a visit to a household through the app's own outbox, as its visit form does;
#: return the changeset's place in the outbox.
QUEUE_VISIT = """async ([id, householdId]) => {
  const { openStore } = await import('/app/db.js');
  const { createOutbox } = await import('/app/outbox.js');
  const db = await openStore();
  const fields = { household_id: householdId, outcome: 'answered', present: 1, needs: [] };
  const changeset = await createOutbox(db).add([{ type: 'visit', id, op: 'create', fields }]);
  db.close();
  return changeset.seq;
}"""


def holds(page: Page, record_type: str, record_id: str) -> bool:
    """Return whether the device's store holds a record."""
    return page.evaluate(READ_RECORDS, [record_type, record_id]) is not None


def records_of(page: Page, compound_id: str) -> int:
    """Return how many of a compound's records (by their compound) the device holds."""
    records = page.evaluate(READ_RECORDS, None)
    return sum(1 for r in records if compound_id in (r["id"], r["fields"].get("compound_id")))


def records_of_b(page: Page) -> int:
    """Return how many of compound B's records the device holds."""
    return records_of(page, COMPOUND_B)


def wait_until_held(page: Page, record_type: str, record_id: str, held: bool) -> None:
    """Wait until the device holds a record, or no longer does."""
    deadline = time.monotonic() + SYNC_TIMEOUT_MS / 1000
    while holds(page, record_type, record_id) != held:
        assert time.monotonic() < deadline, f"{record_type} {record_id} never held={held}"
        page.wait_for_timeout(250)  # a poll of the device's store, not a wait for the app


def a_clinician_of_compound_a(base_url: str) -> str:
    """Create the clinician ``medic-a``; return the coordinator's token."""
    login = {"username": "coord", "password": DEMO_PASSWORD, "device_name": "pytest"}
    coord = str(api(base_url, "POST", "/auth/login", "", login)["token"])
    api(base_url, "POST", "/users", coord, a_clinician_of(COMPOUND_A))
    return coord


def break_glass(base_url: str, page: Page) -> dict[str, Any]:
    """Open compound B with the device's token, for an hour; return the grant."""
    body = {"compound_id": COMPOUND_B, "reason": REASON, "minutes": 60}
    return dict(api(base_url, "POST", "/break-glass", stored_token(page), body))


def end_on_the_server(db_path: str, grant_id: int) -> None:
    """Move the grant two hours back in the server's database: it has ended there too.

    A write behind the server's back moves the sign-in generation as the
    server's own writes do (``server/sign_ins.py``), so the server process
    does not answer from the identity it cached with the grant in force.
    """
    connection = sqlite3.connect(db_path, timeout=10)
    try:
        with connection:
            connection.execute(
                "UPDATE audit_entry SET at = datetime(at, '-2 hours') WHERE id = ?", (grant_id,)
            )
            connection.execute(
                "INSERT INTO auth_state (id, generation) VALUES (1, 1)"
                " ON CONFLICT (id) DO UPDATE SET generation = generation + 1"
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

    grant = break_glass(served.url, page)
    # The server disconnects the app's live socket: the app syncs, and the pull names the grant.
    wait_until_held(page, "task", TASK_B, True)
    open_task(page, TASK_B)  # shown
    assert records_of_b(page) > 1

    # Offline at the expiry: the device drops B's records by its own clock, and only those.
    page.context.set_offline(True)
    own = records_of(page, COMPOUND_A)
    assert own > 1
    visit = str(uuid.uuid4())
    queued = page.evaluate(QUEUE_VISIT, [visit, HOUSEHOLD_A])
    page.clock.fast_forward("01:01:00")
    wait_until_held(page, "task", TASK_B, False)
    assert records_of_b(page) == 0
    expect(page.locator("h1")).to_have_text("Task not found")
    assert records_of(page, COMPOUND_A) == own, "the user's own compound stays on the device"
    open_task(page, TASK_A)  # usable offline
    assert page.evaluate(READ_STORE, ["outbox", queued]) is not None, "the offline visit is kept"

    # Online again, the grant ended on the server too: A's records come back, B's do not.
    end_on_the_server(db_path_of(sqlite_url), grant["id"])
    page.context.set_offline(False)
    wait_until_held(page, "task", TASK_A, True)
    expect_synced(page)
    assert page.evaluate(READ_STORE, ["outbox", queued]) is None, "the offline visit was sent"
    wait_until_held(page, "visit", visit, True)
    assert records_of_b(page) == 0
    assert not holds(page, "task", TASK_B)
    go(page, "/attention")
    expect(page.get_by_text("Temporary access to")).to_be_visible()
    expect(page.get_by_text("has ended")).to_be_visible()


def test_a_grant_a_coordinator_ends_early_leaves_the_online_device_at_once(
    device: Any, served: Any
) -> None:
    coord = a_clinician_of_compound_a(served.url)
    page = device("clinician")
    sign_in(page, "medic-a")
    grant = break_glass(served.url, page)
    wait_until_held(page, "task", TASK_B, True)
    api(served.url, "POST", f"/break-glass/{grant['id']}/end", coord)
    # The server disconnects the app's live socket again: it syncs, B leaves, A stays.
    wait_until_held(page, "task", TASK_B, False)
    assert holds(page, "task", TASK_A)
    expect_synced(page)
    assert records_of_b(page) == 0


def test_in_the_app_a_clinician_breaks_the_glass_and_a_coordinator_sees_it_live_and_ends_it(
    device: Any, served: Any
) -> None:
    a_clinician_of_compound_a(served.url)
    coord = device("coordinator")
    coord.clock.install()  # the coordinator's clock, moved forward at the end
    coord.reload()
    sign_in(coord, "coord")
    go(coord, "/glass")
    expect(coord.get_by_text("No temporary access is in force.")).to_be_visible()

    medic = device("clinician")
    sign_in(medic, "medic-a")
    # Offline, the screen says plainly that it needs a connection.
    medic.context.set_offline(True)
    go(medic, "/glass")
    expect(medic.get_by_role("alert")).to_contain_text("You are offline")
    medic.context.set_offline(False)
    medic.reload()
    expect_synced(medic)
    form = medic.locator("form.glass-open")
    form.get_by_label("Compound").select_option(COMPOUND_B)
    form.get_by_label("Reason").fill(REASON)
    form.get_by_label("For how long").select_option("60")
    form.get_by_role("button", name="Break the glass").click()
    wait_until_held(medic, "task", TASK_B, True)
    expect(medic.locator(".glass-grant")).to_contain_text("You in 陇南二村")

    # The coordinator's screen shows it live, without a reload: who, where, why, until when.
    grant = coord.locator(".glass-grant")
    expect(grant).to_contain_text("medic-a in 陇南二村")
    expect(grant).to_contain_text(REASON)
    expect(grant).to_contain_text("Until ")
    grant.get_by_role("button", name="End this access").click()
    expect(coord.get_by_text("No temporary access is in force.")).to_be_visible()
    expect(coord.locator(".glass-grant")).to_have_count(0)

    # The medic's device drops compound B.
    wait_until_held(medic, "task", TASK_B, False)
    expect_synced(medic)
    assert records_of_b(medic) == 0

    # A grant that runs out sends no event: the coordinator's screen drops it at its expiry.
    form.get_by_label("Compound").select_option(COMPOUND_B)
    form.get_by_label("Reason").fill(REASON)
    form.get_by_label("For how long").select_option("30")
    form.get_by_role("button", name="Break the glass").click()
    expect(coord.locator(".glass-grant")).to_contain_text("medic-a in 陇南二村")
    coord.clock.fast_forward("00:31:00")
    expect(coord.get_by_text("No temporary access is in force.")).to_be_visible()
