"""The server crashes while a push is in flight; the device recovers by itself.

Route interception holds the push: the server dies either before the request
reaches it, or after it committed the push but before its answer reached the
device (the hard case: the device must retry, and the server must not apply
the retry again). It then restarts on the same port and database.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests import reliability
from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    act,
    count_exactly_once,
    expect_pending,
    expect_synced,
    high_water,
    logged_changesets,
    open_task,
    outbox,
    seeded_task_id,
    server_record,
    sign_in,
    status_bar,
    task_fact,
    user_id,
)
from tests.servers import ServedApp

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("committed", [True, False], ids=["after_commit", "before_commit"])
def test_server_killed_during_a_push_loses_and_duplicates_nothing(
    device: Any, served: ServedApp, db_path: str, committed: bool
) -> None:
    first, second = seeded_task_id("A", 4), seeded_task_id("A", 5)
    page = device("vol-a")
    sign_in(page, "vol-a")
    open_task(page, first)
    crashed: list[Any] = []

    def crash_during_push(route: Any) -> None:
        if crashed:
            route.fallback()
            return
        if committed:
            crashed.append(route.fetch().json())  # the server applies the push and answers ...
            served.kill()  # ... and dies before the answer reaches the device
            route.abort("connectionreset")
        else:
            crashed.append(None)
            served.kill()
            route.continue_()  # to a dead port
        served.stop()

    page.context.route("**/api/v1/sync/push", crash_during_push)
    before = high_water(db_path)

    act(page, "Claim this task")

    expect(status_bar(page)).to_contain_text("No connection, retrying")
    assert crashed
    expected_status = "claimed" if committed else "open"
    assert server_record(db_path, first)["fields"]["status"] == expected_status
    if committed:
        assert crashed[0]["results"][0]["status"] == "applied"
    # The device does not know what happened: the claim still waits, more work queues.
    [claim] = outbox(page)
    act(page, "Start")
    expect_pending(page, 2)
    open_task(page, second)
    act(page, "Claim this task")
    expect_pending(page, 3)
    queued = [c["id"] for c in outbox(page)]
    assert queued[0] == claim["id"]

    served.start()  # same port, same database

    expect_synced(page, timeout=SYNC_TIMEOUT_MS)
    expect(task_fact(page, "Assignee")).to_have_text("Assigned to you")
    open_task(page, first)
    expect(task_fact(page, "Status")).to_have_text("In progress")
    assert sorted(logged_changesets(db_path)) == sorted(queued)
    volunteer = user_id(db_path, "vol-a")
    assert server_record(db_path, first)["fields"]["status"] == "in_progress"
    assert server_record(db_path, first)["fields"]["assignee_id"] in (volunteer, str(volunteer))
    assert server_record(db_path, second)["fields"]["status"] == "claimed"
    # Claim, start, claim: three writes. A replayed claim would have written a fourth.
    row = reliability.record(reliability.Row("browser's server killed mid-push", "sqlite"))
    row.faults["SIGKILL server " + ("after commit" if committed else "before commit")] += 1
    count_exactly_once(row, db_path, queued, before, writes=3)
