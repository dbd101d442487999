"""No input from a client may produce a 500, nor stop what is stored from being served.

Issue 7, items 1 (stored data the server cannot serve), 4 (input that
answered 500), 5 (``made_at`` without a zone) and 8 (push caps). Every
answer here is a result or problem+json; a bad changeset is rejected alone
and the valid changeset after it still applies. Each test runs on SQLite
and, when it answers, PostgreSQL (whose column limits are part of the
kind); a matrix of cases runs inside one test so that each database is
copied once per matrix.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from sqlalchemy import select, update

from server import seed
from server.extensions import db
from server.models import ChangesetLog, PushLog, RecordRow, RecordScope, SyncState
from sync.wire import MAX_CHANGES, MAX_CHANGESETS, MAX_VERSION
from tests.helpers import bearer, sign_in
from tests.server.test_errors import assert_problem
from tests.server.test_sync_api import PULL, PUSH, a_changeset, create, pull_all

HOUSEHOLD_A = seed.stable_id("household", "A", 1, 1, "101")
# The issue's example as raw JSON text: legal JSON, an unpaired surrogate once decoded.
SMILE_JSON = '"smile \\ud83d end"'
SMILE = json.loads(SMILE_JSON)
LOGIN = "/api/v1/auth/login"


def a_visit(**fields):
    return create(
        "visit", {"household_id": HOUSEHOLD_A, "outcome": "answered", "present": 1, **fields}
    )


def post_raw(client, path, text, token=None, content_type="application/json"):
    """POST ``text`` as it is (the test client would re-encode a surrogate)."""
    headers = bearer(token) if token else {}
    return client.post(path, data=text.encode(), content_type=content_type, headers=headers)


def push_text(client, token, *changesets):
    """Push with ``json.dumps``: a lone surrogate goes as the escape a device sends."""
    return post_raw(
        client, PUSH, json.dumps({"client_id": "dev", "changesets": changesets}), token
    )


def statuses(reply):
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return [result["status"] for result in reply.get_json()["results"]]


def first_conflict(reply, index=0):
    return reply.get_json()["results"][index]["changes"][0]["conflict"]


def query(client, statement):
    """Return the first column of the first row of ``statement``, outside any request."""
    with client.application.app_context():
        return db.session.scalar(statement)


def high_water(client):
    return query(client, select(SyncState.high_water))


def rewrite_stored(client, record_id, fields):
    """Write ``fields`` into a record as a new version, as an older server might have."""
    version = high_water(client) + 1
    with client.application.app_context():
        db.session.execute(
            update(RecordRow)
            .where(RecordRow.id == record_id)
            .values(fields=fields, version=version)
        )
        # The change index carries each record's version, as every write keeps it.
        db.session.execute(
            update(RecordScope).where(RecordScope.record_id == record_id).values(version=version)
        )
        db.session.execute(update(SyncState).values(high_water=version))
        db.session.commit()


@pytest.fixture
def client(database_url):
    from tests.conftest import make_app

    # No app context around the requests: each request gets its own, and so
    # its own database session, as in production.
    app = make_app(database_url)
    yield app.test_client()
    with app.app_context():
        db.engine.dispose()


# -- item 1: stored data the server cannot serve --------------------------------------


def test_issue_example_a_lone_surrogate_is_invalid_and_every_pull_still_answers(client):
    vol_a = sign_in(client, "vol-a")
    before = high_water(client)
    text = json.dumps(
        {
            "client_id": "dev",
            "changesets": [a_changeset(a_visit(notes="@")), a_changeset(a_visit())],
        }
    ).replace('"@"', SMILE_JSON)
    reply = post_raw(client, PUSH, text, vol_a)
    assert statuses(reply) == ["rejected", "applied"]
    assert first_conflict(reply)["code"] == "invalid"
    assert "Unicode" in first_conflict(reply)["detail"]
    for user in ("vol-a", "coord", "medic"):
        records, _ = pull_all(client, sign_in(client, user), before)
        assert [r["type"] for r in records] == ["visit"], user


SPOILERS = {
    "notes": lambda cs: cs["changes"][0]["fields"].update(notes=SMILE),
    "a list item": lambda cs: cs["changes"][0]["fields"].update(needs=["ok", SMILE]),
    "a key": lambda cs: cs["changes"][0]["fields"].update({SMILE: "a key"}),
    "the record id": lambda cs: cs["changes"][0].update(id=SMILE),
    "the type": lambda cs: cs["changes"][0].update(type=SMILE),
    "the changeset id": lambda cs: cs.update(id=SMILE),
    "made_at": lambda cs: cs.update(made_at="2022-04-02T10:00:00.000Z" + SMILE),
    "client-side extra": lambda cs: cs.update(extra={"x": [SMILE]}),
    "NUL": lambda cs: cs["changes"][0]["fields"].update(notes="nul \x00 inside"),
    "NUL in an id": lambda cs: cs["changes"][0].update(op="update", id="a\x00b"),
}


def test_unstorable_text_anywhere_in_a_changeset_rejects_it_alone(client):
    vol_a = sign_in(client, "vol-a")
    for where, spoil in SPOILERS.items():
        spoiled = a_changeset(a_visit())
        spoil(spoiled)
        reply = push_text(client, vol_a, spoiled, a_changeset(a_visit()))
        assert statuses(reply) == ["rejected", "applied"], where
        assert first_conflict(reply)["code"] == "invalid", where
        assert "\ud83d" not in reply.get_data(as_text=True), where


def test_unstorable_text_outside_a_changeset_is_400_and_in_a_sign_in_422(client):
    vol_a = sign_in(client, "vol-a")
    for body in (
        {"client_id": SMILE, "changesets": []},
        {"client_id": "dev", "changesets": [], "note": SMILE},
        {"client_id": "dev\x00", "changesets": []},
    ):
        assert_problem(post_raw(client, PUSH, json.dumps(body), vol_a), 400)
    for body in (
        {"username": SMILE, "password": "x"},
        {"username": "coord", "password": SMILE},
        {"username": "coord\x00", "password": "x"},
        {"username": "coord", "password": "x", "device_name": SMILE},
    ):
        assert_problem(post_raw(client, LOGIN, json.dumps(body)), 422)


@pytest.fixture
def sqlite_client(sqlite_url):
    from tests.conftest import make_app

    app = make_app(sqlite_url)
    yield app.test_client()
    with app.app_context():
        db.engine.dispose()


def test_a_surrogate_stored_before_the_boundary_is_served_replaced(sqlite_client):
    # SQLite only: PostgreSQL's jsonb refuses to store a lone surrogate at all.
    client = sqlite_client
    before = high_water(client)
    rewrite_stored(client, HOUSEHOLD_A, {"unit": SMILE, "room": "101", "floor": 1})
    for user in ("coord", "vol-a", "leader-a"):
        (household,) = pull_all(client, sign_in(client, user), before)[0]
        assert household["fields"]["unit"] == "smile \ufffd end", user


def test_a_damaged_row_is_left_out_and_logged_and_a_create_repairs_it(client, caplog):
    coord = sign_in(client, "coord")
    before = high_water(client)
    fields = query(client, select(RecordRow.fields).where(RecordRow.id == HOUSEHOLD_A))
    # Valid JSON (PostgreSQL's json type takes nothing else), but not an object.
    rewrite_stored(client, HOUSEHOLD_A, [1])
    with caplog.at_level(logging.ERROR, logger="server.store"):
        assert pull_all(client, coord, before) == ([], before + 1)
    assert HOUSEHOLD_A in caplog.text
    reply = push_text(client, coord, a_changeset(create("household", fields, HOUSEHOLD_A)))
    assert statuses(reply) == ["applied"]
    (repaired,) = pull_all(client, coord, before + 1)[0]
    assert repaired["fields"] == fields


# -- items 4 and 5: made_at ----------------------------------------------------------

BAD_MADE_AT = [
    "9999-12-31T23:59:59-01:00",  # the issue's example: past year 9999 in UTC (was a 500)
    "0001-01-01T00:00:00+00:01",
    "2022-03-23T10:00:00",  # item 5: no zone (was taken as UTC)
    "2022-03-23T10:00:00.000",
    "2022-03-23",
    "+002022-03-23T10:00:00Z",
    "2022-03-23T10:00:00" + "0" * 5000 + "Z",
    2**64,
    None,
]


def test_a_bad_made_at_rejects_its_changeset_alone(client):
    vol_a = sign_in(client, "vol-a")
    for made_at in BAD_MADE_AT:
        reply = push_text(
            client, vol_a, a_changeset(a_visit(), made_at=made_at), a_changeset(a_visit())
        )
        assert statuses(reply) == ["rejected", "applied"], made_at
        assert first_conflict(reply)["code"] == "invalid", made_at


def test_a_date_time_field_without_a_zone_is_invalid(client):
    reply = push_text(
        client, sign_in(client, "vol-a"), a_changeset(a_visit(visited_at="2022-03-23T10:00:00"))
    )
    assert statuses(reply) == ["rejected"]
    assert first_conflict(reply)["code"] == "invalid"


# -- item 4: every other kind of input ----------------------------------------------

BAD_CHANGES = [
    a_visit(present=2**80),  # beyond BIGINT
    a_visit(present=-(2**80)),
    a_visit(present=1e308),
    a_visit(household_id="x" * 10_000),
    a_visit(household_id=str(uuid.uuid4()).upper()),
    {**a_visit(), "id": "x" * 10_000},
    {**a_visit(), "op": "update", "id": "x" * 10_000, "base_version": 2**64},
    {**a_visit(), "op": "update", "base_version": MAX_VERSION + 1},
    {**a_visit(), "op": "explode"},
    {**a_visit(), "fields": [1, 2]},
    {**a_visit(), "type": {"nested": True}},
    a_visit(notes={"deep": [[[[[["x"]]]]]]}),
    a_visit(notes="x" * 100_000),
    a_visit(needs=["x"] * 10_000),
    "not a change",
]


def test_a_bad_change_rejects_its_changeset_alone(client):
    vol_a = sign_in(client, "vol-a")
    for change in BAD_CHANGES:
        reply = push_text(client, vol_a, a_changeset(change), a_changeset(a_visit()))
        assert statuses(reply) == ["rejected", "applied"], str(change)[:200]


def test_a_changeset_id_beyond_its_column_is_invalid_and_not_recorded(client):
    vol_a = sign_in(client, "vol-a")
    reply = push_text(
        client, vol_a, a_changeset(a_visit(), changeset_id="x" * 300), a_changeset(a_visit())
    )
    assert statuses(reply) == ["rejected", "applied"]
    assert query(client, select(ChangesetLog.id).where(ChangesetLog.id.like("xxx%"))) is None


def test_deep_nesting_is_400_and_inside_a_changeset_rejects_it_alone(client):
    vol_a = sign_in(client, "vol-a")
    assert_problem(post_raw(client, PUSH, "[" * 100_000 + "]" * 100_000, vol_a), 400)
    assert_problem(post_raw(client, LOGIN, '{"a":' * 50_000 + "1" + "}" * 50_000), 400)
    text = json.dumps(
        {"client_id": "d", "changesets": [a_changeset(a_visit(notes="@")), a_changeset(a_visit())]}
    ).replace('"@"', "[" * 500 + "]" * 500)
    assert statuses(post_raw(client, PUSH, text, vol_a)) == ["rejected", "applied"]


NOT_A_PUSH = [
    ('{"client_id": "d", "changesets": []}', "text/plain", 415),
    ('{"client_id": "d", "changesets": []}', "application/x-www-form-urlencoded", 415),
    ("\xff\xfe{}", "application/json", 400),
    ("NaN", "application/json", 400),
    ("[]", "application/json", 400),
    ('"changesets"', "application/json", 400),
    ('{"changesets": {}}', "application/json", 400),
    ('{"changesets": [], "client_id": 7}', "application/json", 400),
]


def test_a_body_that_is_not_a_push_envelope_is_refused_whole(client):
    vol_a = sign_in(client, "vol-a")
    for text, content_type, status in NOT_A_PUSH:
        assert_problem(post_raw(client, PUSH, text, vol_a, content_type), status)
    not_utf8 = client.post(
        PUSH,
        data=b'{"changesets": ["\xff"]}',
        content_type="application/json",
        headers=bearer(vol_a),
    )
    assert_problem(not_utf8, 400)


BAD_PULL_QUERIES = [
    f"cursor={2**63}",  # beyond BIGINT (was a 500)
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
]
EXTREME_PULL_QUERIES = [
    f"cursor={MAX_VERSION}",
    f"limit={2**64}",
    "cursor=0&cursor=5",
    "types=task&types=nope",
    "types=" + "task," * 10_000,
]


def test_pull_arguments_are_a_page_or_422(client):
    coord = bearer(sign_in(client, "coord"))
    for query in BAD_PULL_QUERIES:
        assert_problem(client.get(f"{PULL}?{query}", headers=coord), 422)
    for query in EXTREME_PULL_QUERIES:
        reply = client.get(f"{PULL}?{query}&limit=5", headers=coord)
        assert reply.status_code == 200, query[:50]
        assert {"changes", "cursor", "more"} <= reply.get_json().keys()


SCHEMA_HEADERS = [
    ("²", 400),  # str.isdigit() says yes, int() says no: was a 500
    ("١", 400),  # an Arabic-Indic one
    ("9" * 5000, 400),  # beyond int()'s digit limit
    ("", 400),
    (" 1", 400),
    ("1.0", 400),
    ("0", 426),
    ("99", 426),
]
AUTHORIZATIONS = [
    "",
    "Bearer",
    "Bearer ",
    "Basic dm9sLWE6eA==",
    "Bearer " + "x" * 100_000,
    "Bearer \x00",
    "Bearer ÿ",
]


def test_bad_headers_are_problems(client):
    vol_a = bearer(sign_in(client, "vol-a"))
    for value, status in SCHEMA_HEADERS:
        # Headers travel as latin-1: send the UTF-8 bytes of the value.
        header = value.encode().decode("latin-1")
        assert_problem(client.get(PULL, headers={**vol_a, "Weiguang-Schema": header}), status)
    for authorization in AUTHORIZATIONS:
        headers = {"Authorization": authorization}
        assert_problem(client.get(PULL, headers=headers), 401)
        assert_problem(client.post(PUSH, json={"changesets": []}, headers=headers), 401)


BAD_SIGN_INS = [
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
]


def test_bad_sign_in_fields_are_422_and_a_body_not_an_object_400(client):
    for body in BAD_SIGN_INS:
        assert_problem(post_raw(client, LOGIN, json.dumps(body)), 422)
    for text in ("[]", "1", '"x"', "null", "true", "{", ""):
        assert_problem(post_raw(client, LOGIN, text), 400)


# -- item 8: the push caps ----------------------------------------------------------


def test_a_push_over_the_changeset_cap_is_413_and_applies_nothing(client):
    vol_a = sign_in(client, "vol-a")
    changesets = [a_changeset(a_visit()) for _ in range(MAX_CHANGESETS + 1)]
    body = assert_problem(push_text(client, vol_a, *changesets), 413)
    assert str(MAX_CHANGESETS) in body["detail"]
    logged = select(ChangesetLog.id).join(PushLog, PushLog.id == ChangesetLog.push_id)
    assert query(client, logged.where(PushLog.user_id > 0)) is None
    reply = push_text(client, vol_a, *changesets[:MAX_CHANGESETS])
    assert statuses(reply) == ["applied"] * MAX_CHANGESETS


def test_a_changeset_over_the_change_cap_is_invalid_alone(client):
    vol_a = sign_in(client, "vol-a")
    big = a_changeset(*(a_visit() for _ in range(MAX_CHANGES + 1)))
    reply = push_text(client, vol_a, big, a_changeset(a_visit()))
    assert statuses(reply) == ["rejected", "applied"]
    first = reply.get_json()["results"][0]
    assert len(first["changes"]) == MAX_CHANGES + 1
    assert str(MAX_CHANGES) in first["changes"][0]["conflict"]["detail"]
