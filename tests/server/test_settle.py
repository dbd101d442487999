"""Settling a late push's provisional versions (``server.store.settle``), by its definition."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from server.store import PROVISIONAL, Provisional, settle
from sync.records import FieldStamp, Record, Scope, WireStamps, restamped

OFFSET = 41 - PROVISIONAL  # the push's first version becomes 42
AT = datetime(2022, 3, 23, 10, tzinfo=UTC)
VERSIONS = st.integers(0, 2**40) | st.integers(1, 50).map(lambda n: Provisional(PROVISIONAL + n))
VALUES = st.recursive(
    st.none() | st.booleans() | st.text(max_size=3) | VERSIONS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)
STAMPS = st.dictionaries(
    st.sampled_from(["title", "notes", "status"]),
    st.builds(FieldStamp, VERSIONS, st.just(AT), st.integers(0, 9), st.none() | st.just("c")),
)


@st.composite
def records(draw: Any) -> Record:
    """A record as a push hands it out: stamps stored or not, some fields restamped."""
    stamps: Any = draw(STAMPS)
    if draw(st.booleans()):
        stored = {
            name: [int(s.version), "2022-03-23T10:00:00.000Z", s.by] for name, s in stamps.items()
        }
        stamps = WireStamps(stored)
        written = FieldStamp(draw(VERSIONS), AT, 1, "c")
        stamps = restamped(stamps, draw(st.sets(st.sampled_from(["notes", "done"]))), written)
    fields_ = draw(st.dictionaries(st.text(max_size=3), VALUES, max_size=3))
    scope = Scope(frozenset({"a"}))
    return Record("task", "t", draw(VERSIONS), False, fields_, stamps, scope)


def defined(value: Any) -> Any:
    """The definition: every Provisional moved by OFFSET, everything rebuilt."""
    if isinstance(value, Provisional):
        return int(value) + OFFSET
    if isinstance(value, dict | WireStamps):
        return {key: defined(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(defined(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: defined(getattr(value, f.name)) for f in fields(value)})
    return value


def provisional_left(value: Any) -> bool:
    if isinstance(value, Provisional):
        return True
    if isinstance(value, dict | WireStamps):
        return any(provisional_left(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(provisional_left(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return any(provisional_left(getattr(value, f.name)) for f in fields(value))
    return False


@given(value=VALUES | records() | st.lists(records(), max_size=3))
def test_settling_moves_every_provisional_version_and_changes_nothing_else(value: Any) -> None:
    settled = settle(value, OFFSET)
    assert settled == defined(value)
    assert not provisional_left(settled)
    if isinstance(settled, Record):
        assert not provisional_left(settled.stamps_to_wire())
