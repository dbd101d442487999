"""Testing rounds in the browser: two devices mark one resident offline.

vol-a and the coordinator both open today's round in building 12 and mark
the same resident with no network: vol-a "Absent", the coordinator, later,
"Tested". After both sync the server holds one mark (the contract's UUIDv5
id on both devices), the later one, and the other kept as a conflict.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from server.seed import stable_id
from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    expect_pending,
    expect_synced,
    go,
    query,
    sign_in,
)

pytestmark = pytest.mark.browser

BUILDING = stable_id("building", "A", 12)
HOUSEHOLD = stable_id("household", "A", 12, 3, "502")
RESIDENT = stable_id("resident", HOUSEHOLD, 0)


def mark(page: Any, round_id: str, name: str, outcome: str) -> None:
    """Open the building's marking screen and mark the resident."""
    go(page, f"/testing/{round_id}/buildings/{BUILDING}")
    group = page.get_by_role("region", name="Unit 3").get_by_role("group", name=name).first
    group.get_by_role("button", name=outcome, exact=True).click()
    expect(group.get_by_role("button", name=outcome, exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )


def test_two_devices_marking_one_resident_make_one_record_and_keep_the_loser(
    device: Any, db_path: str
) -> None:
    ((round_id,),) = query(db_path, "SELECT id FROM record WHERE type = 'test_round'")
    ((name,),) = query(
        db_path, "SELECT json_extract(fields, '$.name') FROM record WHERE id = ?", RESIDENT
    )
    volunteer, coordinator = device("vol-a"), device("coord")
    sign_in(volunteer, "vol-a")
    sign_in(coordinator, "coord")
    for page in (volunteer, coordinator):
        page.context.set_offline(True)
    mark(volunteer, round_id, name, "Absent")
    mark(coordinator, round_id, name, "Tested")
    expect_pending(volunteer, 1)
    expect_pending(coordinator, 1)
    volunteer.context.set_offline(False)
    expect_synced(volunteer, SYNC_TIMEOUT_MS)
    coordinator.context.set_offline(False)
    expect_synced(coordinator, SYNC_TIMEOUT_MS)
    marks = query(
        db_path,
        "SELECT id, json_extract(fields, '$.outcome') FROM record "
        "WHERE type = 'test_result' AND json_extract(fields, '$.resident_id') = ?",
        RESIDENT,
    )
    assert [outcome for _, outcome in marks] == ["tested"]
    lost = query(
        db_path,
        "SELECT json_extract(fields, '$.lost_value') FROM record "
        "WHERE type = 'conflict' AND json_extract(fields, '$.record_id') = ?",
        marks[0][0],
    )
    assert ("absent",) in lost
