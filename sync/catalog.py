"""The record types of the neighbourhood model, and :data:`REGISTRY`.

Feature modules with rules of their own (``tasks``; later supplies, gate,
screening) declare their type next to those rules; this module declares the
plain ones and gathers them all. See ``docs/sync.md`` for the permission
table this encodes.
"""

from __future__ import annotations

from sync import fields as f
from sync.actors import Role
from sync.conflicts import CONFLICT
from sync.field import CARERS, COORDINATOR, FIELD_WORKERS
from sync.gate import (
    GATE_ALERT,
    GATE_EVENT,
    GATE_PASS,
    GATE_POLICY,
    MAX_PASS_KEYS,
    PASS_KEY,
    VISITOR,
    compound_rules,
)
from sync.medicine import MED_REQUEST
from sync.notices import NOTICE
from sync.registry import Permissions, RecordType, Registry, Visibility
from sync.scoping import (
    HOUSEHOLD,
    PLACE_FIELDS,
    building_itself,
    compound_field,
    from_parent,
    own_compound,
)
from sync.screening import VISIT
from sync.supplies import ORDER, PACKAGE, RESTOCK, SUPPLY_ROUND
from sync.tasks import TASK
from sync.testing import TEST_RESULT, TEST_ROUND
from sync.volunteers import SHIFT, VOLUNTEER

TIERS = ("sealed", "controlled", "precaution")
NEEDS = ("elderly_alone", "pregnant", "chronic_medicine", "disability", "language", "other")

EVERYONE = Visibility(roles=frozenset(Role))


COMPOUND = RecordType(
    name="compound",
    fields={
        "name": f.Text(1, 200),
        "neighbourhood_id": f.Text(1, 64),
        "tier": f.Enum(TIERS),
        "address": f.Nullable(f.Text(0, 500)),
        "pass_keys": f.ListOf(PASS_KEY, MAX_PASS_KEYS),
    },
    required=frozenset({"name", "neighbourhood_id", "tier"}),
    defaults={"pass_keys": []},
    immutable=frozenset({"neighbourhood_id"}),
    permissions=Permissions(create=COORDINATOR, update=COORDINATOR, delete=COORDINATOR),
    scope=own_compound,
    # Contract, "Gate passes": public keys, made by the server when it signs.
    rule_owned=frozenset({"pass_keys"}),
    kind_rules=compound_rules,
    visibility=EVERYONE,
)

BUILDING = RecordType(
    name="building",
    fields={
        "compound_id": f.Ref("compound"),
        "name": f.Text(1, 200),
        "number": f.Integer(0, 99_999),
    },
    required=frozenset({"compound_id", "name", "number"}),
    immutable=frozenset({"compound_id"}),
    permissions=Permissions(create=COORDINATOR, update=COORDINATOR, delete=COORDINATOR),
    scope=building_itself,
    visibility=EVERYONE,
)

HOUSEHOLD_TYPE = RecordType(
    name="household",
    fields={
        "compound_id": f.Ref("compound"),
        "building_id": f.Ref("building", same=("compound_id",)),
        "unit": f.Text(1, 20),
        "floor": f.Integer(-10, 300),
        "room": f.Text(1, 20),
    },
    required=frozenset({"compound_id", "building_id", "unit", "floor", "room"}),
    immutable=frozenset({"compound_id", "building_id"}),
    permissions=Permissions(create=FIELD_WORKERS, update=FIELD_WORKERS, delete=COORDINATOR),
    scope=compound_field,
    visibility=EVERYONE,
)

RESIDENT = RecordType(
    name="resident",
    fields={
        "household_id": f.Ref("household"),
        **PLACE_FIELDS,
        "name": f.Text(1, 100),
        "phone": f.Nullable(f.Text(1, 40)),
        "birth_year": f.Nullable(f.Integer(1890, 2100)),
        "needs": f.ListOf(f.Enum(NEEDS), max_items=len(NEEDS)),
        "languages": f.ListOf(f.Text(1, 35)),
        "id_number_masked": f.Nullable(f.MaskedIdNumber()),
    },
    required=frozenset({"household_id", "name"}),
    defaults={"needs": [], "languages": []},
    permissions=Permissions(
        create=FIELD_WORKERS,
        update=CARERS,
        delete=COORDINATOR,
    ),
    scope=from_parent(HOUSEHOLD),
    scope_fields=frozenset({"household_id"}),
    parent=HOUSEHOLD,
    personal=frozenset({"name", "phone", "birth_year", "needs", "languages", "id_number_masked"}),
    # Contract, Privacy: guards get a name, team leaders a name and a phone.
    visibility=Visibility(
        roles=frozenset(Role),
        fields={
            "phone": CARERS | {Role.TEAM_LEADER},
            "birth_year": CARERS,
            "needs": CARERS,
            "id_number_masked": CARERS,
        },
    ),
)

#: Every record type the engine knows, by name.
REGISTRY: Registry = {
    rtype.name: rtype
    for rtype in (
        COMPOUND,
        BUILDING,
        HOUSEHOLD_TYPE,
        RESIDENT,
        VISIT,
        TASK,
        CONFLICT,
        SUPPLY_ROUND,
        PACKAGE,
        ORDER,
        RESTOCK,
        MED_REQUEST,
        NOTICE,
        GATE_PASS,
        GATE_EVENT,
        VISITOR,
        GATE_POLICY,
        GATE_ALERT,
        TEST_ROUND,
        TEST_RESULT,
        VOLUNTEER,
        SHIFT,
    )
}

#: The record type names the contract pins; features register the rest of them.
RECORD_TYPES: frozenset[str] = frozenset(
    {
        "compound",
        "building",
        "household",
        "resident",
        "visit",
        "test_round",
        "test_result",
        "gate_pass",
        "gate_event",
        "package",
        "supply_round",
        "order",
        "med_request",
        "task",
        "volunteer",
        "shift",
        "notice",
        "conflict",
    }
)

#: The project's own record types beyond the contract's names ("fields not
#: listed are the project's", and so are these): a ``restock`` is an
#: append-only adjustment of a package's stock (``sync.supplies``); a
#: ``visitor`` is registered at the gate, a ``gate_policy`` is a compound's
#: gate rules as data, a ``gate_alert`` what the server raises on gate events
#: (``sync.gate``).
EXTENSION_TYPES: frozenset[str] = frozenset({"restock", "visitor", "gate_policy", "gate_alert"})
