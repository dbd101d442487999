"""Screening in the browser: a whole unit screened offline reaches the server once.

vol-a walks unit 1 of building 5 in compound A (twelve households, none
screened in the demo) with no network: the first door answered with
someone elderly living alone, every other door "no answer" in one tap, each
save opening the next door by itself. On reconnect every visit is on the
server exactly once, and the day's check-in task for the elderly household
is on the device.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from server.seed import stable_id
from sync.field import day_of
from sync.screening import check_in_task_id
from sync.times import parse_datetime
from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    expect_pending,
    expect_synced,
    go,
    query,
    sign_in,
)

pytestmark = pytest.mark.browser

BUILDING = stable_id("building", "A", 5)
FLOORS, FLATS = 6, 2


def door(floor: int, flat: int) -> str:
    """Return the id of a household of unit 1 of building 5."""
    return stable_id("household", "A", 5, 1, f"{floor}0{flat}")


def test_a_unit_screened_offline_reaches_the_server_once(device: Any, db_path: str) -> None:
    page = device("vol-a")
    sign_in(page, "vol-a")
    go(page, f"/screening/buildings/{BUILDING}")
    unit = page.get_by_role("region", name="Unit 1")
    expect(unit.locator(".door")).to_have_count(FLOORS * FLATS)
    page.context.set_offline(True)
    unit.get_by_role("link", name=re.compile(r"^101")).click()
    expect(page.get_by_role("heading", name=re.compile(r"room 101$"))).to_be_visible()
    page.get_by_label("Answered").check()
    page.get_by_label("Elderly, living alone").check()
    page.get_by_role("button", name="Save and go to the next door").click()
    rooms = [f"{floor}0{flat}" for floor in range(1, FLOORS + 1) for flat in range(1, FLATS + 1)]
    for room in rooms[1:]:
        expect(page.get_by_role("heading", name=re.compile(rf"room {room}$"))).to_be_visible()
        page.get_by_role("button", name="No answer — next door").click()
    expect(page.get_by_role("heading", name="5号楼")).to_be_visible()
    expect_pending(page, FLOORS * FLATS)
    unit = page.get_by_role("region", name="Unit 1")
    expect(unit.get_by_text("1 visited · 11 no answer · 0 not yet")).to_be_visible()

    page.context.set_offline(False)
    expect_synced(page, SYNC_TIMEOUT_MS)
    homes = [door(floor, flat) for floor in range(1, FLOORS + 1) for flat in range(1, FLATS + 1)]
    marks = ",".join("?" * len(homes))
    household = "json_extract(fields, '$.household_id')"
    rows = query(
        db_path,
        f"SELECT {household}, json_extract(fields, '$.outcome') FROM record "
        f"WHERE type = 'visit' AND {household} IN ({marks})",
        *homes,
    )
    assert sorted(rows) == sorted(
        [(homes[0], "answered"), *((home, "no_answer") for home in homes[1:])]
    )
    # The check-in is of the day the elderly household's visit was made (its
    # stamp, as the server judged it), which is not "now" if the test ran
    # across the neighbourhood's midnight.
    ((made_at,),) = query(
        db_path,
        "SELECT json_extract(stamps, '$.household_id[1]') FROM record "
        f"WHERE type = 'visit' AND {household} = ?",
        homes[0],
    )
    check_in = check_in_task_id(homes[0], day_of(parse_datetime(made_at)))
    go(page, f"/tasks/{check_in}")
    expect(page.get_by_role("heading", name=re.compile("5号楼 1单元 101室"))).to_be_visible()
