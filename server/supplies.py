"""Supplies endpoints: import a WeChat 接龙 list into proposed orders.

The import only proposes (:mod:`server.chain_list`); the leader fixes or
skips each entry in the app, which pushes the orders through sync, where the
order rules judge them like any other (stock, cut-off).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from server import queries, scopes
from server.auth import require_auth
from server.chain_list import Household, Package, read_chain_list
from server.errors import ApiError
from server.payloads import load_body
from server.schemas.supplies import CHAIN_LIST, CHAIN_LIST_REPLY
from server.store import SqlStore
from sync.actors import Role
from sync.records import Record
from sync.supplies import order_id

bp = Blueprint("supplies", __name__, url_prefix="/api/v1/supplies")


@bp.post("/rounds/<round_id>/chain_list")
@require_auth(Role.TEAM_LEADER, Role.COORDINATOR)
def chain_list(round_id: str) -> Any:
    """Read a pasted chain list against the round's households and packages."""
    text = load_body(CHAIN_LIST)["text"]
    actor = scopes.actor_for(g.user)
    round_ = SqlStore.for_reading().get(round_id)
    if round_ is None or round_.deleted or round_.type != "supply_round":
        raise ApiError(404, "not-found", "No such supply round.")
    if not actor.sees(round_.scope):
        raise ApiError(404, "not-found", "No such supply round.")
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
