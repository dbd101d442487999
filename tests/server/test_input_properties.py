"""Hypothesis over push, pull and sign-in inputs: never a server error (issue 7, item 4).

Every answer is a valid result or problem+json, on SQLite and, when it
answers, PostgreSQL. Every generated push ends with a valid changeset,
which must apply whatever came before it: a bad changeset is rejected
alone. Bounded for CI: a few dozen examples a database.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.extensions import db
from sync.catalog import REGISTRY
from tests import reliability
from tests.helpers import bearer, sign_in
from tests.server.test_input import LOGIN, SMILE, a_visit, post_raw
from tests.server.test_sync_api import PULL, PUSH, a_changeset

EXAMPLES = settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROBLEM = "application/problem+json"

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
TRICKY_TEXT = st.sampled_from(
    ["", " ", "x" * 37, "x" * 5000, SMILE, "\x00", "null", "0", "-1", "1e999", "🙂", "²"]
)
TEXT = ANY_TEXT | TRICKY_TEXT
NUMBERS = (
    st.integers()
    | st.sampled_from([2**31, 2**63 - 1, 2**63, -(2**63) - 1, 2**80, -1, 0])
    | st.floats(allow_nan=True, allow_infinity=True)
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
FIELD_NAMES = sorted({name for rtype in REGISTRY.values() for name in rtype.fields})
IDS = st.builds(lambda: str(uuid.uuid4())) | TEXT
DATE_TIMES = (
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat())
    | st.sampled_from(["9999-12-31T23:59:59-01:00", "2022-03-23T10:00:00", "2022-03-23"])
    | TEXT
)
CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(sorted(REGISTRY)) | TEXT | JSON,
        "id": IDS | JSON,
        "op": st.sampled_from(["create", "update", "delete"]) | TEXT,
        "base_version": NUMBERS | JSON,
        "fields": st.dictionaries(st.sampled_from(FIELD_NAMES) | TEXT, JSON, max_size=4) | JSON,
    },
)
CHANGESETS = st.fixed_dictionaries(
    {},
    optional={
        "id": IDS | JSON,
        "made_at": DATE_TIMES | JSON,
        "changes": st.lists(CHANGES | JSON, max_size=3) | JSON,
        "extra": JSON,
    },
)
ENVELOPE_EXTRAS = st.dictionaries(TEXT, JSON, max_size=2)


#: The ledger's count of the inputs tried here and the server errors they caused, by
#: database; ``"current"`` is the row of the database the running test uses.
LEDGER: dict[str, reliability.Row] = {}


@pytest.fixture
def served(database_url):
    from tests.conftest import make_app

    # No app context around the requests: each gets its own database session.
    app = make_app(database_url)
    client = app.test_client()
    engine = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    if engine not in LEDGER:
        LEDGER[engine] = reliability.record(reliability.Row("bad inputs", engine))
    LEDGER["current"] = LEDGER[engine]
    yield client, {user: sign_in(client, user) for user in ("vol-a", "coord")}
    with app.app_context():
        db.engine.dispose()


def assert_answer(reply) -> Any:
    """Assert a reply is no server error: JSON when 2xx, problem+json otherwise.

    Counted into the reliability ledger (inputs tried, 500s) before asserting.
    """
    row = LEDGER["current"]
    row.bad_inputs += 1
    row.server_errors += reply.status_code >= 500
    assert reply.status_code < 500, reply.get_data(as_text=True)
    if reply.status_code >= 400:
        assert reply.content_type == PROBLEM
        assert reply.get_json()["status"] == reply.status_code
        return None
    return reply.get_json()


@EXAMPLES
@given(
    changesets=st.lists(CHANGESETS | JSON, max_size=3),
    client_id=TEXT,
    extras=ENVELOPE_EXTRAS,
    user=st.sampled_from(["vol-a", "coord"]),
)
def test_no_push_answers_a_server_error_and_a_valid_changeset_still_applies(
    served, changesets, client_id, extras, user
):
    client, tokens = served
    valid = a_changeset(a_visit())
    body = {**extras, "client_id": client_id, "changesets": [*changesets, valid]}
    # allow_nan: Python's decoder (and so Flask's) reads NaN and Infinity.
    reply = post_raw(client, PUSH, json.dumps(body, allow_nan=True), tokens[user])
    answer = assert_answer(reply)
    if answer is not None:
        assert len(answer["results"]) == len(body["changesets"])
        assert {r["status"] for r in answer["results"]} <= {"applied", "rejected"}
        assert answer["results"][-1]["status"] == "applied"


@EXAMPLES
@given(body=JSON)
def test_no_push_body_of_any_shape_answers_a_server_error(served, body):
    client, tokens = served
    assert_answer(post_raw(client, PUSH, json.dumps(body, allow_nan=True), tokens["vol-a"]))


def raw_query(pairs: list[tuple[str, str]]) -> str:
    """Percent-encode ``pairs`` byte for byte: a surrogate becomes bytes that are not UTF-8."""

    def encode(text: str) -> str:
        return quote(text.encode("utf-8", "surrogatepass"), safe="")

    return "&".join(f"{encode(key)}={encode(value)}" for key, value in pairs)


QUERY_KEYS = st.sampled_from(["cursor", "limit", "types"]) | TEXT
QUERY_VALUES = (
    st.integers().map(str)
    | st.sampled_from(["task", "task,building", "1e3", "0x10", "9" * 30, " 1", "+1"])
    | TEXT
)
# What a header can carry: latin-1 without control characters (no line breaks).
LATIN1_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)


@EXAMPLES
@given(
    query=st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=4),
    schema=st.none() | LATIN1_TEXT | st.integers().map(str),
    authorization=st.none() | LATIN1_TEXT,
)
def test_no_pull_answers_a_server_error(served, query, schema, authorization):
    client, tokens = served
    headers = bearer(tokens["coord"])
    if authorization is not None:
        headers["Authorization"] = authorization
    if schema is not None:
        headers["Weiguang-Schema"] = schema
    answer = assert_answer(client.get(PULL, query_string=raw_query(query), headers=headers))
    if answer is not None:
        assert set(answer) == {"changes", "cursor", "more", "epoch", "grants"}


@EXAMPLES
@given(body=st.dictionaries(st.sampled_from(["username", "password", "device_name"]), JSON) | JSON)
def test_no_sign_in_answers_a_server_error(served, body):
    client, _ = served
    assert_answer(post_raw(client, LOGIN, json.dumps(body, allow_nan=True)))
