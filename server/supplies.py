"""Supplies endpoints: import a WeChat 接龙 list; make a round's delivery tasks.

The import only proposes (:mod:`server.chain_list`); the leader fixes or
skips each entry in the app, which pushes the orders through sync, where the
order rules judge them like any other (stock, cut-off).

The delivery tasks are made by the server itself from the cut-off on and
kept up with late confirmations while the round is delivering
(:func:`keep_delivering`, a background task of every ``weiguang serve``
process; ``weiguang round-deliveries`` does one turn, for cron); a leader
may also ask at once. :func:`sync.supplies.delivery_tasks_by_unit` decides them and
the engine writes them as pushes of a few units each, outside the lock in
between (:func:`bring_deliveries_up`), so the rules, the audit stamps and
the live events are those of any push.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from flask import Blueprint, Flask
from flask.cli import with_appcontext
from sqlalchemy import text

from server import database, gate_keys, live, queries
from server.auth import current_actor, current_identity, require_auth
from server.chain_list import Household, Package, read_chain_list
from server.clock import utcnow
from server.errors import ApiError
from server.extensions import db, socketio
from server.payloads import load_body
from server.schemas.supplies import CHAIN_LIST, CHAIN_LIST_REPLY, DELIVERIES_REPLY
from server.seed import SYSTEM
from server.store import SqlStore, rerun_races
from sync.actors import Actor, Role, UserScope
from sync.changes import Change, Changeset, ChangesetStatus, Push
from sync.protocol import PushOutcome, apply_push
from sync.records import Record
from sync.supplies import Unit, delivering, delivery_tasks_by_unit, order_id
from sync.times import parse_datetime

bp = Blueprint("supplies", __name__, url_prefix="/api/v1/supplies")


@bp.post("/rounds/<round_id>/chain_list")
@require_auth(Role.TEAM_LEADER, Role.COORDINATOR)
def chain_list(round_id: str) -> Any:
    """Read a pasted chain list against the round's households and packages."""
    text = load_body(CHAIN_LIST)["text"]
    actor = current_actor()
    round_ = _round_in_scope(round_id, actor)
    compounds = round_.scope.compound_ids
    buildings = {b.id: b for b in queries.live_records("building", actor.scope, compounds)}
    homes = [
        _household(record, buildings)
        for record in queries.live_records("household", actor.scope, compounds)
        if record.fields.get("building_id") in buildings
    ]
    packages = [
        Package(record.id, str(record.fields["name"]))
        for record in queries.records_naming("package", "supply_round_id", round_id, actor.scope)
    ]
    entries = read_chain_list(text, homes, packages)
    labels = {home.id: home.label for home in homes}
    named = {e.household_id for e in entries} | {c for e in entries for c in e.candidates}
    return CHAIN_LIST_REPLY.dump(
        {
            "supply_round_id": round_id,
            "entries": [
                entry.to_json()
                | {
                    "order_id": order_id(round_id, entry.household_id)
                    if entry.household_id
                    else None
                }
                for entry in entries
            ],
            "households": {hid: labels[hid] for hid in named if hid is not None},
        }
    )


@bp.post("/rounds/<round_id>/deliveries")
@require_auth(Role.TEAM_LEADER, Role.COORDINATOR)
def deliveries(round_id: str) -> Any:
    """Make or bring up to date the round's delivery tasks now (after the cut-off).

    The server does it by itself (:func:`keep_delivering`); the leader may
    not want to wait for its next turn.
    """
    actor = current_actor()
    round_ = _round_in_scope(round_id, actor)
    if utcnow() < parse_datetime(round_.fields["cutoff_at"]):
        detail = f"The round takes orders until {round_.fields['cutoff_at']}."
        raise ApiError(409, "round-open", detail)
    on_behalf = Actor(actor.user_id, Role.COORDINATOR, actor.scope)
    device_id = current_identity().device_id
    changes, outcomes = bring_deliveries_up(round_, on_behalf, device_id)
    for outcome in outcomes:
        (result,) = outcome.results
        if result.status is ChangesetStatus.REJECTED:
            fault = next(c.conflict for c in result.changes if c.conflict is not None)
            raise ApiError(409, "deliveries-refused", f"{fault.code}: {fault.detail}")
    return DELIVERIES_REPLY.dump(
        {
            "supply_round_id": round_id,
            "created": [c.id for c in changes if c.op == "create"],
            "updated": [c.id for c in changes if c.op == "update"],
            "cursor": outcomes[-1].cursor if outcomes else None,
        }
    )


#: How many building units' delivery tasks one push carries at most (about
#: as many tasks): each batch is its own short transaction under the push
#: lock, so volunteers' pushes at the cut-off wait for one batch, not for
#: the whole round (issue 12).
BATCH_UNITS = 50


@dataclass(frozen=True, slots=True)
class RoundGoods:
    """What a round's delivery tasks are made of, read once without a lock."""

    orders: list[Record]
    households: dict[str, Record]
    buildings: dict[str, Record]
    packages: dict[str, Record]


def bring_deliveries_up(
    round_: Record,
    actor: Actor,
    device_token_id: int | None = None,
    looked: list[str] | None = None,
) -> tuple[tuple[Change, ...], list[PushOutcome]]:
    """Push the changes that bring ``round_``'s delivery tasks up to its confirmed orders.

    Decided without a lock (:func:`sync.supplies.delivery_tasks_by_unit`),
    then pushed :data:`BATCH_UNITS` units at a time, each batch its own
    transaction: under the push lock (:meth:`SqlStore.for_writing`) only
    the batch's units are decided again, from their orders and tasks as
    stored now, and pushed as ``actor`` (a coordinator: tasks
    are made by coordinators, contract "Records"), so the rules, audit
    stamps and live events are those of any push. Between batches the lock
    is free. Two processes doing it at once (the serve job of each process,
    cron, a leader) are serialised batch by batch and the second finds the
    first's tasks: the task ids are derived
    (:func:`sync.supplies.delivery_task_id`), nothing is made twice. An
    order first written while this runs is caught up by the next turn.

    :param looked: gets the ids of the delivery tasks looked up, if given.
    :returns: the changes pushed (none: nothing to do) and each batch's
        push outcome (empty when nothing was pushed).
    """
    goods = _round_goods(round_, actor.scope)
    reading = SqlStore.for_reading()

    def existing(task_id: str) -> Record | None:
        if looked is not None:
            looked.append(task_id)
        return reading.get(task_id)

    units = list(delivery_tasks_by_unit(round_, *_goods_args(goods), existing))
    db.session.commit()  # end the read transaction: no lock while deciding
    pushed: list[Change] = []
    outcomes: list[PushOutcome] = []
    for start in range(0, len(units), BATCH_UNITS):
        batch = frozenset(units[start : start + BATCH_UNITS])
        changes, outcome = _push_units(round_.id, goods, batch, actor, device_token_id)
        if outcome is not None:
            pushed.extend(changes)
            outcomes.append(outcome)
    return tuple(pushed), outcomes


def _push_units(
    round_id: str,
    goods: RoundGoods,
    units: frozenset[Unit],
    actor: Actor,
    device_token_id: int | None,
) -> tuple[tuple[Change, ...], PushOutcome | None]:
    """Decide ``units``' delivery tasks again under the push lock and push them; commit.

    The units' orders are read again under the lock: one cancelled since
    the turn read them has already left its open task (the order's rule,
    :func:`sync.supplies.order_rules`) and must not be put back on it.
    """
    now = utcnow()

    def run() -> tuple[tuple[Change, ...], PushOutcome | None, int]:
        store = SqlStore.for_writing(device_token_id=device_token_id, received_at=now)
        current = store.get(round_id)
        changes: tuple[Change, ...] = ()
        if current is not None and not current.deleted:
            orders = _orders_now(store, goods, units)
            goods_args = (goods.households, goods.buildings, goods.packages)
            by_unit = delivery_tasks_by_unit(current, orders, *goods_args, store.get, units)
            changes = tuple(change for unit in by_unit.values() for change in unit)
        if not changes:
            db.session.commit()
            return (), None, 0
        push = Push("", (Changeset("", now, changes),))
        outcome = apply_push(store, actor, push, now, signer=gate_keys.signer())
        store.flush()
        db.session.commit()
        return changes, outcome, store.started_at_version

    changes, outcome, prev = rerun_races(run)
    if outcome is not None:
        live.announce_soon(outcome, prev)
    return changes, outcome


@dataclass(frozen=True, slots=True)
class Settled:
    """A round's last job turn that found nothing to do: the task ids it looked up, and
    the marks (:func:`server.queries.delivery_marks`) taken before it (``None``: not yet)."""

    task_ids: tuple[str, ...]
    marks: tuple[object, ...] | None


#: Per process: (database, round id) → its last turn with nothing to do. A
#: round whose marks have not moved since is skipped: the job's turn then
#: costs three indexed queries instead of reading its orders and households.
_SETTLED: dict[tuple[str, str], Settled] = {}


def make_due_deliveries(now: datetime) -> int:
    """Bring up the delivery tasks of every round :func:`~sync.supplies.delivering` at ``now``.

    Pushed as the server (:data:`server.seed.SYSTEM`). A round whose orders,
    given-back tasks and own record have not moved since this process last
    found nothing to do is skipped (:class:`Settled`; a household moved or a
    package renamed since is not noticed until one of those moves).

    :returns: how many tasks were created or updated.
    """
    with _one_turn_at_a_time() as ours:
        return _due_deliveries(now) if ours else 0


#: The PostgreSQL advisory lock keys of the delivery job's turn, in the
#: two-int form (``'WG'``, 2): a bigint-form advisory lock is a push's claim
#: (``docs/sync.md``, "Parallel pushes on PostgreSQL").
_TURN_LOCK = {"space": 22343, "key": 2}


@contextmanager
def _one_turn_at_a_time() -> Iterator[bool]:
    """Yield whether this process may run a job turn now.

    On PostgreSQL one process at a time: ``pg_try_advisory_lock`` on a
    connection of its own, held for the turn; the others skip theirs (the
    one running does the same work). On SQLite always: turns are serialised
    batch by batch by the push lock (on PostgreSQL by the locks of the rows
    a batch reads), which is enough for correctness.
    """
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    with db.engine.connect() as connection:
        ours = bool(
            connection.scalar(text("SELECT pg_try_advisory_lock(:space, :key)"), _TURN_LOCK)
        )
        connection.commit()  # the lock is the session's: no transaction left open
        try:
            yield ours
        finally:
            if ours:
                connection.execute(text("SELECT pg_advisory_unlock(:space, :key)"), _TURN_LOCK)
                connection.commit()


def _due_deliveries(now: datetime) -> int:
    """Do :func:`make_due_deliveries`' turn."""
    made = 0
    database_url = str(db.engine.url)
    for round_ in queries.every_live("supply_round"):
        key = (database_url, round_.id)
        if not delivering(round_, now):
            _SETTLED.pop(key, None)
            continue
        settled = _SETTLED.get(key)
        marks = queries.delivery_marks(round_.id, settled.task_ids if settled else ())
        if settled is not None and settled.marks == marks:
            continue
        looked: list[str] = []
        changes, _ = bring_deliveries_up(round_, SYSTEM, looked=looked)
        made += len(changes)
        if changes:
            _SETTLED.pop(key, None)
        else:
            ids = tuple(sorted(set(looked)))
            same = settled is not None and settled.task_ids == ids
            _SETTLED[key] = Settled(ids, marks if same else None)
    return made


def keep_delivering(app: Flask) -> None:
    """Run :func:`make_due_deliveries` every ``DELIVERY_JOB_SECONDS`` while the process serves.

    Every ``weiguang serve`` process runs it; :func:`bring_deliveries_up`
    makes that safe.
    """
    seconds = float(app.config["WEIGUANG"]["DELIVERY_JOB_SECONDS"])
    while True:
        with app.app_context():
            try:
                make_due_deliveries(utcnow())
            except Exception:  # a database hiccup must not end the job
                db.session.rollback()
                app.logger.exception("delivery task job failed")
            finally:
                db.session.remove()
        socketio.sleep(seconds)


@click.command("round-deliveries")
@with_appcontext
def round_deliveries_command() -> None:
    """Make and bring up the delivery tasks of the rounds past their cut-off (idempotent).

    ``weiguang serve`` does it by itself every ``DELIVERY_JOB_SECONDS``;
    this is the same step for cron, or a deployment without a serving process.
    """
    database.upgrade_schema()
    made = make_due_deliveries(utcnow())
    click.echo(f"Created or updated {made} delivery tasks.")


def _round_in_scope(round_id: str, actor: Actor) -> Record:
    """Return the live supply round ``round_id`` in ``actor``'s scope, else 404."""
    round_ = SqlStore.for_reading().get(round_id)
    if round_ is None or round_.deleted or round_.type != "supply_round":
        raise ApiError(404, "not-found", "No such supply round.")
    if not actor.sees(round_.scope):
        raise ApiError(404, "not-found", "No such supply round.")
    return round_


def _round_goods(round_: Record, scope: UserScope) -> RoundGoods:
    """Read the round's orders, its compounds' households and buildings, and its packages."""
    compounds = round_.scope.compound_ids
    return RoundGoods(
        list(queries.orders_of_round(round_.id, scope)),
        {r.id: r for r in queries.live_records("household", scope, compounds)},
        {r.id: r for r in queries.live_records("building", scope, compounds)},
        {r.id: r for r in queries.records_naming("package", "supply_round_id", round_.id, scope)},
    )


def _goods_args(
    goods: RoundGoods,
) -> tuple[list[Record], dict[str, Record], dict[str, Record], dict[str, Record]]:
    """Return ``goods`` as :func:`sync.supplies.delivery_tasks_by_unit` takes them."""
    return goods.orders, goods.households, goods.buildings, goods.packages


def _orders_now(store: SqlStore, goods: RoundGoods, units: frozenset[Unit]) -> list[Record]:
    """Return the orders of ``units`` as stored now (one read by primary keys)."""
    ids = []
    for order in goods.orders:
        home = goods.households.get(str(order.fields["household_id"]))
        unit = (
            None if home is None else (str(home.fields["building_id"]), str(home.fields["unit"]))
        )
        if unit in units:
            ids.append(order.id)
    now = store.get_many(ids)
    return [now[order_id_] for order_id_ in ids if order_id_ in now]


def _household(record: Record, buildings: dict[str, Record]) -> Household:
    """Return a household record with its address parts, for matching."""
    fields = record.fields
    building = buildings[str(fields["building_id"])]
    name, unit, room = building.fields["name"], fields["unit"], fields["room"]
    return Household(
        record.id,
        int(str(building.fields["number"])),
        str(unit),
        int(str(fields["floor"])),
        str(room),
        f"{name} {unit}单元 {room}室",
    )
