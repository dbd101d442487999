"""A record kind's own rules plug in through ``RecordType.kind_rules``.

Supplies will plug ``out_of_stock`` and ``round_closed`` in this way; here a
miniature package/order pair shows the hook runs last, can reject with any
code, judges time by the clamped ``made_at`` and can write another record.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from sync import Code, MemoryStore, Op, Record, SyncError, medicine, supplies, tasks
from sync import fields as f
from sync.actors import Role
from sync.catalog import REGISTRY
from sync.registry import ChangeContext, Permissions, RecordType, Ruling, SideWrite
from sync.scoping import compound_field, place
from sync.times import parse_datetime
from tests.sync.builders import (
    COMPOUND_A,
    COORD,
    RECEIVED,
    T0,
    TASK_A,
    VOL_A,
    a_changeset,
    a_create,
    an_update,
    code_of,
    only,
    push,
    stored,
)

ANYONE = frozenset(Role)
CUTOFF = "2022-03-23T12:00:00.000Z"


def order_rules(ctx: ChangeContext) -> Ruling | None:
    """Take an order's quantity from its package's stock, before the cut-off."""
    if ctx.op != "create":
        return None
    package = ctx.lookup(str(ctx.fields["package_id"]))
    assert package is not None
    if ctx.made_at > parse_datetime(package.fields["cutoff_at"]):
        raise SyncError(Code.ROUND_CLOSED, "the round closed at noon")
    stock = package.fields["stock"]
    qty = ctx.fields["qty"]
    assert isinstance(stock, int) and isinstance(qty, int)
    if qty > stock:
        raise SyncError(Code.OUT_OF_STOCK, f"only {stock} left", "qty")
    return Ruling(ctx.fields, (SideWrite(package.id, {"stock": stock - qty}),))


PACKAGE = RecordType(
    name="package",
    fields={
        "compound_id": f.Uuid(),
        "stock": f.Integer(0, 10_000),
        "cutoff_at": f.DateTime(),
    },
    required=frozenset({"compound_id", "stock", "cutoff_at"}),
    permissions=Permissions(create=ANYONE),
    scope=compound_field,
)
ORDER = RecordType(
    name="order",
    fields={"compound_id": f.Uuid(), "package_id": f.Uuid(), "qty": f.Integer(1, 99)},
    required=frozenset({"compound_id", "package_id", "qty"}),
    permissions=Permissions(create=ANYONE),
    scope=compound_field,
    kind_rules=order_rules,
)
WITH_SUPPLIES = {**REGISTRY, "package": PACKAGE, "order": ORDER}


def an_order(package_id: str, qty: int) -> object:
    """Return the create of an order."""
    return a_create("order", compound_id=COMPOUND_A, package_id=package_id, qty=qty)


def test_kind_rules_hook_can_reject_and_write_side_effects(world: MemoryStore) -> None:
    package = a_create("package", compound_id=COMPOUND_A, stock=3, cutoff_at=CUTOFF)
    push(world, COORD, a_changeset(package), registry=WITH_SUPPLIES)
    first = push(world, VOL_A, a_changeset(an_order(package.id, 2)), registry=WITH_SUPPLIES)  # type: ignore[arg-type]
    assert only(first).status == "applied"
    assert stored(world, package.id).fields["stock"] == 1
    assert {r.type for r in first.written} == {"order", "package"}
    oversold = push(world, VOL_A, a_changeset(an_order(package.id, 2)), registry=WITH_SUPPLIES)  # type: ignore[arg-type]
    assert code_of(oversold) == "out_of_stock"
    assert stored(world, package.id).fields["stock"] == 1


def test_kind_rules_judge_time_by_clamped_made_at(world: MemoryStore) -> None:
    package = a_create("package", compound_id=COMPOUND_A, stock=9, cutoff_at=CUTOFF)
    push(world, COORD, a_changeset(package), registry=WITH_SUPPLIES)
    afternoon = T0 + timedelta(hours=4)
    late = a_changeset(an_order(package.id, 1), made_at=afternoon)  # type: ignore[arg-type]
    assert (
        code_of(push(world, VOL_A, late, at=afternoon, registry=WITH_SUPPLIES)) == "round_closed"
    )
    # A clock running fast does not close the round early: the device's time
    # counts only up to the receipt (11:00 here).
    fast = a_changeset(an_order(package.id, 1), made_at=afternoon)  # type: ignore[arg-type]
    assert code_of(push(world, VOL_A, fast, at=RECEIVED, registry=WITH_SUPPLIES)) is None


def test_kind_rules_run_after_validation(world: MemoryStore) -> None:
    package = a_create("package", compound_id=COMPOUND_A, stock=0, cutoff_at=CUTOFF)
    push(world, COORD, a_changeset(package), registry=WITH_SUPPLIES)
    bad = replace(an_order(package.id, 0))  # type: ignore[type-var]
    assert code_of(push(world, VOL_A, a_changeset(bad), registry=WITH_SUPPLIES)) == "invalid"


def take_from_stock(ctx: ChangeContext) -> Ruling | None:
    """Take an order's quantity from the real package type's rule-owned stock."""
    package = ctx.lookup(str(ctx.fields["package_id"]))
    assert package is not None
    stock = package.fields["stock"]
    qty = ctx.fields["qty"]
    assert isinstance(stock, int) and isinstance(qty, int)
    return Ruling(ctx.fields, (SideWrite(package.id, {"stock": stock - qty}),))


def test_rules_set_rule_owned_fields_that_no_device_may(world: MemoryStore) -> None:
    round_ = a_create(
        "supply_round",
        compound_ids=[COMPOUND_A],
        opens_at="2022-03-23T08:00:00Z",
        cutoff_at=CUTOFF,
        delivers_at="2022-03-23T18:00:00Z",
    )
    package = a_create("package", supply_round_id=round_.id, name="米", price_cents=1, stock=5)
    assert code_of(push(world, COORD, a_changeset(round_, package))) is None
    order = RecordType(
        name="order",
        fields={"compound_id": f.Uuid(), "package_id": f.Ref("package"), "qty": f.Integer(1, 9)},
        required=frozenset({"compound_id", "package_id", "qty"}),
        permissions=Permissions(create=ANYONE),
        scope=compound_field,
        kind_rules=take_from_stock,
    )
    registry = {**REGISTRY, "order": order}
    made = a_create("order", compound_id=COMPOUND_A, package_id=package.id, qty=2)
    assert code_of(push(world, VOL_A, a_changeset(made), registry=registry)) is None
    assert stored(world, package.id).fields["stock"] == 3
    edit = an_update(package.id, type_="package", stock=99)
    assert code_of(push(world, COORD, a_changeset(edit), registry=registry)) == "forbidden"


#: A medicine request and an order a task may serve, in any of their states.
MED_REQUEST = "6a7e4e52-0000-4000-8000-0000000000a1"
ORDER_ID = "6a7e4e52-0000-4000-8000-0000000000a2"
TASK_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(tasks.STATUSES),
        "notes": st.sampled_from(["", "left at the door"]),
        "priority": st.integers(1, 3),
    },
)


def a_record(type_: str, record_id: str, **fields: object) -> Record:
    """Return a live record of compound A with ``fields``, unstamped."""
    return Record(type_, record_id, 1, False, fields, {}, place(COMPOUND_A))


@given(
    op=st.sampled_from(Op),
    fields=TASK_FIELDS,
    before=st.sampled_from(tasks.STATUSES),
    request=st.sampled_from(medicine.STATUSES),
    order=st.sampled_from(supplies.STATUSES),
)
def test_task_rules_judge_every_change_that_ends_a_run(
    op: Op, fields: dict[str, object], before: str, request: str, order: str
) -> None:
    # The engine skips the task's rules for a change they do not judge
    # (kind_rules_judge); they must change nothing for it.
    task = a_record(
        "task", TASK_A, status=before, med_request_id=MED_REQUEST, order_ids=[ORDER_ID]
    )
    others = {
        MED_REQUEST: a_record("med_request", MED_REQUEST, status=request, task_id=TASK_A),
        ORDER_ID: a_record("order", ORDER_ID, status=order),
    }
    current = None if op is Op.CREATE else task
    ctx = ChangeContext(COORD, op, TASK_A, fields, current, T0, others.get)
    if not tasks.TASK.kind_rules_judge.judge(op, fields):
        assert tasks.task_rules(ctx) is None
