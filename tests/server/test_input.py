"""No input from a client may produce a 500, nor stop what is stored from being served.

Issue 7, items 1 (stored data the server cannot serve), 4 (input that
answered 500), 5 (``made_at`` without a zone) and 8 (push caps). Every
answer here is a result or problem+json; a bad changeset is rejected alone
and the valid changeset after it still applies. Each runs on SQLite and,
when it answers, PostgreSQL (whose column limits are part of the kind).
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from sqlalchemy import select, update

from server import seed
from server.extensions import db
from server.models import ChangesetLog, RecordRow
from sync.wire import MAX_CHANGES, MAX_CHANGESETS, MAX_VERSION
from tests.helpers import bearer, sign_in
from tests.server.test_errors import assert_problem
from tests.server.test_sync_api import PULL, PUSH, a_changeset, create, pull_all

HOUSEHOLD_A = seed.stable_id("household", "A", 1, 1, "101")
# The issue's example as raw JSON text: legal JSON, an unpaired surrogate once decoded.
SMILE_JSON = '"smile \\ud83d end"'
SMILE = json.loads(SMILE_JSON)


def a_visit(**fields):
    return create(
        "visit", {"household_id": HOUSEHOLD_A, "outcome": "answered", "present": 1, **fields}
    )


def post_raw(client, path, text, token=None, content_type="application/json"):
    """POST ``text`` as it is: the test client would re-encode a surrogate."""
    headers = bearer(token) if token else {}
    return client.post(path, data=text.encode(), content_type=content_type, headers=headers)


def push_text(client, token, *changesets):
    return post_raw(
        client, PUSH, json.dumps({"client_id": "dev", "changesets": changesets}), token
    )


def results_of(reply):
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return [result["status"] for result in reply.get_json()["results"]]


def first_code(reply, index=0):
    return reply.get_json()["results"][index]["changes"][0]["conflict"]["code"]


@pytest.fixture
def client(database_url):
    from tests.conftest import make_app

    app = make_app(database_url)
    with app.app_context():
        yield app.test_client()
        db.engine.dispose()


# -- item 1: stored data the server cannot serve --------------------------------------


def test_issue_example_a_lone_surrogate_is_invalid_and_every_pull_still_answers(client):
    vol_a = sign_in(client, "vol-a")
    cursors = {user: pull_all(client, sign_in(client, user))[1] for user in ("coord", "medic")}
    cursors["vol-a"] = pull_all(client, vol_a)[1]
    text = json.dumps(
        {
            "client_id": "dev",
            "changesets": [a_changeset(a_visit(notes="@")), a_changeset(a_visit())],
        }
    ).replace('"@"', SMILE_JSON)
    reply = post_raw(client, PUSH, text, vol_a)
    assert results_of(reply) == ["rejected", "applied"]
    assert first_code(reply) == "invalid"
    assert "Unicode" in reply.get_json()["results"][0]["changes"][0]["conflict"]["detail"]
    for user, cursor in cursors.items():
        records, _ = pull_all(client, sign_in(client, user), cursor)
        assert [r["type"] for r in records] == ["visit"], user


@pytest.mark.parametrize(
    "spoil",
    [
        lambda cs: cs["changes"][0]["fields"].update(notes=SMILE),
        lambda cs: cs["changes"][0]["fields"].update(needs=["ok", SMILE]),
        lambda cs: cs["changes"][0]["fields"].update({SMILE: "a key"}),
        lambda cs: cs["changes"][0].update(id=SMILE),
        lambda cs: cs["changes"][0].update(type=SMILE),
        lambda cs: cs.update(id=SMILE),
        lambda cs: cs.update(made_at="2022-04-02T10:00:00.000Z" + SMILE),
        lambda cs: cs["changes"][0]["fields"].update(notes="nul \x00 inside"),
    ],
)
def test_unstorable_text_anywhere_in_a_changeset_rejects_it_alone(client, spoil):
    vol_a = sign_in(client, "vol-a")
    spoiled = a_changeset(a_visit())
    spoil(spoiled)
    # ensure_ascii writes a lone surrogate as the \\ud83d escape a device would send.
    reply = push_text(client, vol_a, spoiled, a_changeset(a_visit()))
    assert results_of(reply) == ["rejected", "applied"]
    assert first_code(reply) == "invalid"
    assert "\ud83d" not in reply.get_data(as_text=True)


@pytest.mark.parametrize(
    "body",
    [
        {"client_id": SMILE, "changesets": []},
        {"client_id": "dev", "changesets": [], "note": SMILE},
        {"client_id": "dev\x00", "changesets": []},
    ],
)
def test_unstorable_text_outside_the_changesets_is_400(client, body):
    reply = post_raw(client, PUSH, json.dumps(body), sign_in(client, "vol-a"))
    assert_problem(reply, 400)


@pytest.mark.parametrize(
    "body",
    [
        {"username": SMILE, "password": "x"},
        {"username": "coord", "password": SMILE},
        {"username": "coord\x00", "password": "x"},
        {"username": "coord", "password": "x", "device_name": SMILE},
    ],
)
def test_unstorable_text_in_a_sign_in_is_422(client, body):
    assert_problem(post_raw(client, "/api/v1/auth/login", json.dumps(body)), 422)


def test_a_surrogate_stored_before_the_boundary_is_served_replaced(client):
    coord = sign_in(client, "coord")
    db.session.execute(
        update(RecordRow)
        .where(RecordRow.id == HOUSEHOLD_A)
        .values(fields={"unit": SMILE, "room": "101", "floor": 1})
    )
    db.session.commit()
    for user in ("coord", "vol-a", "leader-a"):
        records, _ = pull_all(client, coord if user == "coord" else sign_in(client, user))
        (household,) = (r for r in records if r["id"] == HOUSEHOLD_A)
        assert household["fields"]["unit"] == "smile \ufffd end"


def test_a_damaged_row_is_left_out_and_logged_and_the_page_goes_on(client, caplog):
    coord = sign_in(client, "coord")
    everything, high_water = pull_all(client, coord)
    # Valid JSON (PostgreSQL's json type takes nothing else), but not an object.
    db.session.execute(update(RecordRow).where(RecordRow.id == HOUSEHOLD_A).values(fields=[1]))
    db.session.commit()
    with caplog.at_level(logging.ERROR, logger="server.store"):
        records, cursor = pull_all(client, coord, limit=700)
    assert cursor == high_water
    assert {r["id"] for r in records} == {r["id"] for r in everything} - {HOUSEHOLD_A}
    assert HOUSEHOLD_A in caplog.text
    # A device that creates the household again repairs it.
    household = create("household", {**seed_household_fields(everything)}, HOUSEHOLD_A)
    reply = push_text(client, coord, a_changeset(household))
    assert results_of(reply) == ["applied"]
    (repaired,) = (r for r in pull_all(client, coord, cursor)[0] if r["id"] == HOUSEHOLD_A)
    assert repaired["fields"]["room"] == "101"


def seed_household_fields(records):
    (household,) = (r for r in records if r["id"] == HOUSEHOLD_A)
    return household["fields"]


# -- items 4 and 5: made_at ----------------------------------------------------------


@pytest.mark.parametrize(
    "made_at",
    [
        "9999-12-31T23:59:59-01:00",  # the issue's example: past year 9999 in UTC
        "0001-01-01T00:00:00+00:01",
        "2022-03-23T10:00:00",  # item 5: no zone
        "2022-03-23T10:00:00.000",
        "2022-03-23",
        "+002022-03-23T10:00:00Z",
        "2022-03-23T10:00:00" + "0" * 5000 + "Z",
        2**64,
        None,
    ],
)
def test_a_bad_made_at_rejects_its_changeset_alone(client, made_at):
    vol_a = sign_in(client, "vol-a")
    reply = push_text(
        client, vol_a, a_changeset(a_visit(), made_at=made_at), a_changeset(a_visit())
    )
    assert results_of(reply) == ["rejected", "applied"]
    assert first_code(reply) == "invalid"


def test_a_date_time_field_without_a_zone_is_invalid(client):
    vol_a = sign_in(client, "vol-a")
    reply = push_text(client, vol_a, a_changeset(a_visit(visited_at="2022-03-23T10:00:00")))
    assert results_of(reply) == ["rejected"]
    assert first_code(reply) == "invalid"


# -- item 4: every other kind of input ----------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        a_visit(present=2**80),  # beyond BIGINT
        a_visit(present=-(2**80)),
        a_visit(present=1e308),
        a_visit(household_id="x" * 10_000),
        a_visit(household_id=str(uuid.uuid4()).upper()),
        {**a_visit(), "id": "x" * 10_000},
        {**a_visit(), "op": "update", "id": "x" * 10_000, "base_version": 2**64},
        {**a_visit(), "op": "update", "base_version": MAX_VERSION + 1},
        {**a_visit(), "fields": [1, 2]},
        {**a_visit(), "type": {"nested": True}},
        a_visit(notes={"deep": [[[[[["x"]]]]]]}),
        a_visit(notes="x" * 100_000),
        a_visit(needs=["x"] * 10_000),
    ],
)
def test_a_bad_change_rejects_its_changeset_alone(client, change):
    vol_a = sign_in(client, "vol-a")
    reply = push_text(client, vol_a, a_changeset(change), a_changeset(a_visit()))
    assert results_of(reply)[1] == "applied"
    assert results_of(reply)[0] == "rejected"


def test_a_changeset_id_beyond_its_column_is_invalid_and_not_recorded(client):
    vol_a = sign_in(client, "vol-a")
    reply = push_text(
        client, vol_a, a_changeset(a_visit(), changeset_id="x" * 300), a_changeset(a_visit())
    )
    assert results_of(reply) == ["rejected", "applied"]
    assert db.session.scalar(select(ChangesetLog.id).where(ChangesetLog.id == "x" * 36)) is None


def test_deep_nesting_is_400_and_inside_a_changeset_rejects_it_alone(client):
    vol_a = sign_in(client, "vol-a")
    assert_problem(post_raw(client, PUSH, "[" * 100_000 + "]" * 100_000, vol_a), 400)
    assert_problem(
        post_raw(client, "/api/v1/auth/login", '{"a":' * 50_000 + "1" + "}" * 50_000), 400
    )
    text = json.dumps(
        {"client_id": "d", "changesets": [a_changeset(a_visit(notes="@")), a_changeset(a_visit())]}
    ).replace('"@"', "[" * 500 + "]" * 500)
    assert results_of(post_raw(client, PUSH, text, vol_a)) == ["rejected", "applied"]


@pytest.mark.parametrize(
    ("text", "content_type", "status"),
    [
        ('{"client_id": "d", "changesets": []}', "text/plain", 415),
        ('{"client_id": "d", "changesets": []}', "application/x-www-form-urlencoded", 415),
        ("\xff\xfe{}", "application/json", 400),
        ("NaN", "application/json", 400),
        ("[]", "application/json", 400),
        ('"changesets"', "application/json", 400),
        ('{"changesets": {}}', "application/json", 400),
        ('{"changesets": [], "client_id": 7}', "application/json", 400),
    ],
)
def test_a_push_body_that_is_not_a_push_envelope_is_refused_whole(
    client, text, content_type, status
):
    reply = post_raw(client, PUSH, text, sign_in(client, "vol-a"), content_type)
    assert_problem(reply, status)


def test_bytes_that_are_not_utf8_are_400(client):
    reply = client.post(
        PUSH,
        data=b'{"changesets": ["\xff"]}',
        content_type="application/json",
        headers=bearer(sign_in(client, "vol-a")),
    )
    assert_problem(reply, 400)


@pytest.mark.parametrize(
    "query",
    [
        f"cursor={2**63}",  # beyond BIGINT: was a 500
        "cursor=1" + "0" * 5000,
        "cursor=-1",
        "cursor=abc",
        "cursor=1e3",
        "cursor=%00",
        "cursor=",
        "limit=0",
        "limit=-5",
        "limit=1" + "0" * 5000,
        "types=",
        "types=task,nope",
        "types=%ff%fe",
    ],
)
def test_bad_pull_arguments_are_422(client, query):
    assert_problem(client.get(f"{PULL}?{query}", headers=bearer(sign_in(client, "coord"))), 422)


@pytest.mark.parametrize(
    "query",
    [
        f"cursor={MAX_VERSION}",
        f"limit={2**64}",
        "cursor=0&cursor=5",
        "types=task&types=nope",
        "types=" + "task," * 10_000,
    ],
)
def test_extreme_but_valid_pull_arguments_answer_a_page(client, query):
    reply = client.get(f"{PULL}?{query}", headers=bearer(sign_in(client, "coord")))
    assert reply.status_code == 200
    assert {"changes", "cursor", "more"} <= reply.get_json().keys()


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("²", 400),  # str.isdigit() says yes, int() says no: was a 500
        ("١", 400),  # an Arabic-Indic one
        ("9" * 5000, 400),  # beyond int()'s digit limit
        ("", 400),
        (" 1", 400),
        ("1.0", 400),
        ("0", 426),
        ("99", 426),
    ],
)
def test_a_bad_schema_header_is_a_problem(client, value, status):
    headers = {
        **bearer(sign_in(client, "vol-a")),
        "Weiguang-Schema": value.encode().decode("latin-1"),
    }
    assert_problem(client.get(PULL, headers=headers), status)


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dm9sLWE6eA==",
        "Bearer " + "x" * 100_000,
        "Bearer \x00",
        "Bearer ÿ",
    ],
)
def test_a_bad_authorization_is_401(client, authorization):
    for reply in (
        client.get(PULL, headers={"Authorization": authorization}),
        client.post(PUSH, json={"changesets": []}, headers={"Authorization": authorization}),
    ):
        assert_problem(reply, 401)


@pytest.mark.parametrize(
    "body",
    [
        {"username": 5, "password": "x"},
        {"username": None, "password": None},
        {"username": ["coord"], "password": "x"},
        {"username": {"$ne": ""}, "password": {"$ne": ""}},
        {"username": "coord", "password": True},
        {"username": "c" * 100_000, "password": "x"},
        {"username": "coord", "password": "x" * 100_000},
        {"username": "coord", "password": "x", "device_name": "d" * 100_000},
        {"username": "coord", "password": "x", "device_name": {"a": [1]}},
        {"username": "coord"},
        {},
    ],
)
def test_bad_sign_in_fields_are_422(client, body):
    assert_problem(post_raw(client, "/api/v1/auth/login", json.dumps(body)), 422)


@pytest.mark.parametrize("text", ["[]", "1", '"x"', "null", "true", "{", ""])
def test_a_sign_in_body_that_is_not_an_object_is_400(client, text):
    assert_problem(post_raw(client, "/api/v1/auth/login", text), 400)


# -- item 8: the push caps ----------------------------------------------------------


def test_a_push_over_the_changeset_cap_is_413_and_applies_nothing(client):
    vol_a = sign_in(client, "vol-a")
    changesets = [a_changeset(a_visit()) for _ in range(MAX_CHANGESETS + 1)]
    reply = push_text(client, vol_a, *changesets)
    body = assert_problem(reply, 413)
    assert str(MAX_CHANGESETS) in body["detail"]
    assert (
        db.session.scalar(select(ChangesetLog.id).where(ChangesetLog.id == changesets[0]["id"]))
        is None
    )


def test_a_push_at_the_changeset_cap_applies(client):
    changesets = [a_changeset(a_visit()) for _ in range(MAX_CHANGESETS)]
    reply = push_text(client, sign_in(client, "vol-a"), *changesets)
    assert results_of(reply) == ["applied"] * MAX_CHANGESETS


def test_a_changeset_over_the_change_cap_is_invalid_alone(client):
    vol_a = sign_in(client, "vol-a")
    big = a_changeset(*(a_visit() for _ in range(MAX_CHANGES + 1)))
    reply = push_text(client, vol_a, big, a_changeset(a_visit()))
    assert results_of(reply) == ["rejected", "applied"]
    first = reply.get_json()["results"][0]
    assert len(first["changes"]) == MAX_CHANGES + 1
    assert str(MAX_CHANGES) in first["changes"][0]["conflict"]["detail"]
