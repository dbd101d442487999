"""The task screens say what is true: moves the server takes, holders' names, plain words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    LATIN_WORD,
    SYNC_TIMEOUT_MS,
    act,
    cancel_task,
    english_left,
    expect_pending,
    expect_synced,
    go,
    on_task,
    open_screen,
    open_task,
    outbox,
    push_as,
    seeded_task_id,
    sign_in,
    status_bar,
    task_fact,
    use_language,
)

pytestmark = pytest.mark.browser


def expect_actions(page: Page, names: list[str]) -> None:
    """Wait until a task screen offers exactly the action buttons ``names``, in order.

    The screen draws before the task rules (declarations) reach a newly signed-in device and
    draws again when they land, so the check retries; no actions must be said in words.
    """
    expect(page.locator("section.actions button[type=submit]")).to_have_text(names)
    if not names:
        nothing = "There is nothing you can do on this task right now."
        expect(page.get_by_text(nothing)).to_be_visible()


def test_a_claimed_task_offers_only_the_moves_the_server_takes(device: Any) -> None:
    page = on_task(device, "vol-a", seeded_task_id("A", 4))
    expect_actions(page, ["Claim this task"])
    act(page, "Claim this task")
    expect(task_fact(page, "Status")).to_have_text("Claimed")
    # The server fails only a task in progress: "Mark failed" is not offered on a claimed one.
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_visible()
    expect_actions(page, ["Start", "Add note"])
    expect_synced(page)
    act(page, "Start")
    expect(task_fact(page, "Status")).to_have_text("In progress")
    expect_synced(page)
    # A failure needs its reason: said next to the box, in words, before anything is queued.
    act(page, "Mark failed")
    expect(page.locator("#task-fail-error")).to_have_text("Please fill in “Why did it fail?”.")
    expect_synced(page)
    assert outbox(page) == []
    act(page, "Mark failed", "Nobody home", label="Why did it fail?")
    expect(task_fact(page, "Status")).to_have_text("Failed")
    expect_synced(page)
    expect_actions(page, [])


def test_a_screen_drawn_before_the_rules_land_says_they_are_on_their_way(device: Any) -> None:
    # Hold the rules' request until the test lets it go, as a slow network would.
    hold_rules = """{
        const fetchNow = globalThis.fetch;
        let release;
        const released = new Promise((resolve) => { release = resolve; });
        globalThis.releaseRules = release;
        globalThis.fetch = (url, options) => String(url).endsWith('/declarations')
          ? released.then(() => fetchNow(url, options)) : fetchNow(url, options);
        }"""
    page = device("vol-a", init_script=hold_rules)
    sign_in(page, "vol-a")
    open_task(page, seeded_task_id("A", 4))
    expect(page.get_by_text("The task rules are on their way to this device…")).to_be_visible()
    expect(page.get_by_text("Connect once")).to_have_count(0)
    page.evaluate("() => globalThis.releaseRules()")
    expect_actions(page, ["Claim this task"])


def test_an_error_shown_stays_through_a_live_redraw_until_the_form_is_sent_again(
    device: Any, served: Any
) -> None:
    task = seeded_task_id("A", 4)
    page = on_task(device, "vol-a", task)
    act(page, "Claim this task")
    expect_synced(page)
    act(page, "Start")
    expect(task_fact(page, "Status")).to_have_text("In progress")
    expect_synced(page)
    act(page, "Mark failed")
    error = page.locator("#task-fail-error")
    expect(error).to_have_text("Please fill in “Why did it fail?”.")
    # Another device's edit redraws the screen while the error is shown.
    change = {"type": "task", "id": task, "op": "update", "fields": {"title": "楼道消杀（改）"}}
    assert push_as(served.url, "coord", change)["status"] == "applied"
    expect(page.locator("h1")).to_have_text("楼道消杀（改）", timeout=SYNC_TIMEOUT_MS)
    expect(error).to_have_text("Please fill in “Why did it fail?”.")
    expect(page.get_by_label("Why did it fail?", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    act(page, "Mark failed", "Nobody home", label="Why did it fail?")
    expect(task_fact(page, "Status")).to_have_text("Failed")
    expect(page.locator("#task-fail-error")).to_have_count(0)
    expect_synced(page)


def test_typing_survives_hash_changes_queued_behind_one_another(device: Any) -> None:
    """Quick taps queue several navigations: the later ones must not wipe the screen drawn."""
    page = device("coord")
    sign_in(page, "coord")
    typed = page.evaluate(
        """async () => {
          const pause = () => new Promise((resolve) => setTimeout(resolve, 0));
          location.hash = '/tasks';
          location.hash = '/';
          location.hash = '/tasks/new';
          // Type into the first new-task screen drawn, while the other changes wait.
          while (!document.querySelector('#new-title')) await pause();
          const title = document.querySelector('#new-title');
          title.value = '楼道消杀';
          title.dispatchEvent(new Event('input', { bubbles: true }));
          return title.value;
        }"""
    )
    assert typed == "楼道消杀"
    # Let every queued draw run: the typed title is still there.
    page.wait_for_timeout(1_000)  # no app event marks "no more draws queued"
    expect(page.locator("#new-title")).to_have_value("楼道消杀")


def test_holders_are_named_and_coordinators_assign_and_reassign(device: Any) -> None:
    task = seeded_task_id("A", 5)
    coordinator = device("coord")
    sign_in(coordinator, "coord")
    open_task(coordinator, task)
    coordinator.get_by_label("Give the task to").select_option(label="志愿者 A · Volunteer")
    act(coordinator, "Assign")
    expect(task_fact(coordinator, "Assignee")).to_have_text("志愿者 A")
    expect_synced(coordinator)

    volunteer = device("vol-a")
    sign_in(volunteer, "vol-a")
    open_task(volunteer, task)
    expect(task_fact(volunteer, "Assignee")).to_have_text("Assigned to you")

    coordinator.get_by_label("Give the task to").select_option(label="居委会协调员 (you)")
    act(coordinator, "Hand to someone else")
    expect(task_fact(coordinator, "Assignee")).to_have_text("Assigned to you")
    expect_synced(coordinator)
    # The volunteer now sees who holds it, by name, not "someone else".
    expect(task_fact(volunteer, "Assignee")).to_have_text("居委会协调员", timeout=30_000)
    expect_actions(volunteer, [])


def test_cancelling_asks_first_and_can_be_undone_while_queued(device: Any) -> None:
    page = on_task(device, "coord", seeded_task_id("A", 6))
    page.context.set_offline(True)
    act(page, "Cancel task")
    expect(page.get_by_text("Cancel this task for everyone?")).to_be_visible()
    assert outbox(page) == []
    act(page, "Keep the task")
    expect(task_fact(page, "Status")).to_have_text("Open")
    assert outbox(page) == []

    cancel_task(page)
    expect(task_fact(page, "Status")).to_have_text("Cancelled")
    expect_pending(page, 1)
    page.locator("#toasts").get_by_role("button", name="Undo").click()
    expect(task_fact(page, "Status")).to_have_text("Open")
    expect(page.locator("#toasts")).to_contain_text("Undone")
    assert outbox(page) == []


def test_finished_tasks_lose_the_urgent_bar_and_synced_cards_carry_no_pill(device: Any) -> None:
    page = device("vol-a")
    sign_in(page, "vol-a")
    task = seeded_task_id("A", 7)
    open_task(page, task)
    for action, status in [("Claim this task", "Claimed"), ("Start", "In progress")]:
        act(page, action)
        expect(task_fact(page, "Status")).to_have_text(status)
        expect_synced(page)
    act(page, "Mark done", "A7", label="Proof: the recipient’s code or a short note")
    expect(task_fact(page, "Status")).to_have_text("Done")
    expect(task_fact(page, "Proof")).to_have_text("A7")
    expect_synced(page)
    go(page, "/tasks")
    page.get_by_label("Show").select_option("all")
    card = page.locator(f"li.task:has(a[href='#/tasks/{task}'])")
    expect(card).to_have_class(re.compile(r"\bis-final\b"))
    expect(card).not_to_have_class(re.compile(r"\bpriority-"))
    expect(page.locator("li.task .badge")).to_have_count(0)
    # The due line says "Due" once.
    meta = page.locator("li.task .task-meta").first.inner_text()
    assert meta.count("Due") <= 1


def test_filters_and_building_choices_sort_naturally(device: Any) -> None:
    page = device("coord")
    sign_in(page, "coord")
    go(page, "/tasks")
    page.get_by_label("Show").select_option("all")
    compounds = page.get_by_label("Compound").locator("option").all_inner_texts()
    assert compounds[0] == "Every compound"
    assert sorted(compounds[1:]) == ["陇南一村（A）", "陇南三村（C）", "陇南二村（B）"]
    expect(page.get_by_label("Building")).to_have_count(0)  # not before a compound is chosen
    page.get_by_label("Compound").select_option(label="陇南一村（A）")
    expect(page.get_by_label("Building")).to_be_visible()
    buildings = page.get_by_label("Building").locator("option:not(:first-child)")
    expect(buildings).to_have_text([f"{n}号楼" for n in range(1, 15)])
    page.get_by_label("Building").select_option(label="4号楼")
    cards = page.locator("li.task .task-meta")
    expect(cards.filter(has_not_text="4号楼")).to_have_count(0)
    expect(cards.filter(has_text="4号楼").first).to_be_visible()

    go(page, "/tasks/new")
    page.get_by_label("Compound").select_option(label="陇南一村（A）")
    choices = page.get_by_label("Building (optional)").locator("option:not(:first-child)")
    expect(choices).to_have_text([f"{n}号楼" for n in range(1, 15)])


@pytest.mark.parametrize("language", ["ja", "ko"])
def test_japanese_and_korean_task_screens_have_no_english(device: Any, language: str) -> None:
    page = device("vol-a")
    sign_in(page, "vol-a")
    task = seeded_task_id("A", 8)
    open_task(page, task)
    act(page, "Claim this task")
    expect_synced(page)
    use_language(page, language)
    for path in ["/", "/tasks", f"/tasks/{task}", "/attention", "/settings"]:
        open_screen(page, path)
        for region in ("main", "#status", "header"):
            text = english_left(page, region)
            assert not LATIN_WORD.findall(text), f"{path} {region}: {text}"
    expect(status_bar(page)).not_to_contain_text("Online")
