"""Orders never oversell and never land after the cut-off (contract, Conflict rules).

Unit tests of the order rules — identity, window, stock, limits, the state
machine, restocks — then a property test: several offline devices queue
random orders, confirmations, cancellations, re-orders and restocks at random device times
and sync in random interleavings; afterwards no package is oversold, no
order was placed outside its round's window (judged by the clamped
``made_at``), every changeset got its result back, and every package's
stock is its initial stock minus what live orders hold plus its restocks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sync import Actor, Change, MemoryStore, Record, UserScope
from sync.supplies import delivery_task_id, delivery_tasks_by_unit, order_id
from sync.times import format_datetime
from tests.sync.builders import (
    BUILDING_A,
    COMPOUND_A,
    COMPOUND_B,
    COORD,
    HOUSEHOLD_A,
    HOUSEHOLD_B,
    LEADER_A,
    RECEIVED,
    T0,
    VOL_A,
    VOL_A2,
    a_changeset,
    a_create,
    an_actor,
    an_update,
    code_of,
    new_id,
    only,
    push,
    seed_world,
    stable_id,
    stored,
    task_fields,
    version_of,
)

ROUND = stable_id("supply_round", 1)
VEG, MEAT = stable_id("package", "veg"), stable_id("package", "meat")
OPENS, CUTOFF = T0 - timedelta(hours=2), T0 + timedelta(hours=2)
HOUSEHOLDS = tuple(stable_id("household", "A", n) for n in range(6))
ROUND_TIMES = {
    "opens_at": format_datetime(OPENS),
    "cutoff_at": format_datetime(CUTOFF),
    "delivers_at": format_datetime(CUTOFF + timedelta(hours=5)),
}


def seed_round(world: MemoryStore, stock: int = 5, limit: int | None = None) -> None:
    """Add a round over compound A with two packages and six more households."""
    changes = [
        a_create(
            "supply_round",
            ROUND,
            compound_ids=[COMPOUND_A],
            household_limit=limit,
            **ROUND_TIMES,
        ),
        a_create(
            "package", VEG, supply_round_id=ROUND, name="蔬菜包", price_cents=3900, stock=stock
        ),
        a_create(
            "package", MEAT, supply_round_id=ROUND, name="肉蛋包", price_cents=8800, stock=stock
        ),
    ]
    changes += [
        a_create(
            "household",
            each,
            compound_id=COMPOUND_A,
            building_id=BUILDING_A,
            unit="1",
            floor=n + 1,
            room=f"{n + 1}01",
        )
        for n, each in enumerate(HOUSEHOLDS)
    ]
    outcome = push(world, COORD, a_changeset(*changes, made_at=OPENS))
    assert only(outcome).status == "applied", only(outcome).to_wire()


@pytest.fixture
def shop(world: MemoryStore) -> MemoryStore:
    """Return the seeded world with an open round (stock 5 of each package)."""
    seed_round(world)
    return world


def an_order(household: str = HOUSEHOLD_A, channel: str = "proxy", **lines: int) -> Change:
    """Return the create of ``household``'s order with ``lines`` (veg=2, meat=1)."""
    ids = {"veg": VEG, "meat": MEAT}
    return a_create(
        "order",
        order_id(ROUND, household),
        supply_round_id=ROUND,
        household_id=household,
        channel=channel,
        lines=[{"package_id": ids[name], "qty": qty} for name, qty in lines.items()],
    )


def order_update(household: str = HOUSEHOLD_A, **fields: Any) -> Change:
    """Return an update of ``household``'s order."""
    return an_update(order_id(ROUND, household), type_="order", **fields)


def stock(world: MemoryStore, package: str = VEG) -> object:
    """Return a package's stock."""
    return stored(world, package).fields["stock"]


def test_an_order_takes_stock_and_records_who_ordered_for_whom(shop: MemoryStore) -> None:
    outcome = push(shop, VOL_A, a_changeset(an_order(veg=2, meat=1)))
    assert only(outcome).status == "applied"
    assert (stock(shop, VEG), stock(shop, MEAT)) == (3, 4)
    order = stored(shop, order_id(ROUND, HOUSEHOLD_A)).fields
    assert (order["ordered_by"], order["channel"], order["household_id"]) == (
        2,
        "proxy",
        HOUSEHOLD_A,
    )
    assert (order["status"], order["compound_id"], order["building_id"]) == (
        "placed",
        COMPOUND_A,
        BUILDING_A,
    )


def test_out_of_stock_says_what_is_left_and_takes_nothing(shop: MemoryStore) -> None:
    push(shop, VOL_A, a_changeset(an_order(HOUSEHOLDS[0], veg=4)))
    outcome = push(shop, VOL_A2, a_changeset(an_order(HOUSEHOLDS[1], veg=2, meat=1)))
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and conflict.code == "out_of_stock"
    assert "only 1 of 蔬菜包 left" in conflict.detail
    assert (stock(shop, VEG), stock(shop, MEAT)) == (1, 5)


@pytest.mark.parametrize(
    ("opens", "cutoff", "delivers", "field"),
    [
        (CUTOFF, OPENS, CUTOFF, "cutoff_at"),
        (OPENS, OPENS, CUTOFF, "cutoff_at"),
        (OPENS, CUTOFF, OPENS, "delivers_at"),
    ],
)
def test_a_round_opens_then_closes_then_delivers(
    world: MemoryStore, opens: datetime, cutoff: datetime, delivers: datetime, field: str
) -> None:
    times = {"opens_at": opens, "cutoff_at": cutoff, "delivers_at": delivers}
    round_ = a_create(
        "supply_round",
        compound_ids=[COMPOUND_A],
        **{name: format_datetime(when) for name, when in times.items()},
    )
    outcome = push(world, LEADER_A, a_changeset(round_))
    assert code_of(outcome) == "invalid"
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and conflict.field == field
    # The same round in order is taken; moving its cut-off before its opening is not.
    good = a_create("supply_round", compound_ids=[COMPOUND_A], **ROUND_TIMES)
    assert code_of(push(world, LEADER_A, a_changeset(good))) is None
    late = an_update(good.id, 1, type_="supply_round", cutoff_at=format_datetime(OPENS))
    assert code_of(push(world, LEADER_A, a_changeset(late))) == "invalid"


@pytest.mark.parametrize(
    ("made_at", "received", "code"),
    [
        (CUTOFF + timedelta(minutes=1), CUTOFF + timedelta(hours=1), "round_closed"),
        (OPENS - timedelta(minutes=1), RECEIVED, "round_closed"),
        # Made offline before noon, synced in the afternoon: it counts.
        (CUTOFF - timedelta(minutes=1), CUTOFF + timedelta(hours=3), None),
        # A device clock running ahead counts only up to the receipt.
        (CUTOFF + timedelta(days=1), RECEIVED, None),
    ],
)
def test_the_window_is_judged_by_made_at_clamped_to_receipt(
    shop: MemoryStore, made_at: datetime, received: datetime, code: str | None
) -> None:
    changeset = a_changeset(an_order(veg=1), made_at=made_at)
    assert code_of(push(shop, VOL_A, changeset, at=received)) == code
    assert stock(shop) == (4 if code is None else 5)


def test_cancelling_gives_back_and_placing_again_takes(shop: MemoryStore) -> None:
    push(shop, VOL_A, a_changeset(an_order(veg=3)))
    assert code_of(push(shop, VOL_A, a_changeset(order_update(status="cancelled")))) is None
    assert stock(shop) == 5
    again = order_update(status="placed", lines=[{"package_id": MEAT, "qty": 2}])
    assert code_of(push(shop, VOL_A2, a_changeset(again))) is None
    assert (stock(shop, VEG), stock(shop, MEAT)) == (5, 3)


def test_changing_lines_before_cutoff_moves_only_the_difference(shop: MemoryStore) -> None:
    push(shop, VOL_A, a_changeset(an_order(veg=2)))
    change = order_update(lines=[{"package_id": VEG, "qty": 5}])
    assert code_of(push(shop, VOL_A, a_changeset(change))) is None
    assert stock(shop) == 0
    late = a_changeset(order_update(lines=[{"package_id": VEG, "qty": 1}]), made_at=CUTOFF)
    assert code_of(push(shop, VOL_A, late, at=CUTOFF + timedelta(seconds=1))) is None
    closed = a_changeset(order_update(status="cancelled"), made_at=CUTOFF + timedelta(minutes=5))
    assert code_of(push(shop, VOL_A, closed, at=CUTOFF + timedelta(hours=1))) == "round_closed"


def test_two_devices_ordering_for_one_household_meet_in_one_order(shop: MemoryStore) -> None:
    push(shop, VOL_A, a_changeset(an_order(veg=2)))
    # The team leader took the same household's call on the hotline.
    outcome = push(shop, LEADER_A, a_changeset(an_order(channel="hotline", veg=3)))
    assert only(outcome).status == "applied"
    assert stock(shop) == 2
    lines = stored(shop, order_id(ROUND, HOUSEHOLD_A)).fields["lines"]
    assert lines == [{"package_id": VEG, "qty": 3}]


def test_confirmation_by_the_leader_records_the_phone_call(shop: MemoryStore) -> None:
    push(shop, VOL_A, a_changeset(an_order(veg=1)))
    assert code_of(push(shop, VOL_A, a_changeset(order_update(status="confirmed")))) == (
        "forbidden"
    )
    confirm = order_update(status="confirmed", phoned=True)
    afternoon = CUTOFF + timedelta(hours=1)
    outcome = push(shop, LEADER_A, a_changeset(confirm, made_at=afternoon), at=afternoon)
    assert code_of(outcome) is None
    order = stored(shop, order_id(ROUND, HOUSEHOLD_A)).fields
    assert (order["status"], order["phoned"], order["confirmed_by"]) == ("confirmed", True, 6)
    fixed = order_update(lines=[{"package_id": VEG, "qty": 2}])
    assert code_of(push(shop, LEADER_A, a_changeset(fixed))) == "immutable"
    # Only organisers cancel a confirmed order.
    assert code_of(push(shop, VOL_A, a_changeset(order_update(status="cancelled")))) == (
        "stale_transition"
    )
    delivered = a_changeset(order_update(status="delivered"), made_at=afternoon)
    assert code_of(push(shop, VOL_A, delivered, at=afternoon)) is None
    assert code_of(push(shop, COORD, a_changeset(order_update(status="cancelled")))) == (
        "stale_transition"
    )
    assert stock(shop) == 4


def order_as(record_id: str | None = None, **overrides: Any) -> Change:
    """Return the create of household A's order (one 蔬菜包) with ``overrides``."""
    fields: dict[str, Any] = {
        "supply_round_id": ROUND,
        "household_id": HOUSEHOLD_A,
        "channel": "proxy",
        "lines": [{"package_id": VEG, "qty": 1}],
    }
    fields.update(overrides)
    return a_create("order", record_id or order_id(ROUND, fields["household_id"]), **fields)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (order_as(record_id=stable_id("order", "elsewhere")), None),
        (an_order(HOUSEHOLD_A), "lines"),
        (order_as(household_id=HOUSEHOLD_B), "household_id"),
        (an_order(veg=100), "lines"),
        (order_as(lines=[{"package_id": VEG, "qty": 1}, {"package_id": VEG, "qty": 1}]), "lines"),
        (order_as(lines=[{"package_id": HOUSEHOLD_A, "qty": 1}]), "lines"),
        (order_as(channel="fax"), "channel"),
        (order_as(lines=[{"package_id": VEG}]), "lines"),
    ],
)
def test_malformed_orders_are_invalid_and_take_nothing(
    shop: MemoryStore, change: Change, field: str | None
) -> None:
    outcome = push(shop, COORD, a_changeset(change))
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and (conflict.code, conflict.field) == ("invalid", field)
    assert stock(shop) == 5


def test_the_household_limit_caps_each_package(world: MemoryStore) -> None:
    seed_round(world, limit=2)
    assert code_of(push(world, VOL_A, a_changeset(an_order(veg=3)))) == "invalid"
    assert code_of(push(world, VOL_A, a_changeset(an_order(veg=2, meat=2)))) is None


def test_restocks_add_and_stock_is_never_edited(shop: MemoryStore) -> None:
    restock = a_create("restock", package_id=VEG, qty=10)
    assert code_of(push(shop, VOL_A, a_changeset(restock))) == "forbidden"
    assert code_of(push(shop, LEADER_A, a_changeset(restock))) is None
    assert stock(shop) == 15
    edit = an_update(restock.id, type_="restock", qty=1)
    assert code_of(push(shop, LEADER_A, a_changeset(edit))) == "immutable"
    assert code_of(
        push(shop, LEADER_A, a_changeset(an_update(VEG, type_="package", stock=1)))
    ) == ("forbidden")


# -- the property: several offline devices ---------------------------------

DEVICES: tuple[tuple[str, Actor], ...] = (
    ("vol-a", VOL_A),
    ("vol-a2", VOL_A2),
    ("leader", LEADER_A),
    ("coord", COORD),
)
#: One queued action: (device, kind, household, veg, meat, minutes after OPENS - 1h).
Action = tuple[int, str, int, int, int, int]

actions = st.lists(
    st.tuples(
        st.integers(0, len(DEVICES) - 1),
        st.sampled_from(("order", "order", "cancel", "confirm", "restock", "sync")),
        st.integers(0, len(HOUSEHOLDS) - 1),
        st.integers(0, 4),
        st.integers(0, 4),
        st.integers(0, 6 * 60),
    ),
    max_size=40,
)


def restocks(world: MemoryStore) -> list[Record]:
    """Return every restock stored."""
    page = world.page(UserScope(everything=True), 0, 100_000, frozenset())
    return [record for record in page.records if record.type == "restock"]


def queued(kind: str, household: int, veg: int, meat: int) -> Change | None:
    """Return the change an action queues (``None``: nothing to queue)."""
    target = HOUSEHOLDS[household]
    if kind == "restock":
        return a_create("restock", package_id=VEG if veg >= meat else MEAT, qty=1 + veg)
    if kind == "confirm":
        # Only organisers may; a volunteer's confirmation is refused and answered.
        return order_update(target, status="confirmed", phoned=True)
    if kind == "cancel":
        return order_update(target, status="cancelled")
    lines = {"veg": veg, "meat": meat}
    lines = {name: qty for name, qty in lines.items() if qty}
    if not lines:
        return None
    return an_order(target, **lines)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
# A create queued twice, the second time before the window: a no-op, not a placement.
@example([(0, "order", 1, 0, 1, 60), (0, "order", 1, 0, 1, 0)])
def test_offline_devices_never_oversell_nor_order_after_cutoff(steps: list[Action]) -> None:
    world = MemoryStore()
    seed_world(world)
    seed_round(world, stock=4)
    queues: list[list[Any]] = [[] for _ in DEVICES]
    placed_at: dict[str, list[datetime]] = {}
    answered: set[int | None] = set()
    now = OPENS
    for device, kind, household, veg, meat, minutes in steps + [
        (d, "sync", 0, 0, 0, 0) for d in range(4)
    ]:
        now += timedelta(minutes=7)
        name, actor = DEVICES[device]
        if kind != "sync":
            change = queued(kind, household, veg, meat)
            made_at = OPENS - timedelta(hours=1) + timedelta(minutes=minutes)
            if change is not None:
                queues[device].append(a_changeset(change, made_at=made_at))
            continue
        sent, queues[device] = queues[device], []
        outcome = push(world, actor, *sent, at=now, device=name)
        # Every changeset, accepted or not, is answered to the device that sent it.
        assert [result.id for result in outcome.results] == [each.id for each in sent]
        for changeset, result in zip(sent, outcome.results, strict=True):
            (change,) = changeset.changes
            if result.status == "rejected":
                conflict = result.changes[0].conflict
                assert conflict is not None and conflict.detail
                continue
            # A placement that wrote: a repeated identical create writes nothing
            # and answers the version an earlier changeset wrote.
            version = result.changes[0].version
            wrote = version not in answered
            answered.add(version)
            placing = change.fields.get("status", "placed") == "placed"
            if change.type == "order" and placing and wrote:
                placed_at.setdefault(change.id, []).append(min(changeset.made_at, now))
    # Only organisers confirmed: a volunteer's confirmation was refused (and answered).
    organisers = {LEADER_A.user_id, COORD.user_id}
    for household in HOUSEHOLDS:
        order = world.get(order_id(ROUND, household))
        if order is not None and order.fields["status"] == "confirmed":
            assert order.fields["confirmed_by"] in organisers
    # No order was placed outside its window.
    assert all(OPENS <= when <= CUTOFF for times in placed_at.values() for when in times)
    # stock == initial - held by live orders + restocked, and never below zero.
    for package in (VEG, MEAT):
        held = sum(
            line["qty"]
            for household in HOUSEHOLDS
            for order in [world.get(order_id(ROUND, household))]
            if order is not None and order.fields["status"] in {"placed", "confirmed"}
            for line in order.fields["lines"]
            if line["package_id"] == package
        )
        restocked = sum(
            r.fields["qty"] for r in restocks(world) if r.fields["package_id"] == package
        )
        assert stock(world, package) == 4 - held + restocked
        assert stock(world, package) >= 0


# -- delivery tasks from confirmed orders ------------------------------------

UNIT_2 = stable_id("household", "A", "unit 2")


def deliveries(world: MemoryStore) -> list[Change]:
    """Return the changes that bring the round's delivery tasks up to date."""
    page = world.page(UserScope(everything=True), 0, 100_000, frozenset())
    by_type: dict[str, dict[str, Record]] = {}
    for record in page.records:
        by_type.setdefault(record.type, {})[record.id] = record
    by_unit = delivery_tasks_by_unit(
        stored(world, ROUND),
        by_type["order"].values(),
        by_type["household"],
        by_type["building"],
        by_type["package"],
        world.get,
    )
    return [change for changes in by_unit.values() for change in changes]


def confirm(world: MemoryStore, household: str) -> None:
    """Have the team leader confirm ``household``'s order after phoning."""
    change = order_update(household, status="confirmed", phoned=True)
    assert code_of(push(world, LEADER_A, a_changeset(change))) is None


def task_of(unit: str) -> str:
    """Return the id of the round's delivery task for a unit of building A."""
    return delivery_task_id(ROUND, BUILDING_A, unit)


def unit_2_home() -> Change:
    """Return the create of the household of unit 2 (room 302)."""
    return a_create(
        "household",
        UNIT_2,
        compound_id=COMPOUND_A,
        building_id=BUILDING_A,
        unit="2",
        floor=3,
        room="302",
    )


@pytest.fixture
def ordered(shop: MemoryStore) -> MemoryStore:
    """Return the shop with orders: two confirmed in unit 1, one in unit 2, one placed."""
    home = unit_2_home()
    orders = [
        an_order(HOUSEHOLDS[1], meat=1),
        an_order(HOUSEHOLDS[0], veg=2, meat=1),
        an_order(UNIT_2, channel="hotline", veg=1),
        an_order(HOUSEHOLDS[2], veg=1),
    ]
    assert only(push(shop, VOL_A, a_changeset(home, *orders))).status == "applied"
    for household in (HOUSEHOLDS[0], HOUSEHOLDS[1], UNIT_2):
        confirm(shop, household)
    return shop


def test_delivery_tasks_are_one_per_unit_from_confirmed_orders_only(ordered: MemoryStore) -> None:
    changes = deliveries(ordered)
    assert [(c.id, c.op) for c in changes] == [(task_of("1"), "create"), (task_of("2"), "create")]
    unit_1 = next(c for c in changes if c.id == task_of("1")).fields
    assert unit_1["order_ids"] == [order_id(ROUND, HOUSEHOLDS[n]) for n in (0, 1)]
    assert unit_1["notes"] == "101室：蔬菜包×2、肉蛋包×1\n201室：肉蛋包×1"
    assert (unit_1["kind"], unit_1["status"], unit_1["building_id"]) == (
        "delivery",
        "open",
        BUILDING_A,
    )
    # The trip needs the rooms and the goods, never a name or a phone.
    assert "王秀英" not in str(changes) and "13800000000" not in str(changes)
    assert only(push(ordered, COORD, a_changeset(*changes))).status == "applied"
    # Asking again changes nothing.
    assert deliveries(ordered) == []


def test_a_late_confirmation_joins_an_open_task_or_follows_a_claimed_one(
    ordered: MemoryStore,
) -> None:
    push(ordered, COORD, a_changeset(*deliveries(ordered)))
    claim = an_update(task_of("1"), version_of(ordered, task_of("1")), status="claimed")
    assert code_of(push(ordered, VOL_A, a_changeset(claim))) is None
    more = a_create(
        "household", compound_id=COMPOUND_A, building_id=BUILDING_A, unit="2", floor=4, room="402"
    )
    push(ordered, VOL_A, a_changeset(more, an_order(more.id, veg=1)))
    confirm(ordered, more.id)
    confirm(ordered, HOUSEHOLDS[2])
    follow_up, update = deliveries(ordered)  # by unit: 1, then 2
    assert (update.id, update.op) == (task_of("2"), "update")
    assert update.fields["order_ids"] == [order_id(ROUND, UNIT_2), order_id(ROUND, more.id)]
    assert update.fields["title"].endswith("2单元（2 户）")
    # Unit 1's task is on its way: the late order gets the unit's next task.
    assert (follow_up.id, follow_up.op) == (delivery_task_id(ROUND, BUILDING_A, "1", 1), "create")
    assert follow_up.fields["order_ids"] == [order_id(ROUND, HOUSEHOLDS[2])]
    assert stored(ordered, task_of("1")).fields["order_ids"] == [
        order_id(ROUND, HOUSEHOLDS[n]) for n in (0, 1)
    ]


def test_an_open_task_drops_cancelled_orders_and_is_cancelled_when_empty(
    ordered: MemoryStore,
) -> None:
    # A job turn decided before the orders were cancelled, and wrote after.
    decided = deliveries(ordered)
    for household in (HOUSEHOLDS[1], UNIT_2):
        cancel = order_update(household, status="cancelled")
        assert code_of(push(ordered, LEADER_A, a_changeset(cancel))) is None
    push(ordered, COORD, a_changeset(*decided))
    unit_1, unit_2 = deliveries(ordered)
    assert (unit_1.id, unit_1.fields["order_ids"]) == (
        task_of("1"),
        [order_id(ROUND, HOUSEHOLDS[0])],
    )
    assert (unit_2.id, unit_2.fields) == (task_of("2"), {"status": "cancelled"})
    assert code_of(push(ordered, COORD, a_changeset(unit_1, unit_2))) is None
    assert deliveries(ordered) == []


@pytest.mark.parametrize(
    ("actor", "status"), [(LEADER_A, "cancelled"), (COORD, "cancelled"), (LEADER_A, "delivered")]
)
def test_an_order_leaving_confirmed_leaves_its_open_task_at_once(
    ordered: MemoryStore, actor: object, status: str
) -> None:
    push(ordered, COORD, a_changeset(*deliveries(ordered)))
    outcome = push(ordered, actor, a_changeset(order_update(HOUSEHOLDS[1], status=status)))  # type: ignore[arg-type]
    assert code_of(outcome) is None
    # In the same changeset, before any job turn: what the job would make of it.
    unit_1 = stored(ordered, task_of("1")).fields
    assert unit_1["order_ids"] == [order_id(ROUND, HOUSEHOLDS[0])]
    assert (unit_1["notes"], unit_1["title"]) == (
        "101室：蔬菜包×2、肉蛋包×1",
        "团购送货：3号楼 1单元（1 户）",
    )
    assert deliveries(ordered) == []
    # The last order of a unit: its open task is cancelled.
    push(ordered, actor, a_changeset(order_update(UNIT_2, status=status)))  # type: ignore[arg-type]
    assert stored(ordered, task_of("2")).fields["status"] == "cancelled"
    assert deliveries(ordered) == []


def test_an_order_cancelled_on_a_claimed_trip_stays_listed_and_is_not_delivered(
    ordered: MemoryStore,
) -> None:
    push(ordered, COORD, a_changeset(*deliveries(ordered)))
    claim = an_update(task_of("1"), version_of(ordered, task_of("1")), status="claimed")
    assert code_of(push(ordered, VOL_A, a_changeset(claim))) is None
    listed = stored(ordered, task_of("1")).fields["order_ids"]
    cancel = order_update(HOUSEHOLDS[1], status="cancelled")
    assert code_of(push(ordered, LEADER_A, a_changeset(cancel))) is None
    assert stored(ordered, task_of("1")).fields["order_ids"] == listed


def test_the_orders_of_a_failed_trip_get_a_new_task(ordered: MemoryStore) -> None:
    push(ordered, COORD, a_changeset(*deliveries(ordered)))
    task = task_of("2")
    for status, extra in (("claimed", {}), ("in_progress", {}), ("failed", {"notes": "无人"})):
        move = an_update(task, version_of(ordered, task), status=status, **extra)
        assert code_of(push(ordered, VOL_A, a_changeset(move))) is None, status
    (again,) = deliveries(ordered)
    assert (again.id, again.op) == (delivery_task_id(ROUND, BUILDING_A, "2", 1), "create")
    assert again.fields["order_ids"] == [order_id(ROUND, UNIT_2)]


def test_a_done_delivery_marks_its_confirmed_orders_delivered(ordered: MemoryStore) -> None:
    push(ordered, COORD, a_changeset(*deliveries(ordered)))
    cancel = order_update(HOUSEHOLDS[1], status="cancelled")
    assert code_of(push(ordered, LEADER_A, a_changeset(cancel))) is None
    before = (stock(ordered, VEG), stock(ordered, MEAT))
    task = task_of("1")
    for status, extra in (
        ("claimed", {}),
        ("in_progress", {}),
        ("done", {"proof": "取货码 4821"}),
    ):
        move = an_update(task, version_of(ordered, task), status=status, **extra)
        assert code_of(push(ordered, VOL_A, a_changeset(move))) is None, status
    statuses = [
        stored(ordered, order_id(ROUND, h)).fields["status"]
        for h in (HOUSEHOLDS[0], HOUSEHOLDS[1], UNIT_2)
    ]
    assert statuses == ["delivered", "cancelled", "confirmed"]
    assert (stock(ordered, VEG), stock(ordered, MEAT)) == before
    assert stored(ordered, task).fields["proof"] == "取货码 4821"


COORD_B = an_actor("coordinator", 9, (COMPOUND_B,))


@pytest.mark.parametrize(
    ("actor", "compound", "listed", "code"),
    [
        (COORD, COMPOUND_A, "order of the task's compound", None),
        (COORD_B, COMPOUND_B, "order of another compound", "invalid"),
        (COORD, COMPOUND_B, "order of another compound", "invalid"),
        (COORD, COMPOUND_A, "household, not an order", "invalid"),
        (COORD, COMPOUND_A, "unknown id", "invalid"),
    ],
    ids=["own", "another coordinator's", "another compound", "not an order", "unknown"],
)
def test_a_task_lists_only_orders_of_its_own_compound(
    ordered: MemoryStore, actor: Actor, compound: str, listed: str, code: str | None
) -> None:
    """A done delivery marks its listed orders delivered: no hand-made task may list others'."""
    order = order_id(ROUND, HOUSEHOLDS[0])
    named = {
        "order of the task's compound": order,
        "order of another compound": order,
        "household, not an order": HOUSEHOLDS[0],
        "unknown id": new_id(),
    }[listed]
    task = a_create("task", **task_fields(compound, order_ids=[named]))
    outcome = push(ordered, actor, a_changeset(task))
    assert code_of(outcome) == code
    if code is not None:
        assert only(outcome).changes[0].conflict.field == "order_ids"  # type: ignore[union-attr]
        assert ordered.get(task.id) is None  # type: ignore[attr-defined]


def test_an_order_whose_household_is_gone_gets_no_unit_task(ordered: MemoryStore) -> None:
    page = ordered.page(UserScope(everything=True), 0, 100_000, frozenset())
    of = {t: {r.id: r for r in page.records if r.type == t} for t in ("household", "building")}
    del of["household"][UNIT_2]
    orders = [r for r in page.records if r.type == "order"]
    packages = {r.id: r for r in page.records if r.type == "package"}
    by_unit = delivery_tasks_by_unit(
        stored(ordered, ROUND), orders, of["household"], of["building"], packages, ordered.get
    )
    assert [c.id for changes in by_unit.values() for c in changes] == [task_of("1")]


# -- the property: every confirmed order reaches exactly one trip -------------

#: One step after the cut-off: (kind, which household or task).
Step = tuple[str, int]
#: The households with an order in ``ordered`` and in the property's world.
ORDERING = (HOUSEHOLDS[0], HOUSEHOLDS[1], HOUSEHOLDS[2], UNIT_2)
#: What a volunteer does next with a task, by its status.
NEXT = {"open": "claimed", "claimed": "in_progress", "in_progress": "done"}

steps = st.lists(
    st.tuples(
        st.sampled_from(
            ("confirm", "cancel", "place", "deliver", "job", "advance", "fail", "drop")
        ),
        st.integers(0, 7),
    ),
    max_size=30,
)


def delivery_records(world: MemoryStore) -> list[Record]:
    """Return the round's delivery tasks stored (those naming orders), by id."""
    page = world.page(UserScope(everything=True), 0, 100_000, frozenset())
    return sorted(
        (r for r in page.records if r.type == "task" and r.fields.get("order_ids") is not None),
        key=lambda r: r.id,
    )


def run_job(world: MemoryStore) -> None:
    """Push the delivery job's changes as a coordinator; they are always accepted."""
    changes = deliveries(world)
    if changes:
        outcome = push(world, COORD, a_changeset(*changes))
        assert only(outcome).status == "applied", only(outcome).to_wire()


def take_step(world: MemoryStore, kind: str, which: int) -> None:
    """Have the leader change an order, or a volunteer or coordinator move a task."""
    if kind == "job":
        run_job(world)
        return
    if kind in {"confirm", "cancel", "place", "deliver"}:
        status = {
            "confirm": "confirmed",
            "cancel": "cancelled",
            "place": "placed",
            "deliver": "delivered",  # by hand: the household fetched it
        }[kind]
        # Refused moves (say, confirming a cancelled order) are answered and change nothing.
        push(world, LEADER_A, a_changeset(order_update(ORDERING[which % 4], status=status)))
        return
    tasks = delivery_records(world)
    if not tasks:
        return
    task = tasks[which % len(tasks)]
    status = task.fields["status"]
    if kind == "drop" and status in {"open", "claimed"}:
        push(world, COORD, a_changeset(an_update(task.id, task.version, status="cancelled")))
    elif kind == "fail" and status == "in_progress":
        move = an_update(task.id, task.version, status="failed", notes="无人应门")
        assert code_of(push(world, VOL_A, a_changeset(move))) is None
    elif kind == "advance" and status in NEXT:
        move = an_update(task.id, task.version, status=NEXT[status], proof="门口签收")
        assert code_of(push(world, VOL_A, a_changeset(move))) is None


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
# Claimed, then an order cancelled and confirmed again, then the trip is done.
@example([("job", 0), ("advance", 0), ("cancel", 0), ("place", 0), ("confirm", 0)])
def test_every_confirmed_order_is_on_exactly_one_live_trip(todo: list[Step]) -> None:
    world = MemoryStore()
    seed_world(world)
    seed_round(world)
    home = unit_2_home()
    orders = [an_order(h, veg=1) for h in ORDERING]
    assert only(push(world, VOL_A, a_changeset(home, *orders))).status == "applied"
    for kind, which in todo:
        take_step(world, kind, which)
        # At every moment, not only after the job: an open trip lists only
        # orders still to carry, so nobody claims one for a cancelled order.
        for task in delivery_records(world):
            if task.fields["status"] == "open":
                listed = [stored(world, o).fields["status"] for o in task.fields["order_ids"]]
                assert listed and set(listed) == {"confirmed"}, (kind, which, listed)
    run_job(world)
    tasks = delivery_records(world)
    live = [t for t in tasks if t.fields["status"] in {"open", "claimed", "in_progress"}]
    for household in ORDERING:
        order = stored(world, order_id(ROUND, household))
        carrying = [t.id for t in live if order.id in t.fields["order_ids"]]
        if order.fields["status"] == "confirmed":
            assert len(carrying) == 1, (household, carrying)
        elif order.fields["status"] == "delivered" and order.stamps["status"].by == VOL_A.user_id:
            # Delivered by a trip (the leader's own "deliver" is by hand).
            done = [t for t in tasks if t.fields["status"] == "done"]
            assert any(order.id in t.fields["order_ids"] for t in done)
    for task in tasks:
        if task.fields["status"] == "open":
            listed = [stored(world, o).fields["status"] for o in task.fields["order_ids"]]
            assert listed and set(listed) == {"confirmed"}
    # Done again, nothing changes.
    assert deliveries(world) == []
