"""Group buying: supply rounds, their packages, orders and restocks.

A team leader or coordinator opens a round for some compounds of their scope
and lists its packages. A package's ``stock`` is what is still available:
set when the package is made, then changed only by rules, never by an edit
(it is rule-owned): an accepted order takes from it, a cancellation gives
back, a ``restock`` (an append-only record of its own) adds to it. So at
every moment ``stock == initial - taken + given back + restocked``.

An order is one household's order in one round: its id is the UUID version 5
of the household's id in the namespace of the round's id (:func:`order_id`),
so two devices ordering for the same household offline meet in the rules
instead of ordering twice. Its lifecycle::

              confirm              deliver
     placed ───────────▶ confirmed ─────────▶ delivered
       │  ▲                 │
       │  │ place again     │ cancel
       ▼  │                 ▼
     cancelled ◀────────────┘

Kind rules, run after validation (contract, Conflict rules): an order is
``round_closed`` when it is placed, changed or (by a volunteer) cancelled
outside the round's window ``[opens_at, cutoff_at]``, judged by the
changeset's ``made_at`` clamped to the receipt; ``out_of_stock`` when a
package has fewer left than the order would take. Neither is ever decided by
later-edit-wins: ``status`` is the state machine's, ``lines`` are
rule-decided and ``stock`` rule-owned.

After the cut-off the confirmed orders go out as ``delivery`` tasks, by
building unit (:func:`delivery_tasks_by_unit`), each under an id derived from the
round, the unit and its place in the unit's sequence
(:func:`delivery_task_id`). The server makes them by itself at the cut-off
and keeps them up with late confirmations, cancellations and failed trips
while the round is :func:`delivering` (``weiguang serve``'s delivery job,
``weiguang round-deliveries`` from cron, or the leader's
``POST /api/v1/supplies/rounds/{id}/deliveries``). The task names its
orders (``order_ids``); when a volunteer marks it done, with the
recipient's code or a note as proof, its confirmed orders become
``delivered`` (:func:`deliver_orders`, a task rule).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta

from sync import fields as f
from sync.actors import Role
from sync.changes import Change, Op
from sync.errors import Code, SyncError
from sync.field import live_record
from sync.machines import StateMachine, Transition
from sync.records import Record
from sync.registry import (
    ChangeContext,
    Lookup,
    Parent,
    Permissions,
    RecordType,
    Ruling,
    SideWrite,
    Visibility,
)
from sync.scoping import HOUSEHOLD, PLACE_FIELDS, compound_list, from_parent
from sync.times import parse_datetime

ORGANISERS = frozenset({Role.COORDINATOR, Role.TEAM_LEADER})
#: Who places orders, so who needs the rounds and their packages.
BUYERS = frozenset({Role.COORDINATOR, Role.TEAM_LEADER, Role.VOLUNTEER})
MAX_COMPOUNDS = 200
MAX_LINES = 30
MAX_QTY = 99
CHANNELS = ("resident", "proxy", "hotline")
STATUSES = ("placed", "confirmed", "cancelled", "delivered")
#: The states in which an order holds its packages' stock.
TAKING = frozenset({"placed", "confirmed", "delivered"})


def round_rules(ctx: ChangeContext) -> Ruling | None:
    """Refuse a round whose times are out of order: opening, then cut-off, then delivery.

    :raises SyncError: ``invalid`` naming the first time out of order.
    """
    if ctx.op is Op.DELETE:
        return None
    before = {} if ctx.current is None else dict(ctx.current.fields)
    after = {**before, **ctx.fields}
    opens, cutoff, delivers = (
        parse_datetime(after[name]) for name in ("opens_at", "cutoff_at", "delivers_at")
    )
    if cutoff <= opens:
        detail = "cutoff_at: the cut-off comes after the opening"
        raise SyncError(Code.INVALID, detail, "cutoff_at")
    if delivers < cutoff:
        detail = "delivers_at: the delivery comes after the cut-off"
        raise SyncError(Code.INVALID, detail, "delivers_at")
    return None


SUPPLY_ROUND = RecordType(
    name="supply_round",
    fields={
        "compound_ids": f.ListOf(f.Ref("compound"), MAX_COMPOUNDS),
        "title": f.Nullable(f.Text(1, 200)),
        "leader_id": f.Nullable(f.UserRef()),
        "opens_at": f.DateTime(),
        "cutoff_at": f.DateTime(),
        "delivers_at": f.DateTime(),
        # The most of each package one household may order in the round.
        "household_limit": f.Nullable(f.Integer(1, MAX_QTY)),
    },
    required=frozenset({"compound_ids", "opens_at", "cutoff_at", "delivers_at"}),
    permissions=Permissions(create=ORGANISERS, update=ORGANISERS, delete=ORGANISERS),
    scope=compound_list,
    scope_fields=frozenset({"compound_ids"}),
    kind_rules=round_rules,
    visibility=Visibility(roles=BUYERS),
)

ROUND = Parent("supply_round_id", "supply_round")

PACKAGE = RecordType(
    name="package",
    fields={
        "supply_round_id": f.Ref("supply_round"),
        "name": f.Text(1, 200),
        "contents": f.Nullable(f.Text(0, 1000, multiline=True)),
        "price_cents": f.Integer(0, 10_000_000),
        "stock": f.Integer(0, 1_000_000),
    },
    required=frozenset({"supply_round_id", "name", "price_cents", "stock"}),
    immutable=frozenset({"supply_round_id"}),
    permissions=Permissions(create=ORGANISERS, update=ORGANISERS, delete=ORGANISERS),
    scope=from_parent(ROUND),
    parent=ROUND,
    rule_owned=frozenset({"stock"}),
    visibility=Visibility(roles=BUYERS),
)

ORDER_MACHINE = StateMachine(
    field="status",
    initial=frozenset({"placed"}),
    final=frozenset({"delivered"}),
    transitions=(
        Transition("confirm", "placed", "confirmed", ORGANISERS),
        Transition("deliver", "confirmed", "delivered", BUYERS),
        Transition("cancel", "placed", "cancelled", BUYERS),
        Transition("cancel", "confirmed", "cancelled", ORGANISERS),
        Transition("place", "cancelled", "placed", BUYERS),
    ),
)


def order_id(supply_round_id: str, household_id: str) -> str:
    """Return the id of a household's order in a round (UUID version 5).

    :param supply_round_id: the round's id, the namespace.
    :param household_id: the household's id, as the name (canonical text).
    """
    return str(uuid.uuid5(uuid.UUID(supply_round_id), household_id))


def order_rules(ctx: ChangeContext) -> Ruling | None:
    """Judge an order: its identity, round, window, limits and stock.

    :returns: the fields to write (``ordered_by`` and ``confirmed_by`` filled
        by the server) and the side writes to the packages' ``stock`` and,
        for an order no longer confirmed, to the open delivery task that
        listed it (:func:`_leave_open_tasks`).
    :raises SyncError: ``invalid`` (a line naming no package of the round, a
        package twice, more than the household limit, a wrong id, a household
        outside the round), ``immutable`` (lines of an order no longer
        placed), ``round_closed``, ``out_of_stock``.
    """
    if ctx.op is Op.DELETE:
        return None
    before = {} if ctx.current is None else dict(ctx.current.fields)
    after = {**before, **ctx.fields}
    round_ = live_record(ctx, after["supply_round_id"], "supply_round", "supply_round_id")
    out = dict(ctx.fields)
    if ctx.current is None:
        _check_identity(ctx, round_, after)
        out["ordered_by"] = ctx.actor.user_id
    lines = _check_lines(ctx, round_, after["lines"])
    changes_lines = "lines" in ctx.fields and ctx.fields["lines"] != before.get("lines")
    if changes_lines and before and after.get("status") != "placed":
        raise SyncError(Code.IMMUTABLE, "lines: change only while the order is placed", "lines")
    if ctx.current is not None and not changes_lines and "status" not in ctx.fields:
        return Ruling(out)
    _check_window(ctx, round_, before.get("status"), after["status"], changes_lines)
    if after["status"] == "confirmed" and before.get("status") != "confirmed":
        out["confirmed_by"] = ctx.actor.user_id
    held = _quantities(before.get("lines")) if before.get("status") in TAKING else Counter()
    wanted = _quantities(lines) if after["status"] in TAKING else Counter()
    writes = _take(ctx, held, wanted)
    if before.get("status") == "confirmed" and after["status"] != "confirmed":
        writes += _leave_open_tasks(ctx, round_, after)
    return Ruling(out, writes)


def _check_identity(ctx: ChangeContext, round_: Record, after: Mapping[str, object]) -> None:
    """Refuse a new order under another id than its household's, or outside the round."""
    household = live_record(ctx, after["household_id"], "household", "household_id")
    if ctx.record_id != order_id(round_.id, household.id):
        raise SyncError(Code.INVALID, "id: an order's id is its household's in the round")
    compounds = round_.fields["compound_ids"]
    assert isinstance(compounds, list)
    if household.fields["compound_id"] not in compounds:
        raise SyncError(Code.INVALID, "household_id: not in the round's compounds", "household_id")


def _check_lines(ctx: ChangeContext, round_: Record, lines: object) -> list[Mapping[str, object]]:
    """Check that the lines name distinct packages of the round within the limit."""
    assert isinstance(lines, list)
    if not lines:
        raise SyncError(Code.INVALID, "lines: an order needs at least one package", "lines")
    limit = round_.fields.get("household_limit")
    seen: set[object] = set()
    for line in lines:
        package = live_record(ctx, line["package_id"], "package", "lines")
        if package.fields["supply_round_id"] != round_.id:
            raise SyncError(Code.INVALID, "lines: a package of another round", "lines")
        if package.id in seen:
            raise SyncError(Code.INVALID, "lines: a package named twice", "lines")
        seen.add(package.id)
        if isinstance(limit, int) and line["qty"] > limit:
            name = package.fields["name"]
            detail = f"lines: at most {limit} of {name} per household in this round"
            raise SyncError(Code.INVALID, detail, "lines")
    return lines


def _check_window(
    ctx: ChangeContext,
    round_: Record,
    status_before: object,
    status_after: object,
    changes_lines: bool,
) -> None:
    """Refuse, ``round_closed``, placing, changing or cancelling outside the window.

    Confirming and delivering go on after the cut-off; organisers may also
    cancel then (the goods did not come), volunteers may not.
    """
    placing = status_after == "placed" and (status_before != "placed" or changes_lines)
    cancelling = status_after == "cancelled" and status_before != "cancelled"
    if not placing and not (cancelling and ctx.actor.role not in ORGANISERS):
        return
    opens = parse_datetime(round_.fields["opens_at"])
    cutoff = parse_datetime(round_.fields["cutoff_at"])
    if ctx.made_at > cutoff:
        raise SyncError(Code.ROUND_CLOSED, f"the round closed at {round_.fields['cutoff_at']}")
    if placing and ctx.made_at < opens:
        raise SyncError(Code.ROUND_CLOSED, f"the round opens at {round_.fields['opens_at']}")


def _quantities(lines: object) -> Counter[str]:
    """Return package id → quantity of ``lines``."""
    counts: Counter[str] = Counter()
    for line in lines if isinstance(lines, list) else []:
        counts[str(line["package_id"])] += int(line["qty"])
    return counts


def _take(ctx: ChangeContext, held: Counter[str], wanted: Counter[str]) -> tuple[SideWrite, ...]:
    """Return the stock writes moving from ``held`` to ``wanted``; ``out_of_stock`` if short."""
    writes = []
    for package_id in sorted(held.keys() | wanted.keys()):
        delta = wanted[package_id] - held[package_id]
        if delta == 0:
            continue
        package = live_record(ctx, package_id, "package", "lines")
        stock = package.fields["stock"]
        assert isinstance(stock, int)
        if delta > stock:
            name = package.fields["name"]
            raise SyncError(Code.OUT_OF_STOCK, f"only {stock} of {name} left", "lines")
        writes.append(SideWrite(package_id, {"stock": stock - delta}))
    return tuple(writes)


LINE = f.Object({"package_id": f.Uuid(), "qty": f.Integer(1, MAX_QTY)})

ORDER = RecordType(
    name="order",
    fields={
        "supply_round_id": f.Ref("supply_round"),
        "household_id": f.Ref("household"),
        **PLACE_FIELDS,
        "lines": f.ListOf(LINE, MAX_LINES),
        "channel": f.Enum(CHANNELS),
        "status": f.Enum(STATUSES),
        "ordered_by": f.Nullable(f.UserRef()),
        "confirmed_by": f.Nullable(f.UserRef()),
        "phoned": f.Boolean(),
        "notes": f.Nullable(f.Text(0, 500, multiline=True)),
    },
    required=frozenset({"supply_round_id", "household_id", "lines", "channel", "status"}),
    defaults={"status": "placed", "phoned": False},
    immutable=frozenset({"supply_round_id", "household_id"}),
    permissions=Permissions(create=BUYERS, update=BUYERS),
    scope=from_parent(HOUSEHOLD),
    parent=HOUSEHOLD,
    state_machine=ORDER_MACHINE,
    rule_owned=frozenset({"ordered_by", "confirmed_by"}),
    personal=frozenset({"notes"}),
    rule_decided=frozenset({"lines"}),
    kind_rules=order_rules,
    visibility=Visibility(roles=BUYERS),
)


def restock_rules(ctx: ChangeContext) -> Ruling | None:
    """Add a restock's quantity to its package's stock."""
    package = live_record(ctx, ctx.fields["package_id"], "package", "package_id")
    stock = package.fields["stock"]
    qty = ctx.fields["qty"]
    assert isinstance(stock, int) and isinstance(qty, int)
    return Ruling(ctx.fields, (SideWrite(package.id, {"stock": stock + qty}),))


RESTOCK = RecordType(
    name="restock",
    fields={
        "package_id": f.Ref("package"),
        "qty": f.Integer(1, 1_000_000),
        "notes": f.Nullable(f.Text(0, 500, multiline=True)),
    },
    required=frozenset({"package_id", "qty"}),
    append_only=True,
    permissions=Permissions(create=ORGANISERS),
    scope=from_parent(Parent("package_id", "package")),
    kind_rules=restock_rules,
    personal=frozenset({"notes"}),  # free text written in a lockdown may name people
    visibility=Visibility(roles=ORGANISERS),
)


# -- delivery: tasks per building unit, made from the confirmed orders --------

#: How many orders one delivery task carries at most (a unit's households).
MAX_TASK_ORDERS = 500
#: How long after a round's delivery time its delivery tasks are still kept
#: up with its confirmed orders (:func:`delivering`): late confirmations,
#: failed trips.
DELIVERING_AFTER = timedelta(days=1)
#: Task states whose orders are with a volunteer: they are not given to
#: another task. An order still confirmed after its trip is done (it was
#: cancelled and confirmed again meanwhile), failed, or cancelled or deleted
#: by a coordinator is still to be carried, so it goes to another task.
_ON_THE_WAY = frozenset({"claimed", "in_progress"})


#: A building unit (stairwell): its building's id and its name.
Unit = tuple[str, str]


def delivering(round_: Record, now: datetime) -> bool:
    """Tell whether the round's delivery tasks are kept up at ``now``.

    From the cut-off, when the orders are counted, until
    :data:`DELIVERING_AFTER` past the delivery time.
    """
    cutoff = parse_datetime(round_.fields["cutoff_at"])
    return cutoff <= now <= parse_datetime(round_.fields["delivers_at"]) + DELIVERING_AFTER


def delivery_task_id(supply_round_id: str, building_id: str, unit: str, n: int = 0) -> str:
    """Return the id of a round's ``n``-th delivery task for one unit (UUID version 5).

    :param supply_round_id: the round's id, the namespace.
    :param building_id: the building's id; ``unit`` its unit (stairwell).
    :param n: 0 for the unit's first task, 1, 2 … for the follow-ups made
        for orders confirmed (or trips failed) after it was claimed.
    """
    name = f"delivery/{building_id}/{unit}" + (f"/{n}" if n else "")
    return str(uuid.uuid5(uuid.UUID(supply_round_id), name))


def delivery_tasks_by_unit(
    round_: Record,
    orders: Iterable[Record],
    households: Mapping[str, Record],
    buildings: Mapping[str, Record],
    packages: Mapping[str, Record],
    existing: Lookup,
    units: Collection[Unit] | None = None,
) -> dict[Unit, list[Change]]:
    """Return, per building unit, the changes that bring its delivery tasks up to its orders.

    Each building unit has a sequence of tasks (:func:`delivery_task_id`,
    ``n`` = 0, 1 …). A confirmed order is *pending* unless a task of its
    unit that is claimed or started lists it. The unit's first
    ``open`` task carries exactly its pending orders (an order confirmed
    late joins it, a cancelled one leaves it); when none is open and some
    are pending, the next task of the sequence is created for them (so an
    order confirmed after its unit's task was claimed, or whose trip failed
    or was cancelled, still reaches a task). An open task left with nothing
    to carry, or a second open one, is cancelled. Tasks no longer open are
    never changed. The same inputs give the same changes, so concurrent
    runs (serialised by the push lock) agree.

    :param orders: the round's orders (any status; only ``confirmed`` are carried).
    :param households: household id → record, for the ordering households
        (an order whose household is unknown is left out: it has no unit).
    :param buildings: building id → record; ``packages``: id → record.
    :param existing: finds a delivery task already stored by its id; only
        the tasks of the units decided are looked up.
    :param units: decide only these units (``None``: every unit with orders),
        so a long list can be pushed a few units at a time.
    :returns: (building id, unit) → the creates and updates of its ``task``
        records, for the units with something to change, sorted by unit.
    """
    by_unit: dict[Unit, list[Record]] = defaultdict(list)
    for order in orders:
        home = households.get(str(order.fields["household_id"]))
        # A household removed since it ordered has no unit to deliver to: its
        # order stays confirmed, in the orders list and the picking list.
        if home is not None:
            key = (str(home.fields["building_id"]), str(home.fields["unit"]))
            if units is None or key in units:
                by_unit[key].append(order)
    decided: dict[Unit, list[Change]] = {}
    for (building_id, unit), unit_orders in sorted(by_unit.items()):
        changes: list[Change] = []
        tasks = _unit_tasks(round_.id, building_id, unit, existing)
        on_the_way = {
            str(order_id_)
            for task in tasks
            if not task.deleted and task.fields.get("status") in _ON_THE_WAY
            for order_id_ in _listed(task)
        }
        confirmed = (o for o in unit_orders if o.fields.get("status") == "confirmed")
        pending = [o for o in confirmed if o.id not in on_the_way]
        pending.sort(key=lambda o: str(households[str(o.fields["household_id"])].fields["room"]))
        carrier: str | None = None
        for task in tasks:
            if task.deleted or task.fields.get("status") != "open":
                continue
            if pending and carrier is None:
                carrier = task.id
                wanted = _delivery_fields(
                    round_, pending, households, buildings[building_id], unit, packages
                )
                update = {k: v for k, v in wanted.items() if task.fields.get(k) != v}
            else:
                update = {"status": "cancelled"}
            if update:
                changes.append(Change("task", task.id, "update", task.version, update))
        if pending and carrier is None:
            task_id = delivery_task_id(round_.id, building_id, unit, len(tasks))
            wanted = _delivery_fields(
                round_, pending, households, buildings[building_id], unit, packages
            )
            changes.append(Change("task", task_id, "create", 0, wanted))
        if changes:
            decided[(building_id, unit)] = changes
    return decided


def _unit_tasks(round_id: str, building_id: str, unit: str, existing: Lookup) -> list[Record]:
    """Return the unit's delivery tasks stored so far, in their sequence (deleted ones too)."""
    tasks: list[Record] = []
    while True:
        task = existing(delivery_task_id(round_id, building_id, unit, len(tasks)))
        if task is None:
            return tasks
        tasks.append(task)


def _listed(task: Record) -> list[object]:
    """Return the order ids a delivery task lists."""
    order_ids = task.fields.get("order_ids")
    return order_ids if isinstance(order_ids, list) else []


def _delivery_fields(
    round_: Record,
    orders: list[Record],
    households: Mapping[str, Record],
    building: Record,
    unit: str,
    packages: Mapping[str, Record],
) -> dict[str, object]:
    """Return a unit's delivery task: the rooms and what to carry to each, no names."""
    notes = []
    for order in orders:
        lines = order.fields["lines"]
        assert isinstance(lines, list)
        items = "、".join(
            f"{_name(packages.get(str(line['package_id'])))}×{line['qty']}" for line in lines
        )
        notes.append(f"{households[str(order.fields['household_id'])].fields['room']}室：{items}")
    return {
        "kind": "delivery",
        "title": f"团购送货：{building.fields['name']} {unit}单元（{len(orders)} 户）",
        "status": "open",
        "compound_id": building.fields["compound_id"],
        "building_id": building.id,
        "priority": 2,
        "due_at": round_.fields["delivers_at"],
        "notes": "\n".join(notes),
        "order_ids": [order.id for order in orders],
    }


def _name(package: Record | None) -> object:
    """Return a package's name, or "?" for one no longer known."""
    return "?" if package is None else package.fields["name"]


def _leave_open_tasks(
    ctx: ChangeContext, round_: Record, order: Mapping[str, object]
) -> tuple[SideWrite, ...]:
    """Return the writes taking an order no longer confirmed off its unit's open tasks.

    In the same changeset as the order's move, so that no volunteer claims
    a trip for a cancelled order before the delivery job's next turn: the
    open task carries its other orders still confirmed, with the fields
    :func:`delivery_tasks_by_unit` gives them, or is cancelled when none is
    left. A task already claimed or started is the volunteer's and is left
    as it is (its ``done`` delivers only the orders still confirmed).
    """
    home = ctx.lookup(str(order["household_id"]))
    building = None if home is None else ctx.lookup(str(home.fields["building_id"]))
    if home is None or building is None:
        return ()
    unit = str(home.fields["unit"])
    writes = []
    for task in _unit_tasks(round_.id, building.id, unit, ctx.lookup):
        listed = _listed(task)
        if task.deleted or task.fields.get("status") != "open" or ctx.record_id not in listed:
            continue
        kept: list[Record] = []
        found: dict[str, Record] = {}  # the kept orders' households and packages, by id
        for each in listed:
            other = ctx.lookup(str(each)) if each != ctx.record_id else None
            if other is None or other.fields.get("status") != "confirmed":
                continue
            for record_id in (other.fields["household_id"], *_package_ids(other)):
                record = ctx.lookup(str(record_id))
                if record is not None:
                    found[record.id] = record
            if str(other.fields["household_id"]) in found:
                kept.append(other)
        if kept:
            fields = _delivery_fields(round_, kept, found, building, unit, found)
        else:
            fields = {"status": "cancelled"}
        writes.append(SideWrite(task.id, fields))
    return tuple(writes)


def _package_ids(order: Record) -> list[object]:
    """Return the package ids an order's lines name."""
    lines = order.fields["lines"]
    assert isinstance(lines, list)
    return [line["package_id"] for line in lines]


def deliver_orders(ctx: ChangeContext) -> Ruling | None:
    """Mark a delivery task's confirmed orders ``delivered`` when the task is done.

    A task rule: the volunteer's ``done`` (with the recipient's code or a
    note in ``proof``) is what shows the goods arrived; orders no longer
    confirmed (cancelled) stay as they are.
    """
    if ctx.op is Op.DELETE or ctx.current is None:
        return None
    if ctx.fields.get("status") != "done" or ctx.current.fields.get("status") == "done":
        return None
    writes = []
    for order_id_ in _listed(ctx.current):
        order = ctx.lookup(str(order_id_))
        if order is not None and not order.deleted and order.fields.get("status") == "confirmed":
            writes.append(SideWrite(order.id, {"status": "delivered"}))
    return Ruling(ctx.fields, tuple(writes))
