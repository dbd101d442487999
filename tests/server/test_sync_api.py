"""The sync endpoints over HTTP and Socket.IO, on the seeded demo neighbourhood."""

from __future__ import annotations

import gc
import sys
import uuid

import pytest
from sqlalchemy import event, func, select

from server import scopes, seed, sign_ins
from server.clock import utcnow
from server.extensions import db, socketio
from server.models import ChangesetLog, RecordRow, RecordScope, User
from server.store import SqlStore
from server.sync_api import apply_and_commit, parsed_push, pull_answer
from sync.catalog import REGISTRY
from sync.visibility import view
from tests.helpers import bearer, sign_in

COMPOUND_A = seed.stable_id("compound", "A")
COMPOUND_B = seed.stable_id("compound", "B")
PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


def a_task(compound_id=COMPOUND_A, **fields):
    return {
        "kind": "delivery",
        "title": "送菜",
        "status": "open",
        "compound_id": compound_id,
        "priority": 2,
        **fields,
    }


def a_changeset(*changes, made_at="2022-04-02T10:00:00.000Z", changeset_id=None):
    return {"id": changeset_id or str(uuid.uuid4()), "made_at": made_at, "changes": list(changes)}


def create(record_type, fields, record_id=None):
    return {
        "type": record_type,
        "id": record_id or str(uuid.uuid4()),
        "op": "create",
        "base_version": 0,
        "fields": fields,
    }


def update(record_type, record_id, base_version, **fields):
    return {
        "type": record_type,
        "id": record_id,
        "op": "update",
        "base_version": base_version,
        "fields": fields,
    }


def push(client, token, *changesets, headers=None, client_id="test-device"):
    reply = client.post(
        PUSH,
        json={"client_id": client_id, "changesets": list(changesets)},
        headers={**bearer(token), **(headers or {})},
    )
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def pull_all(client, token, cursor=0, limit=1000):
    records, pages = [], 0
    while True:
        page = client.get(f"{PULL}?cursor={cursor}&limit={limit}", headers=bearer(token))
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        records.extend(body["changes"])
        cursor = body["cursor"]
        pages += 1
        if not body["more"]:
            return records, cursor


@pytest.fixture
def seeded_client(database_url):
    from tests.conftest import make_app

    app = make_app(database_url)
    yield app, app.test_client()
    with app.app_context():
        db.engine.dispose()


def test_first_sync_is_exactly_the_compound_of_the_volunteer(seeded_client):
    app, client = seeded_client
    records, cursor = pull_all(client, sign_in(client, "vol-a"), limit=700)
    with app.app_context():
        in_a = set(
            db.session.scalars(
                select(RecordScope.record_id).where(RecordScope.compound_id == COMPOUND_A)
            )
        )
        # What the volunteer's role, scope and sync policies admit (gate passes
        # reach coordinators and guards only; a volunteer's own shifts only),
        # by the declarations' one rule (sync.visibility.view), conflicts aside.
        actor = scopes.actor_for(db.session.scalar(select(User).where(User.username == "vol-a")))
        store = SqlStore.for_reading()
        admitted = {
            record_id
            for record_id in in_a
            if (record := store.get(record_id)) is not None
            and record.type != "conflict"
            and view(record, actor, REGISTRY, utcnow()) is not None
        }
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "a record came twice"
    assert set(ids) == admitted
    versions = [r["version"] for r in records]
    assert versions == sorted(versions)
    assert pull_all(client, sign_in(client, "vol-a"), cursor)[0] == []


def test_pull_rejects_bad_arguments_and_caps_limit(client):
    token = sign_in(client, "coord")
    assert client.get(f"{PULL}?cursor=-1", headers=bearer(token)).status_code == 422
    assert client.get(f"{PULL}?limit=abc", headers=bearer(token)).status_code == 422
    body = client.get(f"{PULL}?limit=5000", headers=bearer(token)).get_json()
    assert len(body["changes"]) == 1000 and body["more"] is True


def test_a_pull_page_is_read_and_written_with_the_collector_paused(client):
    # A page's thousands of short-lived records are never gone over by the
    # cyclic collector while they live (issue #16); the request's other
    # work is, with the collector made to run at every new object.
    token = sign_in(client, "coord")
    in_page = []

    def note(phase, info):
        if phase == "start":
            frame = sys._getframe()
            while frame is not None and frame.f_code is not pull_answer.__code__:
                frame = frame.f_back
            in_page.append(frame is not None)

    thresholds = gc.get_threshold()
    gc.callbacks.append(note)
    gc.set_threshold(1)
    try:
        reply = client.get(f"{PULL}?limit=50", headers=bearer(token))
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks.remove(note)
    assert reply.status_code == 200 and len(reply.get_json()["changes"]) == 50
    assert in_page and not any(in_page)


def test_a_push_is_parsed_applied_and_written_with_the_collector_paused(client):
    # A push's thousands of short-lived objects (its changes, records and
    # rows) are never gone over by the cyclic collector while they live
    # (issue #16); the request's other work is, with the collector made to
    # run at every new object.
    token = sign_in(client, "coord")
    in_push = []
    codes = {parsed_push.__code__, apply_and_commit.__code__}

    def note(phase, info):
        if phase == "start":
            frame = sys._getframe()
            while frame is not None and frame.f_code not in codes:
                frame = frame.f_back
            in_push.append(frame is not None)

    changesets = [a_changeset(create("task", a_task())) for _ in range(20)]
    body = {"client_id": "test-device", "changesets": changesets}
    thresholds = gc.get_threshold()
    gc.callbacks.append(note)
    gc.set_threshold(1)
    try:
        reply = client.post(PUSH, json=body, headers=bearer(token))
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks.remove(note)
    assert reply.status_code == 200 and len(reply.get_json()["results"]) == 20
    assert in_push and not any(in_push)


def test_push_creates_a_task_seen_by_its_compound_only(client):
    coord, vol_a, vol_b = (sign_in(client, u) for u in ("coord", "vol-a", "vol-b"))
    _, cursor_a = pull_all(client, vol_a)
    _, cursor_b = pull_all(client, vol_b)
    change = create("task", a_task())
    body = push(client, coord, a_changeset(change))
    (result,) = body["results"]
    assert result["status"] == "applied"
    assert result["changes"][0]["version"] == body["cursor"]
    assert [r["id"] for r in pull_all(client, vol_a, cursor_a)[0]] == [change["id"]]
    assert pull_all(client, vol_b, cursor_b)[0] == []


def test_push_takes_ids_of_any_uuid_version_random_or_time_ordered(client):
    # Installs before the web app made UUIDv7 ids sent UUIDv4 ones (sync-contract: ids are
    # UUIDs made by the creator); both kinds must apply, side by side in one push.
    coord, vol_a = sign_in(client, "coord"), sign_in(client, "vol-a")
    _, cursor = pull_all(client, vol_a)
    random_id, time_ordered = str(uuid.uuid4()), "01a23204-c3ab-7d0b-897f-707d28d1a262"
    body = push(
        client,
        coord,
        a_changeset(create("task", a_task(), random_id), changeset_id=str(uuid.uuid4())),
        a_changeset(
            create("task", a_task(), time_ordered),
            changeset_id="01a23204-c3ab-7dbe-b2df-bb70294cc2de",
        ),
    )
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    assert {r["id"] for r in pull_all(client, vol_a, cursor)[0]} == {random_id, time_ordered}


def test_push_is_idempotent_and_records_each_changeset_once(app, client):
    coord = sign_in(client, "coord")
    changeset = a_changeset(create("task", a_task()))
    first = push(client, coord, changeset)
    changeset["changes"][0]["fields"]["title"] = "changed on retry"
    again = push(client, sign_in(client, "coord"), changeset)
    assert again["results"] == first["results"]
    assert again["cursor"] is None
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(ChangesetLog.id == changeset["id"]))
        record = db.session.get(RecordRow, changeset["changes"][0]["id"])
    assert count == 1
    assert record.fields["title"] == "送菜"


def test_malformed_push_is_400_and_bad_changeset_is_rejected_alone(client):
    coord = sign_in(client, "coord")
    assert client.post(PUSH, json={"changesets": {}}, headers=bearer(coord)).status_code == 400
    assert client.post(PUSH, json=[], headers=bearer(coord)).status_code == 400
    good = a_changeset(create("task", a_task()))
    bad = a_changeset(create("task", a_task()), made_at="yesterday")
    body = push(client, coord, bad, good)
    assert [r["status"] for r in body["results"]] == ["rejected", "applied"]
    assert body["results"][0]["changes"][0]["conflict"]["code"] == "invalid"


def test_push_needs_a_token_and_a_supported_schema(client):
    body = {"client_id": "x", "changesets": []}
    assert client.post(PUSH, json=body).status_code == 401
    coord = sign_in(client, "coord")
    old = client.post(PUSH, json=body, headers={**bearer(coord), "Weiguang-Schema": "0"})
    assert old.status_code == 426
    ok = client.post(PUSH, json=body, headers={**bearer(coord), "Weiguang-Schema": "1"})
    assert ok.status_code == 200


def test_task_moved_to_another_compound_is_a_tombstone_for_the_first(client):
    coord, vol_a = sign_in(client, "coord"), sign_in(client, "vol-a")
    change = create("task", a_task())
    version = push(client, coord, a_changeset(change))["cursor"]
    _, cursor = pull_all(client, vol_a)
    push(client, coord, a_changeset(update("task", change["id"], version, compound_id=COMPOUND_B)))
    (tombstone,) = pull_all(client, vol_a, cursor)[0]
    assert tombstone == {
        "type": "task",
        "id": change["id"],
        "version": tombstone["version"],
        "deleted": True,
        "fields": {},
    }


def test_a_pull_reads_exits_only_from_below_the_exits_mark_read_at_sign_in(seeded_client):
    # Issue 16: the sign-in check reads the highest version of any exit with
    # the high-water mark; a pull from at or above it leaves the exits' part
    # out of its statement, a pull from below still gets the tombstone.
    app, client = seeded_client
    coord, vol_a = sign_in(client, "coord"), sign_in(client, "vol-a")
    change = create("task", a_task())
    version = push(client, coord, a_changeset(change))["cursor"]
    moved = update("task", change["id"], version, compound_id=COMPOUND_B)
    exit_version = push(client, coord, a_changeset(moved))["cursor"]
    push(client, coord, a_changeset(create("task", a_task())))
    sent: list[str] = []

    def note(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        below = pull_all(client, vol_a, exit_version - 1)[0]
        below_sent, sent[:] = list(sent), []
        at = pull_all(client, vol_a, exit_version)[0]
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert (below[0]["id"], below[0]["deleted"]) == (change["id"], True)
    # The exits' part reads ``scope_exit.record_id``; the sign-in check only its versions.
    assert any("scope_exit.record_id" in statement for statement in below_sent)
    assert change["id"] not in {r["id"] for r in at}
    assert not any("scope_exit.record_id" in statement for statement in sent), sent


def test_writes_committed_between_a_pulls_marks_and_its_page_are_sent_once(
    seeded_client, monkeypatch
):
    # Issue 16: on SQLite a pull reads its marks on a connection of its own
    # and its page later in the session (server.sign_ins.check_row), as each
    # statement of PostgreSQL's READ COMMITTED sees a newer snapshot. Pushes
    # committed in between (an edit of a record the page would hold, a
    # create, a move out of the compound) reach the device by the next pull:
    # nothing skipped, no version sent twice, each record at its latest.
    _, client = seeded_client
    coord, vol_a = sign_in(client, "coord"), sign_in(client, "vol-a")
    edited, moved = create("task", a_task()), create("task", a_task())
    versions = push(client, coord, a_changeset(edited), a_changeset(moved))["results"]
    start = pull_all(client, vol_a, 0)[1]
    pending = create("task", a_task(title="before the pull"))
    pending_version = push(client, coord, a_changeset(pending))["cursor"]
    check_row = sign_ins.check_row
    meanwhile: list[dict] = []
    notes = "edited meanwhile"

    def then_push(marks: bool):  # type: ignore[no-untyped-def]
        read = check_row(marks)
        if marks and not meanwhile:
            late = create("task", a_task(title="meanwhile"))
            meanwhile.append(late)
            push(
                client,
                coord,
                a_changeset(update("task", pending["id"], pending_version, notes=notes)),
                a_changeset(late),
                a_changeset(
                    update(
                        "task",
                        moved["id"],
                        versions[1]["changes"][0]["version"],
                        compound_id=COMPOUND_B,
                    )
                ),
            )
        return read

    monkeypatch.setattr(sign_ins, "check_row", then_push)
    first = client.get(f"{PULL}?cursor={start}&limit=1000", headers=bearer(vol_a)).get_json()
    assert meanwhile, "the push ran between the marks and the page"
    monkeypatch.setattr(sign_ins, "check_row", check_row)
    rest, end = pull_all(client, vol_a, first["cursor"])
    sent = first["changes"] + rest
    versions_sent = [r["version"] for r in sent]
    assert len(versions_sent) == len(set(versions_sent)), "a version was sent twice"
    latest = {r["id"]: r for r in sent}
    assert latest[pending["id"]]["fields"]["notes"] == notes
    assert latest[meanwhile[0]["id"]]["deleted"] is False
    assert latest[moved["id"]]["deleted"] is True  # its tombstone: it left compound A
    assert edited["id"] not in latest  # unchanged since the device's cursor
    assert client.get(f"{PULL}?cursor={end}", headers=bearer(vol_a)).get_json()["changes"] == []


def test_concurrent_edit_keeps_the_loser_for_coordinators_only(client):
    coord, vol_a = sign_in(client, "coord"), sign_in(client, "vol-a")
    change = create("task", a_task())
    push(client, coord, a_changeset(change))
    claim = update("task", change["id"], 0, status="claimed")
    version = push(client, vol_a, a_changeset(claim))["cursor"]
    _, vol_cursor = pull_all(client, vol_a)
    coord_edit = update("task", change["id"], version, notes="门口放")
    push(client, coord, a_changeset(coord_edit, made_at="2022-04-02T11:00:00.000Z"))
    vol_edit = update("task", change["id"], version, notes="敲门")
    late = push(client, vol_a, a_changeset(vol_edit, made_at="2022-04-02T10:30:00.000Z"))
    assert late["results"][0]["changes"][0]["status"] == "merged"
    assert late["results"][0]["changes"][0]["lost_fields"] == ["notes"]
    conflicts = [r for r in pull_all(client, coord)[0] if r["type"] == "conflict"]
    assert [(c["fields"]["kept_value"], c["fields"]["lost_value"]) for c in conflicts] == [
        ("门口放", "敲门")
    ]
    assert not [r for r in pull_all(client, vol_a, vol_cursor)[0] if r["type"] == "conflict"]


def test_a_coordinators_laptop_and_phone_keep_each_others_edits(client):
    # Issue 7, item 6: one user, two installs, one base: the loser is kept.
    laptop, phone = sign_in(client, "coord"), sign_in(client, "coord")
    change = create("task", a_task())
    base = push(client, laptop, a_changeset(change), client_id="laptop")["cursor"]
    on_laptop = update("task", change["id"], base, notes="laptop")
    push(
        client,
        laptop,
        a_changeset(on_laptop, made_at="2022-04-02T10:05:00.000Z"),
        client_id="laptop",
    )
    on_phone = update("task", change["id"], base, notes="phone")
    push(
        client, phone, a_changeset(on_phone, made_at="2022-04-02T10:10:00.000Z"), client_id="phone"
    )
    again = update("task", change["id"], base, notes="phone, again")
    # The phone again, without pulling: it saw its own edit, so no conflict.
    push(client, phone, a_changeset(again, made_at="2022-04-02T10:11:00.000Z"), client_id="phone")
    records, _ = pull_all(client, laptop)
    (task,) = [r for r in records if r["id"] == change["id"]]
    assert task["fields"]["notes"] == "phone, again"
    (conflict,) = [r["fields"] for r in records if r["type"] == "conflict"]
    assert (conflict["kept_value"], conflict["lost_value"]) == ("phone", "laptop")
    assert conflict["kept_by"] == conflict["lost_by"]
    assert (conflict["kept_device"], conflict["lost_device"]) == ("phone", "laptop")


def test_live_changes_reach_the_compound_and_the_pusher_only(app, client):
    coord, vol_a, vol_b = (sign_in(client, u) for u in ("coord", "vol-a", "vol-b"))
    sockets = {
        name: socketio.test_client(app, flask_test_client=client, auth={"token": t})
        for name, t in (("coord", coord), ("vol-a", vol_a), ("vol-b", vol_b))
    }
    for socket in sockets.values():
        socket.get_received()
    before = client.get(f"{PULL}?cursor=999999999", headers=bearer(coord)).get_json()["cursor"]
    change = create("task", a_task())
    cursor = push(client, coord, a_changeset(change))["cursor"]
    for name in ("coord", "vol-a"):
        events = [e for e in sockets[name].get_received() if e["name"] == "changes"]
        assert events, f"{name} got no event"
        (payload,) = events[0]["args"]
        assert payload["prev"] == before and payload["cursor"] == cursor
        assert [r["id"] for r in payload["changes"]] == [change["id"]]
    assert not [e for e in sockets["vol-b"].get_received() if e["name"] == "changes"]


def test_guards_do_not_see_residents_phones_or_needs(client):
    records, _ = pull_all(client, sign_in(client, "guard-a"))
    residents = [r["fields"] for r in records if r["type"] == "resident"]
    assert residents and all("phone" not in r and "needs" not in r for r in residents)
    volunteer = [
        r["fields"]
        for r in pull_all(client, sign_in(client, "vol-a"))[0]
        if r["type"] == "resident"
    ]
    assert all("phone" in r for r in volunteer)


def test_first_sync_can_fetch_tasks_and_buildings_first(client):
    token = sign_in(client, "vol-a")
    first = client.get(f"{PULL}?cursor=0&limit=1000&types=task,building", headers=bearer(token))
    body = first.get_json()
    assert {r["type"] for r in body["changes"]} == {"task", "building"}
    assert body["more"] is False
    everything, _ = pull_all(client, token)
    wanted = {r["id"] for r in everything if r["type"] in ("task", "building")}
    assert {r["id"] for r in body["changes"]} == wanted
    bad = client.get(f"{PULL}?types=task,spaceship", headers=bearer(token))
    assert bad.status_code == 422
    assert "spaceship" in bad.get_json()["errors"]["types"][0]
