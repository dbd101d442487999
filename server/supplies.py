"""Supplies endpoints: import a WeChat 接龙 list; make a round's delivery tasks.

The import only proposes (:mod:`server.chain_list`); the leader fixes or
skips each entry in the app, which pushes the orders through sync, where the
order rules judge them like any other (stock, cut-off).

The delivery tasks are made when the leader asks, after the cut-off (the
moment the goods are counted; a timer would need a scheduler the embedded
server does not run): :func:`sync.supplies.delivery_tasks` decides them and
the engine writes them as a push on the leader's behalf, judged as a
coordinator of the leader's own scope (tasks are made by coordinators,
contract "Records"), so the rules, the audit stamps and the live events are
those of any push.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from server import live, queries, scopes
from server.auth import require_auth
from server.chain_list import Household, Package, read_chain_list
from server.clock import utcnow
from server.errors import ApiError
from server.payloads import load_body
from server.schemas.supplies import CHAIN_LIST, CHAIN_LIST_REPLY, DELIVERIES_REPLY
from server.store import SqlStore
from server.sync_api import apply_and_commit
from sync.actors import Actor, Role
from sync.changes import Change, Changeset, ChangesetStatus, Push
from sync.records import Record
from sync.supplies import delivery_tasks, order_id
from sync.times import parse_datetime

bp = Blueprint("supplies", __name__, url_prefix="/api/v1/supplies")


@bp.post("/rounds/<round_id>/chain_list")
@require_auth(Role.TEAM_LEADER, Role.COORDINATOR)
def chain_list(round_id: str) -> Any:
    """Read a pasted chain list against the round's households and packages."""
    text = load_body(CHAIN_LIST)["text"]
    actor = scopes.actor_for(g.user)
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
    """Make or bring up to date the round's delivery tasks, one per unit (after the cut-off)."""
    actor = scopes.actor_for(g.user)
    round_ = _round_in_scope(round_id, actor)
    if utcnow() < parse_datetime(round_.fields["cutoff_at"]):
        detail = f"The round takes orders until {round_.fields['cutoff_at']}."
        raise ApiError(409, "round-open", detail)
    changes = _delivery_changes(round_, actor)
    cursor = None
    if changes:
        on_behalf = Actor(actor.user_id, Role.COORDINATOR, actor.scope)
        push = Push("", (Changeset("", utcnow(), changes),))
        outcome, prev = apply_and_commit(push, on_behalf)
        live.announce_soon(outcome, prev)
        (result,) = outcome.results
        if result.status is ChangesetStatus.REJECTED:
            fault = next(c.conflict for c in result.changes if c.conflict is not None)
            raise ApiError(409, "deliveries-refused", f"{fault.code}: {fault.detail}")
        cursor = outcome.cursor
    return DELIVERIES_REPLY.dump(
        {
            "supply_round_id": round_id,
            "created": [c.id for c in changes if c.op == "create"],
            "updated": [c.id for c in changes if c.op == "update"],
            "cursor": cursor,
        }
    )


def _round_in_scope(round_id: str, actor: Actor) -> Record:
    """Return the live supply round ``round_id`` in ``actor``'s scope, else 404."""
    round_ = SqlStore.for_reading().get(round_id)
    if round_ is None or round_.deleted or round_.type != "supply_round":
        raise ApiError(404, "not-found", "No such supply round.")
    if not actor.sees(round_.scope):
        raise ApiError(404, "not-found", "No such supply round.")
    return round_


def _delivery_changes(round_: Record, actor: Actor) -> tuple[Change, ...]:
    """Read what the round's delivery tasks are made of and decide their changes."""
    orders = queries.orders_of_round(round_.id, actor.scope)
    compounds = round_.scope.compound_ids
    households = {r.id: r for r in queries.live_records("household", actor.scope, compounds)}
    buildings = {r.id: r for r in queries.live_records("building", actor.scope, compounds)}
    packages = {
        r.id: r
        for r in queries.records_naming("package", "supply_round_id", round_.id, actor.scope)
    }
    existing = SqlStore.for_reading().get
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
