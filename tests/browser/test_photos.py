"""A done task's proof photo: taken offline, sent on its own, never holding back the data.

vol-a marks a task done with a code and a photo while offline. Back online,
the photo endpoint fails (503) for as long as the test says: the task's done
state reaches the server all the same, the screen says the photo is not sent
yet, and once the endpoint answers again the photo arrives by itself — scaled
down on the phone to a JPEG of at most 1600 px a side.
"""

from __future__ import annotations

import io
import urllib.request
import uuid
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Route, expect

from server.seed import stable_id
from sync.medicine import medicine_task_id
from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    act,
    expect_pending,
    expect_synced,
    go,
    landed,
    on_task,
    query,
    seeded_task_id,
    sign_in,
    task_fact,
    token_of,
)

pytestmark = pytest.mark.browser

TASK = seeded_task_id("A", 4)
HOUSEHOLD = stable_id("household", "A", 7, 1, "201")
PROOF = "Proof: the recipient’s code or a short note"


def a_camera_photo() -> bytes:
    """Return a photo as a phone camera makes it: 4000 × 3000 px."""
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), "orange").save(out, "JPEG", quality=70)
    return out.getvalue()


def stored_photos(db_path: str) -> list[tuple[Any, ...]]:
    sql = "SELECT kind, content_type, data FROM attachment WHERE record_id = ?"
    return query(db_path, sql, TASK)


def test_the_done_state_reaches_the_server_while_the_photo_fails_and_the_photo_follows(
    device: Any, db_path: str
) -> None:
    page = on_task(device, "vol-a", TASK)
    act(page, "Claim this task")
    expect(task_fact(page, "Status")).to_have_text("Claimed")
    act(page, "Start")
    expect(task_fact(page, "Status")).to_have_text("In progress")
    expect_synced(page)

    page.context.set_offline(True)
    page.get_by_label(PROOF, exact=True).fill("4821")
    page.get_by_label("Photo as proof (optional)", exact=True).set_input_files(
        {"name": "door.jpg", "mimeType": "image/jpeg", "buffer": a_camera_photo()}
    )
    act(page, "Mark done")
    expect(task_fact(page, "Status")).to_have_text("Done")
    expect_pending(page, 1)
    expect(page.locator("[data-photo-state]")).to_have_attribute("data-photo-state", "waiting")

    refused: list[str] = []

    def unavailable(route: Route) -> None:
        refused.append(route.request.method)
        route.fulfill(
            status=503,
            content_type="application/problem+json",
            body='{"type": "about:blank", "title": "Service Unavailable", "status": 503}',
        )

    page.context.route("**/api/v1/attachments/**", unavailable)
    page.context.set_offline(False)
    landed(page, db_path, TASK, status="done", proof="4821")
    expect_synced(page)
    expect(page.locator("[data-photo-state]")).to_have_attribute(
        "data-photo-state", "retrying", timeout=SYNC_TIMEOUT_MS
    )
    expect(page.get_by_text("Photo not sent yet")).to_be_visible()
    assert refused and stored_photos(db_path) == []

    page.context.unroute("**/api/v1/attachments/**")
    expect(page.locator("[data-photo-state]")).to_have_attribute(
        "data-photo-state", "sent", timeout=SYNC_TIMEOUT_MS
    )
    expect(page.get_by_text("Photo sent.")).to_be_visible()
    [(kind, content_type, data)] = stored_photos(db_path)
    assert (kind, content_type) == ("task_proof", "image/jpeg")
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and max(image.size) == 1600

    # The coordinator sees the proof on the task's screen.
    coord = on_task(device, "coord", TASK)
    expect(coord.get_by_role("img", name="Photo as proof")).to_be_visible()
    coord.wait_for_function("() => document.querySelector('.photos img')?.naturalWidth === 1600")


def send_photo(base_url: str, token: str, kind: str, record_id: str, data: bytes) -> str:
    """Send a photo of a record as the app does (``PUT /api/v1/attachments/ID``); return the ID."""
    photo_id = str(uuid.uuid4())
    request = urllib.request.Request(
        f"{base_url}/api/v1/attachments/{photo_id}?kind={kind}&record_id={record_id}",
        method="PUT",
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 201
    return photo_id


def test_the_clinician_sees_the_prescription_photo_and_the_delivery_volunteer_does_not(
    device: Any, served: Any, db_path: str
) -> None:
    # A seeded request the coordinator made for a resident, with their prescription photo.
    request_id = stable_id("med_request", stable_id("resident", HOUSEHOLD, 0))
    prescription = a_camera_photo()
    send_photo(served.url, token_of(served.url, "coord"), "prescription", request_id, prescription)

    page = device("medic")
    sign_in(page, "medic")
    go(page, f"/med/{request_id}")
    photo = page.get_by_role("img", name="Prescription photo")
    expect(photo).to_be_visible()
    src = photo.get_attribute("src", timeout=UI_TIMEOUT_MS)
    assert src.startswith("blob:")
    page.wait_for_function(  # the image decoded: the CSP let the blob URL through
        "() => document.querySelector('.photos img')?.naturalWidth === 4000"
    )
    # Leaving the screen lets the photo go; offline, the screen says why there is none.
    go(page, "/med")
    expect(page.locator(".photos img")).to_have_count(0)  # the list is drawn: the screen changed
    readable = "src => fetch(src).then(() => true, () => false)"
    assert page.evaluate(readable, src) is False
    page.context.set_offline(True)
    go(page, f"/med/{request_id}")
    expect(page.get_by_text("The photo is not available offline")).to_be_visible()
    page.context.set_offline(False)
    go(page, "/med")
    go(page, f"/med/{request_id}")
    expect(page.get_by_role("img", name="Prescription photo")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    landed(page, db_path, request_id, status="approved")

    # The medicine run: vol-a carries it, and sees the trip, not the prescription.
    task_id = medicine_task_id(request_id)
    rider = on_task(device, "vol-a", task_id)
    act(rider, "Claim this task")
    expect(task_fact(rider, "Status")).to_have_text("Claimed")
    expect(rider.locator("main img")).to_have_count(0)
    expect(rider.locator("main")).not_to_contain_text("photo")
