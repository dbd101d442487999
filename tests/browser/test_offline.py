"""Offline use: the shell starts from the service worker; edits wait in the outbox and
reach the server exactly once; another coordinator sees them live."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    COMPOUND_A,
    SYNC_TIMEOUT_MS,
    act,
    cancel_task,
    expect_pending,
    expect_synced,
    go,
    high_water,
    logged_changesets,
    logged_result,
    open_task,
    outbox,
    query,
    seeded_task_id,
    server_record,
    sign_in,
    status_bar,
    sync_badge,
    task_count,
    wait_for_service_worker,
)

pytestmark = pytest.mark.browser

NEW_TITLE = "Browser test: deliver rice to 12-3-502"
NOTED = seeded_task_id("A", 0)
CANCELLED = seeded_task_id("A", 1)


def test_reload_offline_starts_from_service_worker(device: Any, served: Any, db_path: str) -> None:
    in_scope = task_count(db_path, COMPOUND_A)
    page = device("vol-a")
    sign_in(page, "vol-a")
    page.get_by_role("link", name="Tasks").click()
    expect(page.get_by_text(f"{in_scope} tasks")).to_be_visible()
    titles = page.locator(".task-title").all_inner_texts()
    wait_for_service_worker(page)

    page.context.set_offline(True)
    # Stopping the server too proves that nothing of the shell comes from the network.
    served.stop()
    page.reload()

    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    expect(status_bar(page)).to_contain_text("Offline")
    # The device synced before the reload: the bar says when, not "not synced yet".
    expect(status_bar(page)).to_contain_text("Last sync")
    expect(status_bar(page)).not_to_contain_text("Not synced yet")
    expect(page.get_by_text(f"{in_scope} tasks")).to_be_visible()
    expect(page.locator(".task-title")).to_have_text(titles)
    assert page.evaluate("navigator.serviceWorker.controller !== null")


def test_switching_language_offline_loads_a_cached_catalogue(device: Any, served: Any) -> None:
    """Only the shown language's catalogue loads at start; the others come from the cache."""
    page = device("vol-a")
    wait_for_service_worker(page)

    page.context.set_offline(True)
    served.stop()
    page.reload()
    go(page, "/settings")
    for code, language, settings in [("ja", "言語", "設定"), ("ko", "언어", "설정")]:
        page.locator("#settings-language").select_option(code)
        expect(page.get_by_label(language, exact=True)).to_have_value(code)
        expect(page.get_by_role("navigation").get_by_role("link", name=settings)).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.locator("#settings-language-problem")).to_be_hidden()


def edit_offline(page: Page) -> str:
    """As a signed-in coordinator, offline: create a task, note it, note and cancel others.

    Return the new task's id. Four changesets wait in the outbox afterwards.
    """
    page.context.set_offline(True)
    expect(status_bar(page)).to_contain_text("Offline")

    go(page, "/tasks")
    page.get_by_role("link", name="New task").click()
    page.get_by_label("Title").fill(NEW_TITLE)
    page.get_by_label("Kind").select_option("delivery")
    page.get_by_label("Priority").select_option("1")
    page.get_by_label("Compound").select_option(COMPOUND_A)
    page.get_by_label("Notes (optional)", exact=True).fill("Two bags")
    page.get_by_role("button", name="Create task").click()
    expect(page.get_by_role("heading", name=NEW_TITLE)).to_be_visible()
    expect(sync_badge(page)).to_contain_text("Waiting to sync")
    new_id = page.evaluate("location.hash").rsplit("/", 1)[-1]
    expect_pending(page, 1)

    act(page, "Add note", "Ring twice", label="Note")
    expect(page.get_by_text("coord: Ring twice")).to_be_visible()
    expect_pending(page, 2)

    open_task(page, NOTED)
    act(page, "Add note", "Gate 2 is closed", label="Note")
    expect(page.get_by_text("coord: Gate 2 is closed")).to_be_visible()
    expect_pending(page, 3)

    open_task(page, CANCELLED)
    cancel_task(page)
    expect(page.locator("dl.facts")).to_contain_text("Cancelled")
    expect_pending(page, 4)
    return str(new_id)


def check_server_has_edits_once(db_path: str, new_id: str, changesets: list[str]) -> None:
    """Every queued changeset is recorded once and applied once: four writes, no more."""
    assert sorted(logged_changesets(db_path)) == sorted(changesets)
    for changeset in changesets:
        assert logged_result(db_path, changeset)["status"] == "applied"
    created = server_record(db_path, new_id)["fields"]
    assert created["title"] == NEW_TITLE
    assert created["status"] == "open"
    assert created["compound_id"] == COMPOUND_A
    assert created["priority"] == 1
    assert created["notes"] == "Two bags\ncoord: Ring twice"
    titled = query(db_path, "SELECT COUNT(*) FROM record WHERE fields LIKE ?", f"%{NEW_TITLE}%")
    assert titled == [(1,)]
    assert server_record(db_path, NOTED)["fields"]["notes"] == "coord: Gate 2 is closed"
    assert server_record(db_path, CANCELLED)["fields"]["status"] == "cancelled"


def test_offline_edits_survive_closing_and_reach_the_server_once(
    device: Any, db_path: str
) -> None:
    page = device("coord")
    sign_in(page, "coord")
    wait_for_service_worker(page)
    # Read before any edit: now and then Chromium lets a push out while the
    # context is offline and loses its answer (the server applies it; the
    # device keeps the changesets and sends them again, answered as replays).
    # The four changesets must still take four versions in all, no more.
    before = high_water(db_path)
    new_id = edit_offline(page)
    queued = [changeset["id"] for changeset in outbox(page)]
    assert len(queued) == 4

    context = page.context
    page.close()
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Hello, 居委会协调员")).to_be_visible()
    expect_pending(page, 4)
    assert [changeset["id"] for changeset in outbox(page)] == queued
    open_task(page, new_id)
    expect(page.get_by_text("coord: Ring twice")).to_be_visible()

    context.set_offline(False)

    expect_synced(page)
    assert outbox(page) == []
    expect(sync_badge(page)).to_have_count(0)
    check_server_has_edits_once(db_path, new_id, queued)
    assert high_water(db_path) == before + 4, "a changeset was applied more than once"


def test_coordinator_sees_synced_changes_live(device: Any, db_path: str) -> None:
    watcher = device("watcher")
    sign_in(watcher, "coord")
    watcher.get_by_role("link", name="Tasks").click()
    watcher.get_by_label("Show").select_option("all")
    cancelled_title = server_record(db_path, CANCELLED)["fields"]["title"]
    everywhere = task_count(db_path)
    expect(watcher.get_by_text(f"{everywhere} tasks")).to_be_visible()
    watcher.evaluate("window.notReloaded = true")

    editor = device("editor")
    sign_in(editor, "coord")
    new_id = edit_offline(editor)
    editor.context.set_offline(False)

    new_task = watcher.get_by_role("link", name=re.compile(re.escape(NEW_TITLE)))
    expect(new_task).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    expect(new_task).to_contain_text("Urgent")
    expect(watcher.get_by_text(f"{everywhere + 1} tasks")).to_be_visible()
    expect(
        watcher.locator("li.task", has_text=cancelled_title).filter(has_text="Cancelled")
    ).to_have_count(1)
    assert watcher.evaluate("window.notReloaded === true")
    open_task(watcher, new_id)
    expect(watcher.get_by_text("coord: Ring twice")).to_be_visible()
    expect(sync_badge(watcher)).to_have_count(0)
