"""Supplies endpoints: import a WeChat 接龙 list; make a round's delivery tasks.

The import only proposes (:mod:`server.chain_list`); the leader fixes or
skips each entry in the app, which pushes the orders through sync, where the
order rules judge them like any other (stock, cut-off).

The delivery tasks are made by the server itself from the cut-off on and
kept up with late confirmations while the round is delivering
(:func:`keep_delivering`, a background task of every ``weiguang serve``
process; ``weiguang round-deliveries`` does one turn, for cron); a leader
may also ask at once. :func:`sync.supplies.delivery_tasks` decides them and
the engine writes them as a push (:func:`bring_deliveries_up`), so the
rules, the audit stamps and the live events are those of any push.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from flask import Blueprint, Flask
from flask.cli import with_appcontext

from server import database, gate_keys, live, queries
from server.auth import current_actor, current_identity, require_auth
from server.chain_list import Household, Package, read_chain_list
from server.clock import utcnow
from server.errors import ApiError
from server.extensions import db, socketio
from server.payloads import load_body
from server.schemas.supplies import CHAIN_LIST, CHAIN_LIST_REPLY, DELIVERIES_REPLY
from server.seed import SYSTEM
from server.store import SqlStore
from sync.actors import Actor, Role, UserScope
from sync.changes import Change, Changeset, ChangesetStatus, Push
from sync.protocol import PushOutcome, apply_push
from sync.records import Record
from sync.supplies import delivering, delivery_tasks, order_id
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
    changes, outcome = bring_deliveries_up(round_, on_behalf, device_id)
    if outcome is not None:
        (result,) = outcome.results
        if result.status is ChangesetStatus.REJECTED:
            fault = next(c.conflict for c in result.changes if c.conflict is not None)
            raise ApiError(409, "deliveries-refused", f"{fault.code}: {fault.detail}")
    return DELIVERIES_REPLY.dump(
        {
            "supply_round_id": round_id,
            "created": [c.id for c in changes if c.op == "create"],
            "updated": [c.id for c in changes if c.op == "update"],
            "cursor": None if outcome is None else outcome.cursor,
        }
    )


def bring_deliveries_up(
    round_: Record,
    actor: Actor,
    device_token_id: int | None = None,
    looked: list[str] | None = None,
) -> tuple[tuple[Change, ...], PushOutcome | None]:
    """Push the changes that bring ``round_``'s delivery tasks up to its confirmed orders.

    Decided once without a lock; when something is to change, decided again
    under the push lock (:meth:`SqlStore.for_writing`) and pushed in that
    transaction as ``actor`` (a coordinator: tasks are made by coordinators,
    contract "Records"), so the rules, audit stamps and live events are
    those of any push. Two processes doing it at once (the serve job of each
    process, cron, a leader) are serialised by that lock and the second
    finds the first's tasks: the task ids are derived
    (:func:`sync.supplies.delivery_task_id`), nothing is made twice.

    :param looked: gets the ids of the delivery tasks looked up, if given.
    :returns: the changes pushed (none: nothing to do) and the push's
        outcome (``None`` when nothing was pushed).
    """
    if not _delivery_changes(round_, actor.scope, looked):
        return (), None
    db.session.commit()  # end the read transaction: the lock comes first
    now = utcnow()
    store = SqlStore.for_writing(device_token_id=device_token_id, received_at=now)
    current = store.get(round_.id)
    changes = () if current is None or current.deleted else _delivery_changes(current, actor.scope)
    if not changes:
        db.session.commit()
        return (), None
    push = Push("", (Changeset("", now, changes),))
    outcome = apply_push(store, actor, push, now, signer=gate_keys.signer())
    store.flush()
    db.session.commit()
    live.announce_soon(outcome, store.started_at_version)
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


def _delivery_changes(
    round_: Record, scope: UserScope, looked: list[str] | None = None
) -> tuple[Change, ...]:
    """Read what the round's delivery tasks are made of and decide their changes.

    :param looked: gets the ids of the delivery tasks looked up, if given.
    """
    orders = queries.orders_of_round(round_.id, scope)
    compounds = round_.scope.compound_ids
    households = {r.id: r for r in queries.live_records("household", scope, compounds)}
    buildings = {r.id: r for r in queries.live_records("building", scope, compounds)}
    packages = {
        r.id: r for r in queries.records_naming("package", "supply_round_id", round_.id, scope)
    }
    store = SqlStore.for_reading()

    def existing(task_id: str) -> Record | None:
        if looked is not None:
            looked.append(task_id)
        return store.get(task_id)

    return tuple(delivery_tasks(round_, orders, households, buildings, packages, existing))


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
