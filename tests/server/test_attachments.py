"""Photos of records: ``PUT``/``GET /api/v1/attachments/{id}`` (``server/attachments.py``).

A task claimed by vol-a and a medicine request vol-a made for a resident of
compound A; the request approved, its delivery task claimed by another
volunteer of the compound (vol-c). Who may send and see each kind of photo
is checked for every user against the assignment's table, not the code's
rule; the limits answer problem+json; a re-upload is idempotent.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field

import pytest
from PIL import Image
from sqlalchemy import select

from server import seed
from server.attachments import DOWNLOAD_ACTION
from server.extensions import db
from server.models import AuditEntry, User
from sync.attachments import KINDS, MAX_PHOTO_BYTES
from sync.medicine import medicine_task_id
from tests.helpers import a_user_of, bearer, sign_in
from tests.server.test_sync_api import (
    COMPOUND_A,
    a_changeset,
    a_task,
    create,
    pull_all,
    push,
    update,
)

URL = "/api/v1/attachments"
HOUSEHOLD = seed.stable_id("household", "A", 12, 3, "502")
RESIDENT = seed.stable_id("resident", HOUSEHOLD, 0)
#: The assignment's table: who may send and see each kind of photo (issues 10.3, 12.5).
MAY = {
    "task_proof": {"coord", "vol-a"},  # the compound's coordinators and the assignee
    "prescription": {"coord", "medic", "vol-a"},  # clinicians, coordinators, the requester
}
USERS = ("coord", "vol-a", "vol-b", "vol-c", "guard-a", "leader-a", "medic")


def a_photo(size: tuple[int, int] = (64, 48), fmt: str = "JPEG", colour: str = "teal") -> bytes:
    """Return a small image's bytes."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def put_photo(client, token, record_id, kind, data, photo_id=None, content_type="image/jpeg"):
    """Send a photo; return the reply."""
    return client.put(
        f"{URL}/{photo_id or uuid.uuid4()}?kind={kind}&record_id={record_id}",
        data=data,
        headers={**bearer(token), "Content-Type": content_type},
    )


@dataclass
class Place:
    """The records photos are taken of, and a token per user."""

    tokens: dict[str, str]
    records: dict[str, str] = field(default_factory=dict)


def applied(reply) -> int:
    result = reply["results"][0]
    assert result["status"] == "applied", result
    return int(result["changes"][0]["version"])


def claimed_task(client, coord: str, volunteer: str, task_id: str | None = None) -> str:
    """Return the id of a task of compound A that ``volunteer`` holds (made if not given)."""
    if task_id is None:
        task_id = str(uuid.uuid4())
        version = applied(push(client, coord, a_changeset(create("task", a_task(), task_id))))
    else:
        pulled = pull_all(client, volunteer)[0]
        version = next(r["version"] for r in pulled if r["id"] == task_id)
    claim = update("task", task_id, version, status="claimed")
    applied(push(client, volunteer, a_changeset(claim)))
    return task_id


@pytest.fixture
def place(client) -> Place:
    tokens = {name: sign_in(client, name) for name in USERS if name != "vol-c"}
    tokens["vol-c"] = a_user_of(client, [COMPOUND_A], "vol-c", "volunteer")
    out = Place(tokens)
    out.records["task_proof"] = claimed_task(client, tokens["coord"], tokens["vol-a"])
    request = create(
        "med_request", {"resident_id": RESIDENT, "medicine": "胰岛素", "urgency": "today"}
    )
    version = applied(push(client, tokens["vol-a"], a_changeset(request)))
    out.records["prescription"] = request["id"]
    approve = update("med_request", request["id"], version, status="approved")
    applied(push(client, tokens["medic"], a_changeset(approve)))
    # The delivery volunteer holds the request's medicine run: the trip, not the prescription.
    claimed_task(client, tokens["coord"], tokens["vol-c"], medicine_task_id(request["id"]))
    return out


@pytest.mark.parametrize("kind", sorted(MAY))
def test_each_user_may_send_and_see_exactly_the_photos_the_table_gives_them(client, place, kind):
    record_id = place.records[kind]
    sent = put_photo(client, place.tokens["coord"], record_id, kind, a_photo())
    assert sent.status_code == 201, sent.get_json()
    photo_id = sent.get_json()["id"]
    for name in USERS:
        headers = bearer(place.tokens[name])
        allowed = name in MAY[kind]
        seen = client.get(f"{URL}/{photo_id}", headers=headers)
        listed = client.get(f"{URL}?record_id={record_id}", headers=headers)
        own = put_photo(client, place.tokens[name], record_id, kind, a_photo(colour="red"))
        if allowed:
            assert seen.status_code == 200 and seen.data == a_photo(), name
            assert photo_id in [p["id"] for p in listed.get_json()["attachments"]], name
            assert own.status_code == 201, (name, own.get_json())
        else:
            assert seen.status_code in (403, 404) and seen.data != a_photo(), name
            assert listed.status_code == 403 or listed.get_json()["attachments"] == [], name
            assert own.status_code in (403, 404), (name, own.status_code)
            assert seen.mimetype == "application/problem+json", name


def test_a_photo_is_never_cached_by_others_and_carries_its_digest(client, place):
    sent = put_photo(
        client, place.tokens["vol-a"], place.records["task_proof"], "task_proof", a_photo()
    )
    got = client.get(f"{URL}/{sent.get_json()['id']}", headers=bearer(place.tokens["vol-a"]))
    assert got.headers["Cache-Control"] == "private, no-store"
    assert got.mimetype == "image/jpeg" and got.headers["ETag"]


def test_sending_the_same_photo_again_changes_nothing_and_other_bytes_are_refused(client, place):
    token, record_id = place.tokens["vol-a"], place.records["task_proof"]
    photo_id = str(uuid.uuid4())
    first = put_photo(client, token, record_id, "task_proof", a_photo(), photo_id)
    again = put_photo(client, token, record_id, "task_proof", a_photo(), photo_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    other = put_photo(client, token, record_id, "task_proof", a_photo(colour="red"), photo_id)
    elsewhere = put_photo(
        client, token, place.records["prescription"], "prescription", a_photo(), photo_id
    )
    for reply in (other, elsewhere):
        assert reply.status_code == 409 and reply.get_json()["type"].endswith("attachment-exists")
    listed = client.get(f"{URL}?record_id={record_id}", headers=bearer(token)).get_json()
    assert [p["id"] for p in listed["attachments"]] == [photo_id]
    assert client.get(f"{URL}/{photo_id}", headers=bearer(token)).data == a_photo()


def too_large_jpeg() -> bytes:
    return a_photo() + b"\0" * (MAX_PHOTO_BYTES + 1 - len(a_photo()))


#: (what is sent, content type, status, problem): every way a photo is refused.
REFUSED = {
    "over the byte limit": (too_large_jpeg, "image/jpeg", 413, "photo-too-large"),
    "over the pixel limit": (
        lambda: a_photo((8000, 6000), "PNG"),
        "image/png",
        413,
        "photo-too-large",
    ),
    "text": (lambda: b"not a photo", "text/plain", 415, "unsupported-photo"),
    "a PDF": (lambda: b"%PDF-1.7\n", "application/pdf", 415, "unsupported-photo"),
    "garbage called a JPEG": (lambda: b"\xff\xd8garbage", "image/jpeg", 415, "unsupported-photo"),
    "a PNG called a JPEG": (lambda: a_photo(fmt="PNG"), "image/jpeg", 415, "unsupported-photo"),
    "an SVG": (
        lambda: b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        "image/svg+xml",
        415,
        "unsupported-photo",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_photo_outside_the_limits_is_refused_with_a_problem_and_not_kept(client, place, case):
    make, content_type, status, problem = REFUSED[case]
    token, record_id = place.tokens["vol-a"], place.records["task_proof"]
    reply = put_photo(client, token, record_id, "task_proof", make(), content_type=content_type)
    assert reply.status_code == status, reply.get_json()
    assert reply.mimetype == "application/problem+json"
    assert reply.get_json()["type"].endswith(problem)
    listed = client.get(f"{URL}?record_id={record_id}", headers=bearer(token)).get_json()
    assert listed["attachments"] == []


@pytest.mark.parametrize(
    "query",
    ["kind=selfie&record_id={record}", "kind=task_proof&record_id=12", "kind=task_proof", ""],
)
def test_a_bad_kind_or_record_id_is_a_validation_problem(client, place, query):
    record_id = place.records["task_proof"]
    reply = client.put(
        f"{URL}/{uuid.uuid4()}?{query.format(record=record_id)}",
        data=a_photo(),
        headers={**bearer(place.tokens["vol-a"]), "Content-Type": "image/jpeg"},
    )
    assert reply.status_code == 422 and reply.mimetype == "application/problem+json"


@pytest.mark.parametrize("photo_id", ["not-a-uuid", str(uuid.uuid4()).upper()])
def test_a_photo_id_must_be_a_uuid(client, place, photo_id):
    reply = put_photo(
        client,
        place.tokens["vol-a"],
        place.records["task_proof"],
        "task_proof",
        a_photo(),
        photo_id,
    )
    assert reply.status_code == 422


def test_a_photo_of_the_wrong_kind_for_its_record_is_not_found(client, place):
    reply = put_photo(
        client, place.tokens["coord"], place.records["task_proof"], "prescription", a_photo()
    )
    assert reply.status_code == 404


@pytest.mark.parametrize("kind", sorted(MAY))
def test_every_download_of_a_personal_photo_is_audited_and_no_refused_one(
    app, client, place, kind
):
    record_id = place.records[kind]
    sent = put_photo(client, place.tokens["coord"], record_id, kind, a_photo())
    photo_id = sent.get_json()["id"]
    for name in USERS:
        client.get(f"{URL}/{photo_id}", headers=bearer(place.tokens[name]))
    client.get(f"{URL}?record_id={record_id}", headers=bearer(place.tokens["coord"]))
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == DOWNLOAD_ACTION).order_by(AuditEntry.id)
        ).all()
        audited = [
            (db.session.get(User, e.user_id).username, e.record_type, e.record_id, e.detail)
            for e in entries
        ]
        assert all(e.device_token_id is not None for e in entries)
    expected = [
        (name, KINDS[kind].record_type, record_id, {"attachment_id": photo_id, "kind": kind})
        for name in USERS
        if name in MAY[kind] and KINDS[kind].personal()
    ]
    assert audited == expected


def test_a_prescription_photo_is_personal_so_its_downloads_are_audited():
    assert KINDS["prescription"].personal()
