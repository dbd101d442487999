"""Layout and access: wall-screen columns, touch targets, toasts, a calm status bar."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from server.seed import stable_id
from tests.browser.helpers import (
    act,
    expect_pending,
    expect_synced,
    go,
    open_task,
    query,
    seeded_task_id,
    sign_in,
    sign_out,
    status_bar,
    task_fact,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WALL = {"width": 1440, "height": 900}
MIN_TARGET_PX = 44
TARGETS = "button, select, input, textarea, a.back, a.tile, a.button, .topbar a, .task a, .skip"

SMALL_TARGETS = f"""selector => [...document.querySelectorAll(selector)]
  .filter(element => element.getClientRects().length)
  .map(element => {{
    const box = element.getBoundingClientRect();
    return {{what: element.outerHTML.slice(0, 80), width: box.width, height: box.height}};
  }})
  .filter(box => box.width && (box.width < {MIN_TARGET_PX} || box.height < {MIN_TARGET_PX}))"""


RECORD_STATUS_TEXTS = """() => {
  const bar = document.getElementById('status');
  window.statusTexts = [];
  new MutationObserver(() => window.statusTexts.push(bar.textContent))
    .observe(bar, {childList: true, subtree: true, characterData: true});
}"""


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Tell whether two bounding boxes share any area."""
    across = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    down = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return across > 0 and down > 0


COLUMNS = """() => new Set([...document.querySelectorAll('li.task')]
  .map(card => Math.round(card.getBoundingClientRect().left))).size"""


def columns(page: Page) -> int:
    """Return how many distinct columns the task cards sit in."""
    return int(page.evaluate(COLUMNS))


def test_the_wall_screen_lists_tasks_in_columns_and_a_phone_in_one(device: Any) -> None:
    wall = device("wall", viewport=WALL)
    sign_in(wall, "coord")
    go(wall, "/tasks")
    wall.get_by_label("Show").select_option("all")
    expect(wall.locator("li.task").nth(1)).to_be_visible()
    # Waits out a redraw in progress; fails if the cards never sit side by side.
    wall.wait_for_function(f"() => ({COLUMNS})() >= 2")
    assert columns(wall) >= 2
    wall.set_viewport_size(PHONE)
    assert columns(wall) == 1


def test_every_touch_target_is_at_least_44_px(device: Any, db_path: str) -> None:
    page = device("phone", viewport=PHONE)
    assert page.evaluate(SMALL_TARGETS, TARGETS) == [], "sign-in screen"
    sign_in(page, "coord")
    task = seeded_task_id("A", 1)
    ((round_id,),) = query(db_path, "SELECT id FROM record WHERE type = 'test_round'")
    building, household = stable_id("building", "A", 1), stable_id("household", "A", 1, 1, "101")
    field_work = [
        "/screening",
        f"/screening/buildings/{building}",
        f"/screening/households/{household}",
        "/testing",
        f"/testing/{round_id}/buildings/{building}",
        "/shifts",
    ]
    screens = ["/", "/tasks", "/tasks/new", f"/tasks/{task}", "/attention", "/settings"]
    notice = stable_id("notice", 1)
    coordinators = ["/conflicts", "/notices", "/notices/new", f"/notices/{notice}/print", "/audit"]
    for path in [*screens, *field_work, *coordinators]:
        go(page, path)
        expect(page.locator("h1")).to_be_visible()
        assert page.evaluate(SMALL_TARGETS, TARGETS) == [], path
    # The status bar's buttons too.
    page.context.set_offline(True)
    open_task(page, task)
    act(page, "Add note", "Call first", label="Note")
    assert page.evaluate(SMALL_TARGETS, "#status button, #toasts button") == []


def test_toasts_cover_nothing_and_are_polite(device: Any) -> None:
    page = device("phone", viewport=PHONE)
    sign_in(page, "vol-a")
    open_task(page, seeded_task_id("A", 2))
    act(page, "Claim this task")
    expect_synced(page)
    act(page, "Start")
    expect(task_fact(page, "Status")).to_have_text("In progress")
    expect_synced(page)
    # Offline, nothing redraws the form while it is measured; the note's toast shows.
    page.context.set_offline(True)
    act(page, "Add note", "Ring twice", label="Note")
    expect_pending(page, 1)
    toast = page.locator("#toasts .toast")
    expect(toast).to_be_visible()
    reason = page.get_by_label("Why did it fail?")
    for step in range(3):  # at the top, mid-way and at the bottom of the page
        toast_box, reason_box = toast.bounding_box(), reason.bounding_box()
        if step and toast_box is None:
            break  # the toast timed out on a slow machine: what was measured stands
        assert toast_box and reason_box
        assert not overlap(toast_box, reason_box), (toast_box, reason_box)
        page.mouse.wheel(0, 300)
    assert page.locator("#toasts").get_attribute("aria-live") == "polite"
    expect(toast).not_to_have_attribute("role", "alert")


def test_the_status_bar_is_not_reannounced_on_every_sync_event(device: Any) -> None:
    page = device("phone")
    sign_in(page, "vol-a")
    page.evaluate(RECORD_STATUS_TEXTS)
    other = device("other phone")
    sign_in(other, "coord")
    open_task(other, seeded_task_id("A", 3))
    for text in ["First", "Second", "Third"]:
        act(other, "Add note", text, label="Note")
        expect_synced(other)
    open_task(page, seeded_task_id("A", 3))
    expect(page.get_by_text("coord: Third")).to_be_visible(timeout=30_000)
    texts = page.evaluate("window.statusTexts")
    # Three live changes arrived; the bar's words changed at most once (the minute of "Last sync").
    assert len(set(texts)) <= 1, texts
    assert not [text for text in texts if "Syncing" in text]


def test_signed_out_the_status_bar_claims_nothing_and_hides_attention(device: Any) -> None:
    page = device("phone")
    expect(status_bar(page)).to_have_text("Not signed in")
    expect(page.get_by_role("link", name="Needs attention")).to_be_hidden()
    sign_in(page, "vol-a")
    expect(page.get_by_role("link", name="Needs attention")).to_be_visible()
    sign_out(page)
    expect(status_bar(page)).to_have_text("Not signed in")
    expect(page.get_by_role("link", name="Needs attention")).to_be_hidden()
