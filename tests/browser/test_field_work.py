"""Field work in the browser: a lost claim, today's shift, what a delivery volunteer sees.

- vol-a claims a task offline that another volunteer claimed meanwhile: on
  reconnect the app says who holds it and shows the task as theirs.
- vol-a's home screen shows today's shift and post; the coordinator's
  shift screen lists who is missing and who is on duty.
- A medicine run reaches vol-a as a drop point: its screen names the place,
  never the medicine, the dose or the resident's needs.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from server.seed import stable_id
from sync.medicine import medicine_task_id
from sync.testing import mark_id
from tests.browser.helpers import (
    READ_RECORDS,
    SYNC_TIMEOUT_MS,
    act,
    api,
    on_task,
    open_task,
    query,
    seeded_at,
    seeded_task_id,
    sign_in,
    status_bar,
    task_fact,
)
from tests.helpers import DEMO_PASSWORD

pytestmark = pytest.mark.browser

COMPOUND_A = stable_id("compound", "A")
HOUSEHOLD = stable_id("household", "A", 12, 3, "502")
RESIDENT = stable_id("resident", HOUSEHOLD, 0)
OTHER_PASSWORD = DEMO_PASSWORD + "-two"


def login(base_url: str, username: str, password: str = DEMO_PASSWORD) -> str:
    """Return a bearer token for ``username``."""
    request = {"username": username, "password": password, "device_name": "pytest"}
    reply = urllib.request.urlopen(
        urllib.request.Request(
            base_url + "/api/v1/auth/login",
            data=json.dumps(request).encode(),
            headers={"Content-Type": "application/json"},
        ),
        timeout=10,
    )
    return str(json.loads(reply.read())["token"])


def push(base_url: str, token: str, *changes: dict[str, Any]) -> dict[str, Any]:
    """Push one changeset of ``changes`` made now; return its result."""
    body = {
        "client_id": str(uuid.uuid4()),
        "changesets": [
            {"id": str(uuid.uuid4()), "made_at": "2030-01-01T00:00:00Z", "changes": list(changes)}
        ],
    }
    return api(base_url, "POST", "/sync/push", token, body)["results"][0]


def test_a_claim_lost_to_another_volunteer_names_the_holder(device: Any, served: Any) -> None:
    coordinator = login(served.url, "coord")
    api(
        served.url,
        "POST",
        "/users",
        coordinator,
        {
            "username": "vol-a2",
            "display_name": "志愿者 A2",
            "role": "volunteer",
            "scope_kind": "compounds",
            "scope_ids": [COMPOUND_A],
            "password": OTHER_PASSWORD,
        },
    )
    task = seeded_task_id("A", 3)
    page = on_task(device, "vol-a", task)
    page.context.set_offline(True)
    act(page, "Claim this task")
    other = login(served.url, "vol-a2", OTHER_PASSWORD)
    claim = {
        "type": "task",
        "id": task,
        "op": "update",
        "base_version": 0,
        "fields": {"status": "claimed"},
    }
    assert push(served.url, other, claim)["status"] == "applied"
    page.context.set_offline(False)
    expect(status_bar(page)).to_contain_text("1 needs attention", timeout=SYNC_TIMEOUT_MS)
    expect(task_fact(page, "Assignee")).to_have_text("志愿者 A2")
    page.get_by_role("link", name="See why").click()
    expect(page.get_by_text("志愿者 A2 already holds this task.")).to_be_visible()


def test_todays_shift_is_on_the_volunteers_home_and_the_coordinator_sees_who_is_missing(
    device: Any, served: Any, db_path: str
) -> None:
    # The demo's shifts are of the day it was seeded, once a session and maybe
    # before the neighbourhood's midnight: the devices' clocks start then.
    seeded = seeded_at(db_path)
    volunteer = device("vol-a")
    volunteer.clock.install(time=seeded)
    volunteer.reload()
    sign_in(volunteer, "vol-a")
    card = volunteer.get_by_role("region", name="Your shift today")
    expect(card).to_contain_text("1号楼")
    coordinator = device("coord")
    coordinator.clock.install(time=seeded)
    coordinator.reload()
    sign_in(coordinator, "coord")
    # A positive antigen mark reaches the coordinator's home live, as an alert.
    ((round_id,),) = query(db_path, "SELECT id FROM record WHERE type = 'test_round'")
    positive = {"test_round_id": round_id, "resident_id": RESIDENT, "outcome": "antigen_positive"}
    mark = {
        "type": "test_result",
        "id": mark_id(round_id, RESIDENT),
        "op": "create",
        "base_version": 0,
        "fields": positive,
    }
    assert push(served.url, login(served.url, "vol-a"), mark)["status"] == "applied"
    alert = coordinator.get_by_role("alert").filter(has_text="1 antigen-positive resident today")
    expect(alert).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    coordinator.get_by_role("link", name="Shifts").click()
    expect(coordinator.get_by_role("heading", name="Volunteers and shifts")).to_be_visible()
    for group in ("Missing", "On duty now", "Later today"):
        expect(coordinator.get_by_role("region", name=re.compile(f"^{group}"))).to_be_visible()
    listed = coordinator.locator(".duty .card").count()
    assert listed >= 1


def test_a_medicine_run_shows_a_delivery_volunteer_the_drop_point_only(
    device: Any, served: Any
) -> None:
    coordinator, medic = login(served.url, "coord"), login(served.url, "medic")
    request = str(uuid.uuid4())
    fields = {
        "resident_id": RESIDENT,
        "medicine": "胰岛素笔芯",
        "dose": "3支",
        "urgency": "urgent",
    }
    made = push(
        served.url,
        coordinator,
        {
            "type": "med_request",
            "id": request,
            "op": "create",
            "base_version": 0,
            "fields": fields,
        },
    )
    version = made["changes"][0]["version"]
    approve = {
        "type": "med_request",
        "id": request,
        "op": "update",
        "base_version": version,
        "fields": {"status": "approved"},
    }
    assert push(served.url, medic, approve)["status"] == "applied"
    page = device("vol-a")
    sign_in(page, "vol-a")
    open_task(page, medicine_task_id(request))
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text("12号楼 3单元 502室")
    expect(main).not_to_contain_text("胰岛素")
    expect(main).not_to_contain_text("3支")
    # The volunteer's device holds no medicine request made by someone else.
    held = [r for r in page.evaluate(READ_RECORDS, None) if r["type"] == "med_request"]
    assert held == []
