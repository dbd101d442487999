"""Group buying: supply rounds and their packages (orders come with the supplies feature).

A team leader or coordinator opens a round for some compounds of their scope
and lists its packages. A package's ``stock`` is what is still available:
set when the package is made, then changed only by rules (orders take from
it, cancellations give back, restocks are records of their own), never by
an edit, so it is rule-owned.
"""

from __future__ import annotations

from sync import fields as f
from sync.actors import Role
from sync.registry import Parent, Permissions, RecordType, Visibility
from sync.scoping import compound_list, from_parent

ORGANISERS = frozenset({Role.COORDINATOR, Role.TEAM_LEADER})
#: Who places orders, so who needs the rounds and their packages.
BUYERS = frozenset({Role.COORDINATOR, Role.TEAM_LEADER, Role.VOLUNTEER})
MAX_COMPOUNDS = 200

SUPPLY_ROUND = RecordType(
    name="supply_round",
    fields={
        "compound_ids": f.ListOf(f.Ref("compound"), MAX_COMPOUNDS),
        "title": f.Nullable(f.Text(1, 200)),
        "leader_id": f.Nullable(f.UserRef()),
        "opens_at": f.DateTime(),
        "cutoff_at": f.DateTime(),
        "delivers_at": f.DateTime(),
    },
    required=frozenset({"compound_ids", "opens_at", "cutoff_at", "delivers_at"}),
    permissions=Permissions(create=ORGANISERS, update=ORGANISERS, delete=ORGANISERS),
    scope=compound_list,
    scope_fields=frozenset({"compound_ids"}),
    visibility=Visibility(roles=BUYERS),
)

ROUND = Parent("supply_round_id", "supply_round")

PACKAGE = RecordType(
    name="package",
    fields={
        "supply_round_id": f.Ref("supply_round"),
        "name": f.Text(1, 200),
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
