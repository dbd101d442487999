"""The engine's value classes (:mod:`sync.values`): equal and hashed by value."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sync.changes import ChangeResult, ChangeStatus
from sync.records import FieldStamp, Record, Scope
from sync.values import value_class

MADE_AT = datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_a_value_class_is_a_slots_dataclass_equal_and_hashed_by_value() -> None:
    @value_class
    class Pair:
        left: int
        right: str = "r"

    assert dataclasses.is_dataclass(Pair) and Pair.__slots__ == ("left", "right")
    assert Pair(1) == Pair(1, "r") != Pair(2)
    assert hash(Pair(1)) == hash(Pair(1, "r")) and len({Pair(1), Pair(1)}) == 1


def test_engine_values_keep_a_frozen_dataclass_s_equality_and_hash() -> None:
    stamp = FieldStamp(3, MADE_AT, 7, "install")
    assert stamp == FieldStamp(3, MADE_AT, 7, "install") != FieldStamp(4, MADE_AT, 7, "install")
    assert {stamp: 1}[FieldStamp(3, MADE_AT, 7, "install")] == 1
    result = ChangeResult("task", "id", ChangeStatus.MERGED, 5, ("notes",))
    assert hash(result) == hash(ChangeResult("task", "id", ChangeStatus.MERGED, 5, ("notes",)))
    record = Record("task", "id", 1, False, {"a": 1}, {"a": stamp}, Scope(frozenset({"c"})))
    assert dataclasses.replace(record, version=2) == Record(
        "task", "id", 2, False, {"a": 1}, {"a": stamp}, Scope(frozenset({"c"}))
    )
