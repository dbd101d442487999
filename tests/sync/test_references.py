"""Referential consistency of scope fields (issue 7, kind 3).

Every id field that decides where a record belongs names a live record of
its type that agrees with this record's own scope fields; otherwise the
change is ``invalid``, naming the field. The matrix: every such field of
every type × the id names nothing, a record of another type, a record of
another compound, a deleted record.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from sync import MemoryStore
from sync.catalog import REGISTRY
from sync.fields import is_uuid, refs
from sync.gate import default_rules, policy_id
from sync.supplies import order_id
from sync.testing import mark_id
from tests.sync.builders import (
    BUILDING_A,
    BUILDING_B,
    COMPOUND_A,
    COMPOUND_B,
    COORD,
    HOUSEHOLD_A,
    HOUSEHOLD_B,
    RESIDENT_A,
    TASK_A,
    VOL_B,
    a_changeset,
    a_create,
    a_delete,
    an_update,
    code_of,
    compound_fields,
    new_id,
    only,
    push,
    stable_id,
    task_fields,
)
from tests.sync.signers import MemorySigner

ROUND_A, ROUND_B = stable_id("round", "A"), stable_id("round", "B")
PACKAGE_A, PACKAGE_B = stable_id("package", "A"), stable_id("package", "B")
RESIDENT_B = stable_id("resident", "B")
VISITOR_A, VISITOR_B = stable_id("visitor", "A"), stable_id("visitor", "B")
TEST_ROUND_A, TEST_ROUND_B = stable_id("test_round", "A"), stable_id("test_round", "B")
VOLUNTEER_A, VOLUNTEER_B = stable_id("volunteer", "A"), stable_id("volunteer", "B")
ORDER_A, ORDER_B = order_id(ROUND_A, HOUSEHOLD_A), order_id(ROUND_B, HOUSEHOLD_B)
GONE = {
    "visitor": stable_id("visitor", "gone"),
    "resident": stable_id("resident", "gone"),
    "package": stable_id("package", "gone"),
    "compound": stable_id("compound", "gone"),
    "building": stable_id("building", "gone"),
    "household": stable_id("household", "gone"),
    "supply_round": stable_id("round", "gone"),
    "test_round": stable_id("test_round", "gone"),
    "volunteer": stable_id("volunteer", "gone"),
    "order": order_id(ROUND_A, stable_id("household", "A", 2)),
}
# Open when the pushes are made (T0), so that the orders of the matrix are taken.
TIMES = {
    "opens_at": "2022-03-23T00:00:00Z",
    "cutoff_at": "2022-03-23T20:00:00Z",
    "delivers_at": "2022-03-24T09:00:00Z",
}


@pytest.fixture
def places(world: MemoryStore) -> MemoryStore:
    """The world plus supply rounds in A and B with an order each, and one deleted record
    of each kind."""
    gone_changes = [
        a_create("compound", GONE["compound"], **compound_fields("G")),
        a_create("building", GONE["building"], compound_id=COMPOUND_A, name="9号楼", number=9),
        a_create(
            "household",
            GONE["household"],
            compound_id=COMPOUND_A,
            building_id=BUILDING_A,
            unit="1",
            floor=1,
            room="101",
        ),
        a_create("supply_round", GONE["supply_round"], compound_ids=[COMPOUND_A], **TIMES),
        a_create("test_round", GONE["test_round"], **round_fields(COMPOUND_A)),
        a_create("volunteer", GONE["volunteer"], compound_id=COMPOUND_A, name="赵敏"),
    ]
    rounds = [
        a_create("supply_round", ROUND_A, compound_ids=[COMPOUND_A], **TIMES),
        a_create("supply_round", ROUND_B, compound_ids=[COMPOUND_B], **TIMES),
        a_create("package", PACKAGE_A, **package_fields(ROUND_A)),
        a_create("package", PACKAGE_B, **package_fields(ROUND_B)),
        a_create("package", GONE["package"], **package_fields(ROUND_A)),
        a_create("resident", RESIDENT_B, household_id=HOUSEHOLD_B, name="李娜"),
        a_create("resident", GONE["resident"], household_id=HOUSEHOLD_A, name="李娜"),
        a_create("visitor", VISITOR_A, **visitor_fields(COMPOUND_A, HOUSEHOLD_A)),
        a_create("visitor", VISITOR_B, **visitor_fields(COMPOUND_B, HOUSEHOLD_B)),
        a_create("visitor", GONE["visitor"], **visitor_fields(COMPOUND_A, HOUSEHOLD_A)),
        a_create("test_round", TEST_ROUND_A, **round_fields(COMPOUND_A)),
        a_create("test_round", TEST_ROUND_B, **round_fields(COMPOUND_B)),
        a_create("volunteer", VOLUNTEER_A, compound_id=COMPOUND_A, name="赵敏"),
        a_create("volunteer", VOLUNTEER_B, compound_id=COMPOUND_B, name="钱多"),
        a_create("order", ORDER_A, **order_fields(ROUND_A, HOUSEHOLD_A, PACKAGE_A)),
        a_create("order", ORDER_B, **order_fields(ROUND_B, HOUSEHOLD_B, PACKAGE_B)),
        a_create(
            "household",
            stable_id("household", "A", 2),
            compound_id=COMPOUND_A,
            building_id=BUILDING_A,
            unit="1",
            floor=2,
            room="201",
        ),
        a_create(
            "order",
            GONE["order"],
            **order_fields(ROUND_A, stable_id("household", "A", 2), PACKAGE_A),
        ),
    ]
    deletes = [
        a_delete(GONE[kind], type_=kind)
        for kind in (
            "visitor",
            "package",
            "resident",
            "household",
            "building",
            "supply_round",
            "test_round",
            "volunteer",
            "compound",
        )
    ]
    for changes in (gone_changes + rounds, deletes):
        assert only(push(world, COORD, a_changeset(*changes))).status == "applied"
    # No one deletes an order by a push: the store holds it as a tombstone here.
    order = world.get(GONE["order"])
    assert order is not None
    world.put(replace(order, deleted=True, fields={}), None)
    return world


def visitor_fields(compound_id: str, household_id: str) -> dict[str, Any]:
    """Return the fields of a visitor to a household."""
    return {
        "compound_id": compound_id,
        "post": "西门",
        "name": "快递员",
        "purpose": "delivery",
        "host_household_id": household_id,
    }


def round_fields(compound_id: str) -> dict[str, Any]:
    """Return the fields of an open testing round of a compound."""
    return {"compound_id": compound_id, "date": "2022-03-23", "kind": "pcr"}


def order_fields(round_id: str, household_id: str, package_id: str) -> dict[str, Any]:
    """Return the fields of a household's order of one package in a round."""
    return {
        "supply_round_id": round_id,
        "household_id": household_id,
        "channel": "hotline",
        "lines": [{"package_id": package_id, "qty": 1}],
    }


def package_fields(round_id: str) -> dict[str, Any]:
    """Return the fields of a package of a round."""
    return {"supply_round_id": round_id, "name": "鸡蛋", "price_cents": 3500, "stock": 5}


def valid_create(type_name: str) -> dict[str, Any]:
    """Return the fields of a valid create of ``type_name`` in compound A."""
    return {
        "building": {"compound_id": COMPOUND_A, "name": "5号楼", "number": 5},
        "household": {
            "compound_id": COMPOUND_A,
            "building_id": BUILDING_A,
            "unit": "2",
            "floor": 3,
            "room": "302",
        },
        "resident": {"household_id": HOUSEHOLD_A, "name": "李娜"},
        "visit": {"household_id": HOUSEHOLD_A, "outcome": "answered", "present": 2},
        "task": task_fields(
            COMPOUND_A, building_id=BUILDING_A, household_id=HOUSEHOLD_A, order_ids=[ORDER_A]
        ),
        "package": package_fields(ROUND_A),
        "order": order_fields(ROUND_A, HOUSEHOLD_A, PACKAGE_A),
        "restock": {"package_id": PACKAGE_A, "qty": 3},
        "med_request": {"resident_id": RESIDENT_A, "medicine": "阿司匹林", "urgency": "today"},
        "supply_round": {"compound_ids": [COMPOUND_A], **TIMES},
        "gate_pass": {
            "resident_id": RESIDENT_A,
            "kind": "resident",
            "valid_until": "2022-05-01T00:00:00Z",
        },
        "gate_event": {
            "compound_id": COMPOUND_A,
            "post": "西门",
            "direction": "in",
            "decision": "allow",
            "policy_version": 1,
            "visitor_id": VISITOR_A,
        },
        "visitor": visitor_fields(COMPOUND_A, HOUSEHOLD_A),
        "gate_alert": {
            "compound_id": COMPOUND_A,
            "kind": "fever",
            "event_id": stable_id("gate_event", "A"),
            "post": "西门",
        },
        "gate_policy": {
            "compound_id": COMPOUND_A,
            "rules": default_rules(),
            "window_opens": "06:00",
            "window_closes": "20:00",
        },
        "test_round": round_fields(COMPOUND_A),
        "test_result": {
            "test_round_id": TEST_ROUND_A,
            "resident_id": RESIDENT_A,
            "outcome": "tested",
        },
        "volunteer": {"compound_id": COMPOUND_A, "name": "孙丽"},
        "shift": {
            "volunteer_id": VOLUNTEER_A,
            "compound_id": COMPOUND_A,
            "post": "西门",
            "starts_at": "2022-03-23T07:00:00+08:00",
            "ends_at": "2022-03-23T19:00:00+08:00",
        },
        "notice": {
            "compound_ids": [COMPOUND_A],
            "title": {"zh-CN": "通知"},
            "body": {"zh-CN": "…"},
        },
    }[type_name]


# What each case puts in the field: (case, value for a field naming that type).
OTHER_TYPE = TASK_A
OTHER_COMPOUND = {
    "compound": COMPOUND_B,
    "building": BUILDING_B,
    "household": HOUSEHOLD_B,
    "supply_round": ROUND_B,
    "package": PACKAGE_B,
    "resident": RESIDENT_B,
    "visitor": VISITOR_B,
    "test_round": TEST_ROUND_B,
    "volunteer": VOLUNTEER_B,
    "order": ORDER_B,
}
# Fields checked against each other by a type's kind rules: an order's
# household must lie in one of its round's compounds; a mark's resident in
# its testing round's compound.
CROSS_CHECKED = {
    "order": frozenset({"supply_round_id", "household_id"}),
    "test_result": frozenset({"test_round_id", "resident_id"}),
}
# Every id field of every type a device writes, but those the server copies
# from the parent (a resident's compound_id) and conflicts (server-made).
SCOPE_FIELDS = [
    (type_name, field_name)
    for type_name, rtype in sorted(REGISTRY.items())
    if type_name != "conflict"
    for field_name in sorted(refs(rtype.fields))
    if rtype.parent is None or field_name not in rtype.parent.copies
]
MATRIX = [
    pytest.param(type_name, field_name, case, id=f"{type_name}.{field_name}-{case}")
    for type_name, field_name in SCOPE_FIELDS
    for case in ("missing", "wrong_type", "other_compound", "deleted")
]


def with_value(fields: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    """Return ``fields`` with ``name`` set to ``value`` (in a list for list fields)."""
    return {**fields, name: [value] if isinstance(fields.get(name), list) else value}


def expected_code(type_name: str, field_name: str, case: str) -> str | None:
    """Return the code a create must get (``None``: applied, the data is consistent)."""
    if case != "other_compound" or field_name in CROSS_CHECKED.get(type_name, ()):
        return "invalid"
    agreeing = REGISTRY[type_name].fields
    if any(ref.same for name, ref in refs(agreeing).items() if name == field_name):
        return "invalid"  # the named record is in another compound than this one
    dependants = [ref for name, ref in refs(agreeing).items() if field_name in ref.same]
    # Moving the record's own compound leaves its building or household behind;
    # a record that only names another compound (or round) lies elsewhere: fine
    # for a coordinator who sees both.
    return "invalid" if dependants else None


def test_the_matrix_covers_every_scope_field() -> None:
    covered = {(p.values[0], p.values[1]) for p in MATRIX}
    assert covered == set(SCOPE_FIELDS) and len(covered) >= 10


@pytest.mark.parametrize(("type_name", "field_name", "case"), MATRIX)
def test_scope_fields_must_name_a_live_record_of_their_type_in_agreement(
    places: MemoryStore, type_name: str, field_name: str, case: str
) -> None:
    ref = refs(REGISTRY[type_name].fields)[field_name]
    value = {
        "missing": new_id(),
        "wrong_type": OTHER_TYPE,
        "other_compound": OTHER_COMPOUND[ref.type],
        "deleted": GONE[ref.type],
    }[case]
    fields = with_value(valid_create(type_name), field_name, value)
    create = a_create(type_name, record_id(fields), **fields)
    outcome = push(places, COORD, a_changeset(create), signer=MemorySigner(places))
    code = expected_code(type_name, field_name, case)
    assert code_of(outcome) == code, only(outcome).to_wire()
    if code is not None:
        conflict = only(outcome).changes[0].conflict
        assert conflict is not None and conflict.field in {field_name, *dependants(type_name)}


def record_id(fields: dict[str, Any]) -> str:
    """Return the id of a new record: an order's is its household's in the round, a
    gate policy's its compound's."""
    if "lines" in fields and is_uuid(fields["household_id"]):
        return order_id(fields["supply_round_id"], fields["household_id"])
    if "window_opens" in fields and is_uuid(fields["compound_id"]):
        return policy_id(fields["compound_id"])
    if "test_round_id" in fields and is_uuid(fields["test_round_id"]):
        return mark_id(fields["test_round_id"], fields["resident_id"])
    return new_id()


def dependants(type_name: str) -> set[str]:
    """Return the fields whose record must agree with another field."""
    agreeing = {name for name, ref in refs(REGISTRY[type_name].fields).items() if ref.same}
    return agreeing | CROSS_CHECKED.get(type_name, set())


@pytest.mark.parametrize(
    ("fields", "at_fault"),
    [
        ({"building_id": BUILDING_B}, "building_id"),
        ({"household_id": HOUSEHOLD_B}, "household_id"),
        ({"compound_id": COMPOUND_B}, "building_id"),
        ({"household_id": GONE["household"]}, "household_id"),
    ],
)
def test_an_update_must_keep_a_task_consistent(
    places: MemoryStore, fields: dict[str, str], at_fault: str
) -> None:
    outcome = push(places, COORD, a_changeset(an_update(TASK_A, **fields)))
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and (conflict.code, conflict.field) == ("invalid", at_fault)


def test_moving_a_task_with_its_building_is_fine(places: MemoryStore) -> None:
    move = an_update(TASK_A, compound_id=COMPOUND_B, building_id=BUILDING_B)
    assert code_of(push(places, COORD, a_changeset(move))) is None


def test_the_reported_example_a_household_of_b_in_a_building_of_a(places: MemoryStore) -> None:
    fields = {**valid_create("household"), "compound_id": COMPOUND_B, "building_id": BUILDING_A}
    outcome = push(places, VOL_B, a_changeset(a_create("household", **fields)))
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and (conflict.code, conflict.field) == ("invalid", "building_id")
    unknown = {**fields, "building_id": new_id()}
    outcome = push(places, VOL_B, a_changeset(a_create("household", **unknown)))
    assert code_of(outcome) == "invalid"
