"""The server crashes while a push is in flight; the device recovers by itself."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    act,
    expect_pending,
    expect_synced,
    high_water,
    logged_changesets,
    logged_result,
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


def test_server_killed_after_committing_a_push_loses_and_duplicates_nothing(
    device: Any, served: ServedApp, db_path: str
) -> None:
    first, second = seeded_task_id("A", 4), seeded_task_id("A", 5)
    page = device("vol-a")
    sign_in(page, "vol-a")
    open_task(page, first)
    crashed: list[Any] = []

    def crash_before_answering(route: Any) -> None:
        if crashed:
            route.fallback()
            return
        reply = route.fetch()  # the server applies the push and answers ...
        crashed.append(reply.json())
        served.kill()  # ... and dies before the answer reaches the device
        route.abort("connectionreset")

    page.context.route("**/api/v1/sync/push", crash_before_answering)
    before = high_water(db_path)

    act(page, "Claim this task")

    expect(status_bar(page)).to_contain_text("No connection, retrying")
    assert crashed and crashed[0]["results"][0]["status"] == "applied"
    assert server_record(db_path, first)["fields"]["status"] == "claimed"
    # The device does not know that: the claim still waits, and more work queues behind it.
    [claim] = outbox(page)
    act(page, "Start")
    expect_pending(page, 2)
    open_task(page, second)
    act(page, "Claim this task")
    expect_pending(page, 3)
    queued = [c["id"] for c in outbox(page)]
    assert queued[0] == claim["id"]

    served.stop()  # reap the killed process (kill() leaves its output pipe open)
    served.start()  # same port, same database

    expect_synced(page, timeout=SYNC_TIMEOUT_MS)
    expect(task_fact(page, "Assignee")).to_have_text("Assigned to you")
    open_task(page, first)
    expect(task_fact(page, "Status")).to_have_text("In progress")
    assert sorted(logged_changesets(db_path)) == sorted(queued)
    for changeset in queued:
        assert logged_result(db_path, changeset)["status"] == "applied"
    volunteer = user_id(db_path, "vol-a")
    assert server_record(db_path, first)["fields"]["status"] == "in_progress"
    assert server_record(db_path, first)["fields"]["assignee_id"] in (volunteer, str(volunteer))
    assert server_record(db_path, second)["fields"]["status"] == "claimed"
    # Claim, start, claim: three writes. A replayed claim would have written a fourth.
    assert high_water(db_path) == before + 3
