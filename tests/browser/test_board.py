"""The coordinator's live board: it follows other devices without reloading, also after a
reconnect, and its drags and menu land on the server as ordinary updates."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    act,
    expect_synced,
    go,
    on_task,
    seeded_task_id,
    server_record,
    sign_in,
    user_id,
)

pytestmark = pytest.mark.browser

# A live event reaches the board within seconds; a loaded CI machine gets some slack.
LIVE_TIMEOUT_MS = 20_000
MARK_PAGE = "() => { window.boardNotReloaded = true; }"
STILL_SAME_PAGE = "() => window.boardNotReloaded === true"


def open_board(device: Any) -> Page:
    """Open a coordinator's device on the board, synced."""
    page = device("coord")
    sign_in(page, "coord")
    go(page, "/board")
    expect(page.locator(".board-column")).to_have_count(6)
    # One compound's tasks fit the columns' windows: every card is drawn.
    page.get_by_label("Compound").select_option(label="陇南一村（A）")
    page.evaluate(MARK_PAGE)
    return page


def card(page: Page, task_id: str, status: str) -> Any:
    """Return the card of a task in the column of ``status``."""
    return page.locator(f".board-column[data-status='{status}'] .board-card[data-id='{task_id}']")


def test_the_board_follows_another_device_live_and_after_a_reconnect(device: Any) -> None:
    task = seeded_task_id("A", 7)
    board = open_board(device)
    expect(card(board, task, "open")).to_be_visible()

    volunteer = on_task(device, "vol-a", task)
    act(volunteer, "Claim this task")
    expect_synced(volunteer)
    claimed = card(board, task, "claimed")
    expect(claimed).to_contain_text("志愿者 A", timeout=LIVE_TIMEOUT_MS)
    expect(card(board, task, "open")).to_have_count(0)

    # Events sent while the board is cut off are lost; it catches up from its cursor.
    board.context.set_offline(True)
    act(volunteer, "Start")
    expect_synced(volunteer)
    board.context.set_offline(False)
    expect(card(board, task, "in_progress")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(card(board, task, "claimed")).to_have_count(0)
    assert board.evaluate(STILL_SAME_PAGE), "the board reloaded"


def drag_to(page: Page, source: Any, target: Any) -> None:
    """Drag a card onto a drop target with the mouse, as a coordinator does."""
    source.drag_to(target)


def test_drag_and_menu_assignments_land_on_the_server(device: Any, db_path: str) -> None:
    task = seeded_task_id("A", 8)
    board = open_board(device)
    drag_to(board, card(board, task, "open"), board.locator(".board-person", has_text="志愿者 A"))
    expect(card(board, task, "claimed")).to_contain_text("志愿者 A")
    expect_synced(board)
    stored = server_record(db_path, task)["fields"]
    assert (stored["status"], stored["assignee_id"]) == ("claimed", user_id(db_path, "vol-a"))

    # By menu: pick the card, hand it to someone else.
    card(board, task, "claimed").get_by_role("button").click()
    menu = board.locator("#board-panel")
    menu.get_by_label("Give the task to").select_option(label="居委会协调员 (you)")
    act(board, "Hand to someone else")
    expect(card(board, task, "claimed")).to_contain_text("Assigned to you")
    expect_synced(board)
    assert server_record(db_path, task)["fields"]["assignee_id"] == user_id(db_path, "coord")

    # A drop that needs words (a claim dropped on a column needs a person) opens the menu.
    other = seeded_task_id("A", 9)
    drag_to(
        board,
        card(board, other, "open"),
        board.locator(".board-column[data-status='claimed'] .board-scroll"),
    )
    expect(menu.get_by_label("Give the task to")).to_be_focused()
    expect(card(board, other, "open")).to_be_visible()
    assert board.evaluate(STILL_SAME_PAGE), "the board reloaded"
    assert server_record(db_path, other)["fields"]["status"] == "open"
