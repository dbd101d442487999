"""Chromium's own network emulation, and the browser killed mid-push: every change lands once.

The first test puts a volunteer's device on Chromium's "Slow 3G" (CDP
``Network.emulateNetworkConditions``: 2 s latency, 50 kB/s each way) and
flaps it offline — between actions, and in the middle of pushes, as soon
as the app sends one. The second kills the whole browser (SIGKILL) while a
push is in flight, after the server applied it, and starts it again on the
same profile. In both, every changeset the device queued is recorded by the
server exactly once and applied; the server wrote exactly the versions the
moves need (a replay would write more). Each test adds its row to the
reliability ledger before asserting.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests import reliability
from tests.browser.conftest import ENGLISH
from tests.browser.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SYNC_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    act,
    count_exactly_once,
    expect_pending,
    expect_synced,
    high_water,
    open_task,
    outbox,
    seeded_task_id,
    server_record,
    sign_in,
    status_bar,
)
from tests.servers import ServedApp

pytestmark = pytest.mark.browser

#: Chrome DevTools' "Slow 3G" preset.
SLOW_3G = {"latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
PUSH = "**/api/v1/sync/push"


def emulate(cdp: Any, offline: bool) -> None:
    """Put the page on Slow 3G, or offline."""
    cdp.send("Network.emulateNetworkConditions", {"offline": offline, **SLOW_3G})


def test_changes_made_on_slow_3g_and_flapping_offline_land_exactly_once(
    device: Any, db_path: str
) -> None:
    row = reliability.record(reliability.Row("browser on slow 3G, flapping offline", "sqlite"))
    tasks = [seeded_task_id("A", index) for index in (6, 7, 8)]
    page = device("vol-a")
    sign_in(page, "vol-a")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    before = high_water(db_path)
    queued: list[str] = []

    # Offline on a landing: three moves wait in the outbox.
    emulate(cdp, offline=True)
    row.faults["offline"] += 1
    open_task(page, tasks[0])
    act(page, "Claim this task")
    act(page, "Start")
    open_task(page, tasks[1])
    act(page, "Claim this task")
    expect_pending(page, 3)
    queued += [c["id"] for c in outbox(page)]

    # Back on Slow 3G: the first push is cut as it leaves, then the signal holds.
    for cut in range(2):
        with page.expect_request(PUSH, timeout=SYNC_TIMEOUT_MS):
            emulate(cdp, offline=False)
            row.faults["slow_3g"] += 1
        emulate(cdp, offline=True)
        row.faults["offline_mid_push"] += 1
        expect(status_bar(page)).to_contain_text("offline", ignore_case=True)
        if cut == 0:
            # Work goes on meanwhile.
            open_task(page, tasks[2])
            act(page, "Claim this task")
            queued += [c["id"] for c in outbox(page) if c["id"] not in queued]
    emulate(cdp, offline=False)
    row.faults["slow_3g"] += 1
    expect_synced(page, timeout=SYNC_TIMEOUT_MS * 2)

    # Three claims and a start: four writes, whatever was retried.
    count_exactly_once(row, db_path, queued, before, writes=4)
    assert server_record(db_path, tasks[0])["fields"]["status"] == "in_progress"
    assert [server_record(db_path, t)["fields"]["status"] for t in tasks[1:]] == ["claimed"] * 2


def chromium_pids(profile: str) -> list[int]:
    """Return the ids of the chromium processes that use ``profile``."""
    found = subprocess.run(
        ["pgrep", "-f", f"--user-data-dir={profile}"], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in found.stdout.split()]


def test_the_browser_killed_mid_push_resends_on_restart_and_nothing_is_applied_twice(
    playwright: Any, served: ServedApp, db_path: str, tmp_path: Any
) -> None:
    row = reliability.record(reliability.Row("browser killed mid-push", "sqlite"))
    profile = str(tmp_path / "profile")

    def launch() -> Any:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            base_url=served.url,
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        context.add_init_script(ENGLISH)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto("/")
        return context, page

    context, page = launch()
    sign_in(page, "vol-a")
    task = seeded_task_id("A", 9)
    open_task(page, task)
    before = high_water(db_path)
    answered: list[Any] = []

    sent: list[str] = []

    def kill_after_the_server_applied(route: Any) -> None:
        sent.extend(changeset["id"] for changeset in route.request.post_data_json["changesets"])
        answered.append(route.fetch().json())  # the server applies the push ...
        for pid in chromium_pids(profile):  # ... and the browser dies before it hears
            os.kill(pid, signal.SIGKILL)
        row.faults["SIGKILL browser"] += 1

    page.context.route(PUSH, kill_after_the_server_applied)
    act(page, "Claim this task")
    try:
        while not answered:  # the handler runs while Playwright waits on the page
            page.wait_for_timeout(100)
    except PlaywrightError:
        pass  # the browser died under the page: what this test is about
    with contextlib.suppress(PlaywrightError):  # already gone
        context.close()

    context, page = launch()
    expect_synced(page, timeout=SYNC_TIMEOUT_MS)
    count_exactly_once(row, db_path, sent, before, writes=1)
    assert answered[0]["results"][0]["status"] == "applied"
    assert server_record(db_path, task)["fields"]["status"] == "claimed"
    context.close()
