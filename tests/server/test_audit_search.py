"""The audit search: who changed what and when, for coordinators, within their scope."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server import audit, database, directory, seed
from server.extensions import db
from server.models import RecordRow, User
from tests.conftest import app_on
from tests.helpers import a_coordinator_of, a_task_create, bearer, sign_in

AUDIT = "/api/v1/audit"
COMPOUND_A = seed.stable_id("compound", "A")
COMPOUND_B = seed.stable_id("compound", "B")
HOUSEHOLD = seed.stable_id("household", "A", 1, 1, "101")
NEIGHBOUR = seed.stable_id("household", "A", 1, 1, "102")
HOUSEHOLD_B = seed.stable_id("household", "B", 1, 1, "101")


@pytest.fixture
def app(database_url):
    """Every test here runs on SQLite and on PostgreSQL (the log is searched as JSON text)."""
    yield from app_on(database_url)


def push(client, token: str, *changes: dict, made_at="2022-04-02T10:00:00.000Z") -> dict:
    body = {
        "client_id": "test-install",
        "changesets": [{"id": str(uuid.uuid4()), "made_at": made_at, "changes": list(changes)}],
    }
    reply = client.post("/api/v1/sync/push", json=body, headers=bearer(token)).get_json()
    assert reply["results"][0]["status"] == "applied", reply
    return reply


def a_visit(household_id: str, notes: str = "老人独居，需要送药") -> dict:
    fields = {"household_id": household_id, "outcome": "answered", "present": 1, "notes": notes}
    return {"type": "visit", "id": str(uuid.uuid4()), "op": "create", "fields": fields}


def resident_of(app, household_id: str) -> tuple[str, int]:
    with app.app_context():
        row = db.session.execute(
            select(RecordRow.id, RecordRow.version).where(
                RecordRow.type == "resident",
                RecordRow.fields["household_id"].as_string() == household_id,
            )
        ).first()
        return row.id, row.version


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def search(client, token: str, **query) -> dict:
    reply = client.get(AUDIT, query_string=query, headers=bearer(token))
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def every_entry(client, token: str, **query) -> list[dict]:
    """Walk every page of a search."""
    entries, cursor = [], None
    for _ in range(1000):
        page = search(client, token, **query, **({"cursor": cursor} if cursor else {}))
        entries += page["entries"]
        if not page["more"]:
            assert page["cursor"] is None
            return entries
        cursor = page["cursor"]
    raise AssertionError("the pages never ended")


@pytest.fixture
def history(app, client):
    """vol-a visits a household and edits a resident; coord adds tasks in A and B."""
    vol_a = sign_in(client, "vol-a", device_name="楼道手机")
    coord = sign_in(client, "coord", device_name="居委会笔记本")
    resident, version = resident_of(app, HOUSEHOLD)
    visit = a_visit(HOUSEHOLD)
    push(client, vol_a, visit, made_at="2022-04-02T09:00:00.000Z")
    edit = {
        "type": "resident",
        "id": resident,
        "op": "update",
        "base_version": version,
        "fields": {"phone": "13800001111", "needs": ["elderly_alone"]},
    }
    push(client, vol_a, edit, made_at="2022-04-02T09:05:00.000Z")
    neighbour_task = {
        **a_task_create(COMPOUND_A),
        "fields": {
            **a_task_create(COMPOUND_A)["fields"],
            "household_id": NEIGHBOUR,
            "building_id": seed.stable_id("building", "A", 1),
        },
    }
    push(client, coord, neighbour_task)
    task_b = a_task_create(COMPOUND_B)
    push(client, coord, task_b)
    return {
        "visit": visit["id"],
        "resident": resident,
        "task": neighbour_task["id"],
        "task_b": task_b["id"],
    }


def test_an_entry_says_who_changed_what_when_and_on_which_device(client, token_for, history):
    [entry] = search(client, token_for("coord"), record_id=history["resident"])["entries"]
    assert entry["user"]["username"] == "vol-a"
    assert entry["device"] == "楼道手机"
    assert entry["record_type"] == "resident"
    assert entry["status"] == "applied"
    assert entry["household_id"] == HOUSEHOLD
    assert entry["fields"] == {"phone": "13800001111", "needs": ["elderly_alone"]}
    assert entry["made_at"] == "2022-04-02T09:05:00+00:00"
    assert entry["received_at"] >= entry["made_at"]


def test_a_household_search_finds_its_records_and_its_residents_only(client, token_for, history):
    entries = every_entry(client, token_for("coord"), household_id=HOUSEHOLD)
    assert {(e["record_type"], e["record_id"]) for e in entries} == {
        ("visit", history["visit"]),
        ("resident", history["resident"]),
    }
    neighbours = every_entry(client, token_for("coord"), household_id=NEIGHBOUR)
    assert [e["record_id"] for e in neighbours] == [history["task"]]


def test_a_user_search_finds_that_users_changes_only(app, client, token_for, history):
    entries = every_entry(client, token_for("coord"), user_id=user_id(app, "vol-a"))
    assert {e["record_id"] for e in entries} >= {history["visit"], history["resident"]}
    assert {e["user"]["username"] for e in entries} == {"vol-a"}


def test_a_text_search_looks_through_people_devices_and_values(client, token_for, history):
    found = every_entry(client, token_for("coord"), q="需要送药")
    assert [e["record_id"] for e in found] == [history["visit"]]
    by_device = every_entry(client, token_for("coord"), q="楼道手机")
    assert {e["record_id"] for e in by_device} == {history["visit"], history["resident"]}


def test_a_coordinator_of_compound_a_sees_nothing_of_b(client, history):
    coord_a = a_coordinator_of(client, [COMPOUND_A], "coord-a")
    everything = every_entry(client, coord_a)
    ids = {e["record_id"] for e in everything}
    assert history["task"] in ids and history["task_b"] not in ids
    assert search(client, coord_a, record_id=history["task_b"])["entries"] == []
    assert search(client, coord_a, household_id=HOUSEHOLD_B)["entries"] == []
    coord_b = a_coordinator_of(client, [COMPOUND_B], "coord-b")
    assert {e["record_id"] for e in every_entry(client, coord_b, q="清运")} == {history["task_b"]}


@pytest.mark.parametrize("username", ["vol-a", "guard-a", "leader-a", "medic"])
def test_only_coordinators_may_search(client, token_for, username):
    reply = client.get(AUDIT, headers=bearer(token_for(username)))
    assert reply.status_code == 403
    assert reply.content_type == "application/problem+json"


def test_a_search_needs_a_token(client):
    reply = client.get(AUDIT)
    assert reply.status_code == 401
    assert reply.content_type == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"household_id": "12-3-502"}, "household_id"),
        ({"record_id": str(uuid.uuid4()).upper()}, "record_id"),
        ({"user_id": "vol-a"}, "user_id"),
        ({"record_type": "person"}, "record_type"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"q": "x" * 201}, "q"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_validation_problem(client, token_for, query, field):
    reply = client.get(AUDIT, query_string=query, headers=bearer(token_for("coord")))
    assert reply.status_code == 422
    assert reply.content_type == "application/problem+json"
    assert field in reply.get_json()["errors"]


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_pages_hold_every_entry_once_in_order_across_scan_batches(
    client, token_for, history, monkeypatch, limit
):
    coord = token_for("coord")
    whole = search(client, coord, limit=200)
    assert not whole["more"]
    monkeypatch.setattr(audit, "SCAN_ROWS", 2)
    paged = every_entry(client, coord, limit=limit)
    key = [(e["changeset_id"], e["record_id"]) for e in paged]
    assert key == [(e["changeset_id"], e["record_id"]) for e in whole["entries"]]
    assert len(set(key)) == len(key)
    times = [e["received_at"] for e in paged]
    assert times == sorted(times, reverse=True)


def test_each_read_of_the_changeset_log_is_served_by_its_index(app, history):
    """The audit's pages (all, or one user's, after a cursor) and the device names by install.

    Issue #16: who pushed and when is one ``push_log`` row a push; the
    audit walks the pushes by receipt time and each one's changesets by
    ``ix_changeset_log_push``.
    """
    with app.app_context():
        vol_a = user_id(app, "vol-a")

        def plan(read):
            return database.plan_of(read, avoid_seq_scans=True, avoid_sorts=True)

        after = audit.Position(datetime(2030, 1, 1, tzinfo=UTC), "~")
        # On a test-sized table PostgreSQL would rightly scan and sort: the
        # question is whether each index *can* serve its read.
        plans = {
            "ix_push_log_received": [
                plan(lambda: next(audit.log_batches(None, None, None))),
                plan(lambda: next(audit.log_batches(after, None, None))),
            ],
            "ix_push_log_user_received": [
                plan(lambda: next(audit.log_batches(None, vol_a, None))),
                plan(lambda: next(audit.log_batches(after, vol_a, None))),
            ],
            "ix_push_log_client_id": [
                plan(lambda: directory.install_names(["a", "b"])),
            ],
        }
    for index, found in plans.items():
        for text in found:
            assert re.search(rf"\b{index}\b", text), text
    # Newest first by walking the index backwards, not by sorting the log:
    # at most the changesets of one receipt time (one push's) are put in
    # order of id (SQLite's right part of the ORDER BY, PostgreSQL's
    # incremental sort after the receipt time).
    for text in plans["ix_push_log_received"] + plans["ix_push_log_user_received"]:
        assert "ix_changeset_log_push" in text, text
        assert "TEMP B-TREE FOR ORDER BY" not in text, text
        assert not re.search(r"(?<!Incremental )\bSort  \(", text), text
        presorted = text.count("Presorted Key: push_log.received_at")
        assert text.count("Sort Key") == presorted, text


def version_of(app, record_id: str) -> int:
    with app.app_context():
        return db.session.get(RecordRow, record_id).version


def entries_for(client, token: str, record_id: str) -> list[dict]:
    return every_entry(client, token, record_id=record_id)


def _same_values(app, client, history, tokens):
    """Somebody else sends the values the record already holds."""
    resident = history["resident"]
    same = {"phone": "13800001111", "needs": ["elderly_alone"]}
    change = {"type": "resident", "id": resident, "op": "update", "fields": same}
    push(client, tokens["coord"], {**change, "base_version": version_of(app, resident)})
    return resident, "vol-a", same


def _create_again(app, client, history, tokens):
    """A device queues a create again (its first push's answer was lost)."""
    visit = a_visit(HOUSEHOLD)
    push(client, tokens["vol-a"], visit)
    push(client, tokens["vol-a"], visit, made_at="2022-04-02T11:00:00.000Z")
    return visit["id"], "vol-a", {name: visit["fields"][name] for name in ("notes",)}


def _delete_again(app, client, history, tokens):
    """Deleting a tombstone again: a second coordinator device catches up late."""
    task = history["task"]
    gone = {"type": "task", "id": task, "op": "delete", "base_version": version_of(app, task)}
    push(client, tokens["coord"], gone)
    push(client, sign_in(client, "coord", device_name="第二台"), gone)
    return task, "coord", None


def _claim_again(app, client, history, tokens):
    """The claimant claims again (a re-queued claim): the task machine's no-op."""
    task = history["task"]
    claim = {"status": "claimed", "assignee_id": user_id(app, "vol-a")}
    change = {"type": "task", "id": task, "op": "update", "fields": claim}
    push(client, tokens["vol-a"], {**change, "base_version": version_of(app, task)})
    push(client, tokens["vol-a"], {**change, "base_version": version_of(app, task) - 1})
    return task, "vol-a", claim


@pytest.mark.parametrize(
    "no_op", [_same_values, _create_again, _delete_again, _claim_again], ids=lambda f: f.__name__
)
def test_a_change_that_wrote_nothing_is_not_credited_with_the_write_before_it(
    app, client, token_for, history, no_op
):
    """A no-op answers with the record's current version, which someone else wrote."""
    tokens = {"vol-a": token_for("vol-a"), "coord": token_for("coord")}
    record_id, writer, fields = no_op(app, client, history, tokens)
    entries = entries_for(client, tokens["coord"], record_id)
    if fields is None:  # the delete: one entry says the record was deleted, by its deleter
        [deleted] = [e for e in entries if e["deleted"]]
        assert deleted["user"]["username"] == writer
    else:
        [holder] = [e for e in entries if e["fields"].keys() >= fields.keys()]
        assert holder["user"]["username"] == writer
        assert holder["fields"] == {**holder["fields"], **fields}
    # Every listed change wrote the version it names: none repeats another's.
    versions = [e["version"] for e in entries]
    assert len(versions) == len(set(versions)), entries


def test_a_change_whose_every_field_lost_is_listed_with_what_it_lost(
    app, client, token_for, history
):
    resident = history["resident"]
    coord = token_for("coord")
    older = {"phone": "13900002222"}
    change = {"type": "resident", "id": resident, "op": "update", "fields": older}
    reply = push(client, coord, {**change, "base_version": 1}, made_at="2022-04-02T08:00:00.000Z")
    assert reply["results"][0]["changes"][0]["lost_fields"] == ["phone"]
    entries = entries_for(client, coord, resident)
    [lost] = [e for e in entries if e["user"]["username"] == "coord"]
    assert lost["status"] == "merged"
    assert lost["fields"] == {}
    assert lost["lost_fields"] == ["phone"]
    [held] = [e for e in entries if "phone" in e["fields"]]
    assert held["user"]["username"] == "vol-a"


def test_a_replayed_push_answers_exactly_what_the_first_did(app, client, token_for, history):
    """The log keeps ``wrote: false`` for the audit; the wire never shows it."""
    vol_a = token_for("vol-a")
    resident = history["resident"]
    same = {"phone": "13800001111"}
    body = {
        "client_id": "test-install",
        "changesets": [
            {
                "id": str(uuid.uuid4()),
                "made_at": "2022-04-02T10:00:00.000Z",
                "changes": [
                    {
                        "type": "resident",
                        "id": resident,
                        "op": "update",
                        "base_version": version_of(app, resident),
                        "fields": same,
                    }
                ],
            }
        ],
    }
    first = client.post("/api/v1/sync/push", json=body, headers=bearer(vol_a)).get_json()
    again = client.post("/api/v1/sync/push", json=body, headers=bearer(vol_a)).get_json()
    assert "wrote" not in first["results"][0]["changes"][0]
    assert again["results"] == first["results"]
