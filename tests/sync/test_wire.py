"""Wire forms: push loading, result round trips, envelopes and stamps."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import (
    ChangeResult,
    ChangesetResult,
    Code,
    Conflict,
    FieldStamp,
    MalformedPush,
    MemoryStore,
    push_from_wire,
)
from sync.records import Record, Scope, StoredFields, WireStamps, restamped, stamps_from_wire
from tests.sync.builders import (
    COORD,
    TASK_A,
    VOL_A,
    a_changeset,
    an_update,
    device_of,
    push,
    stored,
)


@pytest.mark.parametrize(
    "body",
    [
        [],
        "x",
        {"changesets": {}},
        {"client_id": 5, "changesets": []},
        {"client_id": "x" * 65, "changesets": []},  # kept in every stamp: bounded
        {"client_id": "phone \ud83d", "changesets": []},  # and servable
    ],
)
def test_malformed_top_level_is_refused_whole(body: object) -> None:
    with pytest.raises(MalformedPush):
        push_from_wire(body)


def test_problems_inside_a_changeset_are_kept_for_the_engine() -> None:
    push = push_from_wire(
        {
            "client_id": "c",
            "changesets": [
                {"id": "a", "made_at": "yesterday", "changes": []},
                {"id": "b", "made_at": "2022-03-23T10:00:00.000Z", "changes": [1]},
                {"id": "c", "made_at": "2022-03-23T10:00:00Z", "changes": "no"},
                "not an object",
                {
                    "id": "d",
                    "made_at": "2022-03-23T18:00:00+08:00",
                    "changes": [
                        {"type": "task", "id": TASK_A, "op": "delete"},
                        {"type": "task", "id": TASK_A, "op": "update", "base_version": -1},
                    ],
                },
            ],
        }
    )
    a, b, c, d, e = push.changesets
    assert a.problem and a.made_at is None
    assert b.problem is None and b.changes[0].problem
    assert c.problem and d.problem
    assert e.made_at == datetime(2022, 3, 23, 10, tzinfo=UTC)
    assert e.changes[0].problem is None and e.changes[0].fields == {}
    assert e.changes[1].problem


def test_results_round_trip_through_the_wire() -> None:
    result = ChangesetResult(
        "cs",
        "rejected",  # type: ignore[arg-type]
        (
            ChangeResult(
                "task",
                TASK_A,
                "rejected",  # type: ignore[arg-type]
                conflict=Conflict(Code.ALREADY_CLAIMED, "held", {"id": TASK_A}, 2, "status"),
            ),
            ChangeResult("task", TASK_A, "merged", 7, ("notes",)),  # type: ignore[arg-type]
        ),
    )
    wire = result.to_wire()
    assert wire["changes"][1] == {  # type: ignore[index]
        "type": "task",
        "id": TASK_A,
        "status": "merged",
        "version": 7,
        "lost_fields": ["notes"],
        "conflict": None,
    }
    assert ChangesetResult.from_wire(wire) == result


def test_push_response_matches_the_contract(world: MemoryStore) -> None:
    outcome = push(world, VOL_A, a_changeset(an_update(TASK_A, status="claimed"), id="cs-1"))
    assert outcome.to_wire() == {
        "results": [
            {
                "id": "cs-1",
                "status": "applied",
                "changes": [
                    {
                        "type": "task",
                        "id": TASK_A,
                        "status": "applied",
                        "version": outcome.cursor,
                        "lost_fields": [],
                        "conflict": None,
                    }
                ],
            }
        ],
        "cursor": outcome.cursor,
    }


def test_envelope_and_stamps(world: MemoryStore) -> None:
    push(world, COORD, a_changeset(an_update(TASK_A, due_at="2022-04-01T20:00:00+08:00")))
    record = stored(world, TASK_A)
    envelope = record.envelope()
    assert set(envelope) == {"type", "id", "version", "deleted", "fields"}
    assert envelope["fields"]["due_at"] == "2022-04-01T12:00:00.000Z"  # type: ignore[index]
    assert stamps_from_wire(record.stamps_to_wire()) == record.stamps
    stamp = FieldStamp(3, datetime(2022, 3, 23, 10, 0, 0, 123456, tzinfo=UTC), 2)
    assert stamp.to_wire() == [3, "2022-03-23T10:00:00.123Z", 2]
    assert replace(stamp, client_id="phone").to_wire() == [
        3,
        "2022-03-23T10:00:00.123Z",
        2,
        "phone",
    ]
    assert record.stamps["due_at"].client_id == device_of(COORD)


@pytest.mark.parametrize(
    ("wire", "client_id"),
    [
        ([3, "2022-03-23T10:00:00.000Z", 2], None),  # stored before installs were recorded
        ([3, "2022-03-23T10:00:00.000Z", 2, "phone"], "phone"),
        ([3, "2022-03-23T10:00:00.000Z", 2, None], None),
    ],
)
def test_stamps_read_with_or_without_their_install(
    wire: list[object], client_id: str | None
) -> None:
    stamp = FieldStamp.from_wire(wire)
    assert (stamp.version, stamp.by, stamp.client_id) == (3, 2, client_id)
    assert FieldStamp.from_wire(stamp.to_wire()) == stamp


STAMPS = st.dictionaries(
    st.sampled_from(["title", "notes", "status", "priority", "due_at"]),
    st.builds(
        FieldStamp,
        st.integers(1, 2**53),
        st.datetimes(timezones=st.just(UTC)).map(lambda at: at.replace(microsecond=0)),
        st.integers(0, 10**6),
        st.none() | st.text(max_size=5),
    ),
)


@given(
    stored=STAMPS,
    names=st.sets(st.sampled_from(["title", "notes", "status", "owner"])),
    stamp=STAMPS.filter(bool).map(lambda stamps: next(iter(stamps.values()))),
    read_first=st.sets(st.sampled_from(["title", "notes", "status"])),
)
def test_restamping_stored_stamps_is_restamping_parsed_ones(
    stored: dict[str, FieldStamp],
    names: set[str],
    stamp: FieldStamp,
    read_first: set[str],
) -> None:
    """A write keeps the untouched stamps in stored form (issue #16), with the same meaning."""
    wire = Record("task", TASK_A, 1, False, {}, stored, Scope(frozenset())).stamps_to_wire()
    lazy = WireStamps(json.dumps(wire))
    for name in read_first & stored.keys():  # parsed before the write or not: the same
        assert lazy[name] == stored[name]
    expected = restamped(stored, names, stamp)
    written = restamped(lazy, names, stamp)
    assert dict(written) == expected and len(written) == len(expected)
    again = Record("task", TASK_A, 2, False, {}, written, Scope(frozenset()))
    assert stamps_from_wire(json.loads(json.dumps(again.stamps_to_wire()))) == expected


@given(stored=STAMPS, asked=st.lists(st.sampled_from(["title", "notes", "status", "owner"])))
def test_stored_stamps_are_looked_up_as_parsed_ones(
    stored: dict[str, FieldStamp], asked: list[str]
) -> None:
    """``get``, ``in`` and ``[]`` of stored stamps answer as a dict's, fields never stamped too."""
    wire = Record("task", TASK_A, 1, False, {}, stored, Scope(frozenset())).stamps_to_wire()
    lazy = WireStamps(json.dumps(wire))
    for name in asked:
        assert lazy.get(name) == stored.get(name) and (name in lazy) == (name in stored)
        if name in stored:
            assert lazy[name] == stored[name]
        else:
            with pytest.raises(KeyError):
                lazy[name]


STORED_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=8,
)


@given(
    value=STORED_JSON,
    ensure_ascii=st.booleans(),
    separators=st.sampled_from([(",", ":"), (", ", ": ")]),
    before=st.sampled_from(["", " ", "\n\t"]),
    after=st.sampled_from(["", " ", "\n", "x", "}", "{}"]),
    cut=st.integers(min_value=0, max_value=3),
)
def test_stored_fields_are_read_as_json_loads_reads_them(
    value: object,
    ensure_ascii: bool,
    separators: tuple[str, str],
    before: str,
    after: str,
    cut: int,
) -> None:
    """``StoredFields.parse`` (the C scanner first, issue #16) reads text as json.loads does."""
    text = before + json.dumps(value, ensure_ascii=ensure_ascii, separators=separators) + after
    text = text[: len(text) - cut]
    try:
        expected = json.loads(text)
    except ValueError:
        expected = None
    if isinstance(expected, dict):
        fields = StoredFields.parse(text)
        assert fields == expected and list(fields) == list(expected) and fields.text == text
    else:
        with pytest.raises(ValueError):
            StoredFields.parse(text)
