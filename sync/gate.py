"""The gate: signed resident passes, the gate log, visitors and the gate policy.

Contract, "Gate passes": a coordinator issues a ``gate_pass`` by creating it
with ``resident_id``, ``kind`` and ``valid_until``; the server signs it
(through the :class:`sync.signing.Signer` port: the engine never holds a
private key) and fills ``token``, ``compound_id`` and ``valid_from``, and
revokes the resident's previous pass of the same kind. A pass is revoked by
setting ``revoked: true``, which is never undone. The token shows the guard
only the resident's initials and short address (``12-3-502``).

A ``gate_event`` is a fact (append-only): one scan at one post, with the
decision the guard's device made, offline, and the policy version it used.

A ``visitor`` (the project's own type) is a visitor or courier registered at
the gate: name, phone, purpose and host household, seen by coordinators and
by the guard who registered them, never by other guards (contract, Privacy:
guards receive no personal data beyond what the gate needs).

A ``gate_policy`` (the project's own type, one per compound, id from
:func:`policy_id`) is the gate's rules as data: coordinators edit it, guards
sync it, and :func:`decide` (here, and ``web/app/gate/decide.js`` on the
device: both read the same data and pass the same table,
``tests/web/fixtures/gate_decisions.json``) applies it. Its ``tier`` follows
the compound's (a side write of the compound's rules), so one record version
— the ``policy_version`` every gate event records — names everything the
decision used.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sync import fields as f
from sync.actors import Role
from sync.changes import Op
from sync.errors import Code, SyncError
from sync.field import home_of, live_record
from sync.policy import Own, Recent
from sync.records import SERVER_USER_ID, Record
from sync.registry import (
    ChangeContext,
    Parent,
    Permissions,
    RecordType,
    Ruling,
    SideWrite,
    Visibility,
)
from sync.scoping import PLACE_FIELDS, compound_field, from_parent
from sync.times import format_datetime, parse_datetime

TIERS = ("sealed", "controlled", "precaution")
PASS_KINDS = ("resident", "medical_exit", "worker")
DIRECTIONS = ("in", "out")
DECISIONS = ("allow", "deny")
#: What a policy rule says of a (tier, pass kind, direction): ``window`` lets
#: the pass through only within the day's window and quota.
OUTCOMES = ("allow", "deny", "window")
PURPOSES = ("visit", "delivery", "courier", "medical", "repair", "official", "other")
#: Why a device refused a pass before policy (its checks, in this order).
PASS_PROBLEMS = (
    "malformed",
    "unknown_key",
    "bad_signature",
    "wrong_compound",
    "not_yet_valid",
    "expired",
    "revoked",
)
#: The reasons :func:`decide` gives.
POLICY_REASONS = ("allowed", "tier_forbids", "outside_window", "quota_used", "no_rule")

COORDINATOR = frozenset({Role.COORDINATOR})
GATE_STAFF = frozenset({Role.COORDINATOR, Role.GUARD})
#: Body temperatures a thermometer at the gate can give, °C.
TEMPERATURE_RANGE = (30.0, 45.0)
#: Shanghai's offset from UTC, minutes (no daylight saving time).
DEMO_UTC_OFFSET_MINUTES = 480

# ---------------------------------------------------------------------- passes


def short_address(building: Record, household: Record) -> str:
    """Return the short address a pass shows: building number, unit, room (``12-3-502``)."""
    return f"{building.fields['number']}-{household.fields['unit']}-{household.fields['room']}"


def gate_pass_rules(ctx: ChangeContext) -> Ruling | None:
    """Sign a new pass and revoke the resident's previous one; keep revocation final.

    :returns: the pass with ``token``, ``valid_from``, ``initials``,
        ``address`` and ``issued_by`` filled by the server, and side writes:
        the previous passes revoked, the compound's ``pass_keys`` brought up
        to date.
    :raises SyncError: ``invalid`` (no signer: this push may not issue;
        ``valid_until`` not after now), ``immutable`` (un-revoking).
    """
    if ctx.op is Op.DELETE:
        return None
    if ctx.current is not None:
        if ctx.current.fields.get("revoked") is True and ctx.fields.get("revoked") is False:
            raise SyncError(Code.IMMUTABLE, "revoked: a revoked pass stays revoked", "revoked")
        return Ruling(ctx.fields)
    if ctx.signer is None:
        raise SyncError(Code.INVALID, "passes are issued by the server only")
    valid_until = parse_datetime(ctx.fields["valid_until"])
    if valid_until <= ctx.made_at:
        raise SyncError(Code.INVALID, "valid_until: must be after now", "valid_until")
    resident = live_record(ctx, ctx.fields["resident_id"], "resident", "resident_id")
    household, building = home_of(ctx, resident)
    compound_id = str(household.fields["compound_id"])
    out = dict(ctx.fields)
    out.update(
        compound_id=compound_id,
        valid_from=format_datetime(ctx.made_at),
        revoked=False,
        initials=ctx.signer.initials(str(resident.fields["name"])),
        address=short_address(building, household),
        # The server's own passes (the demo's) have no issuing user.
        issued_by=ctx.actor.user_id if ctx.actor.user_id != SERVER_USER_ID else None,
    )
    claims = {
        "pid": ctx.record_id,
        "cid": compound_id,
        "kind": out["kind"],
        "nbf": int(ctx.made_at.timestamp()),
        "exp": int(valid_until.timestamp()),
        "ini": out["initials"],
        "addr": out["address"],
    }
    out["token"] = ctx.signer.sign(compound_id, claims)
    writes = [
        SideWrite(previous, {"revoked": True})
        for previous in ctx.signer.live_passes(resident.id, str(out["kind"]))
        if previous != ctx.record_id
    ]
    keys = [dict(jwk) for jwk in ctx.signer.public_keys(compound_id)]
    compound = live_record(ctx, compound_id, "compound", "resident_id", "the compound is gone")
    if compound.fields.get("pass_keys") != keys:
        writes.append(SideWrite(compound_id, {"pass_keys": keys}))
    return Ruling(out, tuple(writes))


RESIDENT = Parent("resident_id", "resident", ("compound_id", "building_id"))

#: A public JWK of a compound's pass key (contract, "Gate passes").
PASS_KEY = f.Object(
    {
        "kty": f.Enum(("EC",)),
        "crv": f.Enum(("P-256",)),
        "x": f.Text(1, 64),
        "y": f.Text(1, 64),
        "kid": f.Text(1, 64),
    }
)
#: How many keys a compound publishes at most (rotations keep the old ones).
MAX_PASS_KEYS = 20

GATE_PASS = RecordType(
    name="gate_pass",
    fields={
        "resident_id": f.Ref("resident"),
        **PLACE_FIELDS,
        "kind": f.Enum(PASS_KINDS),
        "valid_from": f.Nullable(f.DateTime()),
        "valid_until": f.DateTime(),
        "revoked": f.Boolean(),
        "token": f.Nullable(f.Text(1, 2000)),
        "initials": f.Nullable(f.Text(0, 20)),
        "address": f.Nullable(f.Text(1, 40)),
        "issued_by": f.Nullable(f.UserRef()),
    },
    required=frozenset({"resident_id", "kind", "valid_until"}),
    defaults={"revoked": False},
    immutable=frozenset({"resident_id", "kind", "valid_until"}),
    permissions=Permissions(
        create=COORDINATOR,
        update=COORDINATOR,
        update_fields={Role.COORDINATOR: frozenset({"revoked"})},
    ),
    scope=from_parent(RESIDENT),
    parent=RESIDENT,
    rule_owned=frozenset({"token", "valid_from", "initials", "address", "issued_by"}),
    kind_rules=gate_pass_rules,
    # A pass is a person's as a whole: the purge deletes it (server/purge.py).
    personal=frozenset({"token", "initials", "address"}),
    personal_record=True,
    visibility=Visibility(roles=GATE_STAFF),
    # A guard's device keeps the passes that can still be shown, and hears
    # of revocations of those (a policy never withholds an update of them).
    sync_policy={Role.GUARD: Recent("valid_until", 1)},
)

# ------------------------------------------------------------------ gate log


def gate_event_rules(ctx: ChangeContext) -> Ruling | None:
    """Record who scanned and when (the device time when the event names none)."""
    out = dict(ctx.fields)
    out["guard_id"] = ctx.actor.user_id
    if out.get("scanned_at") is None:
        out["scanned_at"] = format_datetime(ctx.made_at)
    return Ruling(out)


GATE_EVENT = RecordType(
    name="gate_event",
    fields={
        "compound_id": f.Ref("compound"),
        "post": f.Text(1, 60),
        "direction": f.Enum(DIRECTIONS),
        "decision": f.Enum(DECISIONS),
        "reason": f.Nullable(f.Text(1, 200)),
        "pass_id": f.Nullable(f.Uuid()),
        "pass_kind": f.Enum(PASS_KINDS),
        "visitor_id": f.Nullable(f.Ref("visitor", same=("compound_id",))),
        "temperature_c": f.Nullable(f.Number(*TEMPERATURE_RANGE, places=1)),
        "policy_version": f.Integer(0, 2**53),
        "scanned_at": f.Nullable(f.DateTime()),
        "guard_id": f.Nullable(f.UserRef()),
    },
    required=frozenset({"compound_id", "post", "direction", "decision", "policy_version"}),
    append_only=True,
    permissions=Permissions(create=GATE_STAFF),
    scope=compound_field,
    rule_owned=frozenset({"guard_id"}),
    kind_rules=gate_event_rules,
    personal=frozenset({"temperature_c"}),  # a body temperature is health data
    visibility=Visibility(roles=GATE_STAFF),
    # A guard's device has its own scans; the log is the coordinators'
    # (the last days of it, the rest through the export).
    sync_policy={Role.GUARD: Own("guard_id"), Role.COORDINATOR: Recent("scanned_at", 3)},
)

# ------------------------------------------------------------------ visitors


def visitor_rules(ctx: ChangeContext) -> Ruling | None:
    """Record who registered the visitor; a guard changes only their own registrations.

    :raises SyncError: ``not_found`` when a guard acts on another guard's
        visitor (its existence is not revealed).
    """
    if ctx.op is Op.DELETE:
        return None
    out = dict(ctx.fields)
    if ctx.current is None:
        out["registered_by"] = ctx.actor.user_id
        if out.get("arrived_at") is None:
            out["arrived_at"] = format_datetime(ctx.made_at)
        return Ruling(out)
    mine = ctx.current.fields.get("registered_by") == ctx.actor.user_id
    if ctx.actor.role == Role.GUARD and not mine:
        raise SyncError(Code.NOT_FOUND, f"no visitor {ctx.record_id}")
    return Ruling(out)


VISITOR = RecordType(
    name="visitor",
    fields={
        "compound_id": f.Ref("compound"),
        "post": f.Text(1, 60),
        "name": f.Text(1, 100),
        "phone": f.Nullable(f.Text(1, 40)),
        "purpose": f.Enum(PURPOSES),
        "host_household_id": f.Ref("household", same=("compound_id",)),
        "notes": f.Nullable(f.Text(0, 500, multiline=True)),
        "arrived_at": f.Nullable(f.DateTime()),
        "left_at": f.Nullable(f.DateTime()),
        "registered_by": f.Nullable(f.UserRef()),
    },
    required=frozenset({"compound_id", "post", "name", "purpose", "host_household_id"}),
    immutable=frozenset({"compound_id"}),
    permissions=Permissions(
        create=GATE_STAFF,
        update=GATE_STAFF,
        delete=COORDINATOR,
        update_fields={Role.GUARD: frozenset({"left_at", "notes"})},
    ),
    scope=compound_field,
    rule_owned=frozenset({"registered_by"}),
    kind_rules=visitor_rules,
    personal=frozenset({"name", "phone", "notes"}),
    visibility=Visibility(roles=GATE_STAFF),
    sync_policy={Role.GUARD: Own("registered_by")},
)

# -------------------------------------------------------------------- policy


def policy_id(compound_id: str) -> str:
    """Return the id of a compound's gate policy (UUID version 5 in the compound's namespace)."""
    return str(uuid.uuid5(uuid.UUID(compound_id), "gate-policy"))


def default_rules() -> list[dict[str, str]]:
    """Return the rules a new policy starts with (product, "The neighbourhood model").

    Coming home is always allowed. ``sealed``: nobody leaves but approved
    medical exits; ``controlled``: no resident leaves, medical exits and
    essential workers do; ``precaution``: residents leave within the day's
    window and quota, medical exits and workers at any time.
    """
    leaving = {
        "sealed": {"resident": "deny", "medical_exit": "allow", "worker": "deny"},
        "controlled": {"resident": "deny", "medical_exit": "allow", "worker": "allow"},
        "precaution": {"resident": "window", "medical_exit": "allow", "worker": "allow"},
    }
    return [
        {
            "tier": tier,
            "kind": kind,
            "direction": direction,
            "outcome": "allow" if direction == "in" else leaving[tier][kind],
        }
        for tier in TIERS
        for kind in PASS_KINDS
        for direction in DIRECTIONS
    ]


def gate_policy_rules(ctx: ChangeContext) -> Ruling | None:
    """Keep one policy per compound; its tier is the compound's.

    :raises SyncError: ``invalid`` for a policy under another id than
        :func:`policy_id` of its compound, or a rule named twice.
    """
    if ctx.op is Op.DELETE:
        return None
    out = dict(ctx.fields)
    if ctx.current is None:
        compound_id = str(ctx.fields["compound_id"])
        if ctx.record_id != policy_id(compound_id):
            raise SyncError(Code.INVALID, "id: a gate policy's id is its compound's")
        compound = ctx.lookup(compound_id)
        assert compound is not None  # a checked Ref
        out["tier"] = compound.fields["tier"]
    rules = out.get("rules")
    if isinstance(rules, list):
        keys = [(rule["tier"], rule["kind"], rule["direction"]) for rule in rules]
        if len(set(keys)) != len(keys):
            raise SyncError(Code.INVALID, "rules: a tier, kind and direction named twice", "rules")
    return Ruling(out)


RULE = f.Object(
    {
        "tier": f.Enum(TIERS),
        "kind": f.Enum(PASS_KINDS),
        "direction": f.Enum(DIRECTIONS),
        "outcome": f.Enum(OUTCOMES),
    }
)

GATE_POLICY = RecordType(
    name="gate_policy",
    fields={
        "compound_id": f.Ref("compound"),
        "tier": f.Enum(TIERS),
        "rules": f.ListOf(RULE, len(TIERS) * len(PASS_KINDS) * len(DIRECTIONS)),
        "window_opens": f.TimeOfDay(),
        "window_closes": f.TimeOfDay(),
        "exits_per_day": f.Nullable(f.Integer(1, 20)),
        "utc_offset_minutes": f.Integer(-720, 840),
        "fever_threshold_c": f.Number(*TEMPERATURE_RANGE, places=1),
    },
    required=frozenset({"compound_id", "rules", "window_opens", "window_closes"}),
    defaults={
        "utc_offset_minutes": DEMO_UTC_OFFSET_MINUTES,
        "fever_threshold_c": 37.3,
        "exits_per_day": 1,
    },
    immutable=frozenset({"compound_id"}),
    permissions=Permissions(create=COORDINATOR, update=COORDINATOR),
    scope=compound_field,
    rule_owned=frozenset({"tier"}),
    kind_rules=gate_policy_rules,
    visibility=Visibility(roles=GATE_STAFF),
)


def compound_rules(ctx: ChangeContext) -> Ruling | None:
    """Carry a compound's new tier into its gate policy, so the policy's version names it."""
    tier = ctx.fields.get("tier")
    if ctx.op is not Op.UPDATE or tier is None:
        return None
    policy = ctx.lookup(policy_id(ctx.record_id))
    if policy is None or policy.deleted or policy.fields.get("tier") == tier:
        return None
    return Ruling(ctx.fields, (SideWrite(policy.id, {"tier": tier}),))


# -------------------------------------------------------------------- alerts

ALERT_KINDS = ("fever", "repeated_denials", "copied_pass")
#: Denials of one pass within this window that make an alert, and how many.
DENIALS_WINDOW = timedelta(minutes=10)
DENIALS_ALERT_AT = 3
#: One pass scanned at two posts within this window: a copied pass.
COPY_WINDOW = timedelta(minutes=5)


def alert_id(event_id: str, kind: str) -> str:
    """Return the id of the alert of ``kind`` an event raises (so it is raised once)."""
    return str(uuid.uuid5(uuid.UUID(event_id), f"gate-alert/{kind}"))


def alerts_for(
    event: Record, recent: list[Record], fever_threshold_c: float
) -> list[dict[str, object]]:
    """Return the alerts a newly logged gate event raises, as ``gate_alert`` fields.

    - ``fever``: its temperature is at or over the policy's threshold;
    - ``repeated_denials``: it is the :data:`DENIALS_ALERT_AT`-th denial of
      its pass within :data:`DENIALS_WINDOW`;
    - ``copied_pass``: its pass was scanned at another post of the compound
      within :data:`COPY_WINDOW` (two people holding one pass).

    :param recent: the compound's gate events around it (it may be among them).
    """
    fields = event.fields
    at = parse_datetime(fields.get("scanned_at"))
    out: list[dict[str, object]] = []
    base = {"compound_id": fields["compound_id"], "event_id": event.id, "post": fields["post"]}
    temperature = fields.get("temperature_c")
    if isinstance(temperature, int | float) and temperature >= fever_threshold_c:
        out.append({**base, "kind": "fever", "temperature_c": temperature})
    pass_id = fields.get("pass_id")
    if not isinstance(pass_id, str):
        return out
    same = [
        other
        for other in recent
        if other.id != event.id and other.fields.get("pass_id") == pass_id and not other.deleted
    ]

    def within(other: Record, window: timedelta) -> bool:
        return abs(parse_datetime(other.fields.get("scanned_at")) - at) <= window

    if fields["decision"] == "deny":
        denials = [o for o in same if o.fields["decision"] == "deny" and within(o, DENIALS_WINDOW)]
        if len(denials) + 1 == DENIALS_ALERT_AT:
            out.append({**base, "kind": "repeated_denials", "pass_id": pass_id})
    elsewhere = [o for o in same if o.fields["post"] != fields["post"] and within(o, COPY_WINDOW)]
    if elsewhere:
        posts = sorted({str(fields["post"]), *(str(o.fields["post"]) for o in elsewhere)})
        out.append({**base, "kind": "copied_pass", "pass_id": pass_id, "posts": posts})
    return out


GATE_ALERT = RecordType(
    name="gate_alert",
    fields={
        "compound_id": f.Ref("compound"),
        "kind": f.Enum(ALERT_KINDS),
        "event_id": f.Uuid(),
        "post": f.Text(1, 60),
        "pass_id": f.Nullable(f.Uuid()),
        "posts": f.ListOf(f.Text(1, 60), 10),
        "temperature_c": f.Nullable(f.Number(*TEMPERATURE_RANGE, places=1)),
        "acknowledged": f.Boolean(),
    },
    required=frozenset({"compound_id", "kind", "event_id", "post"}),
    defaults={"acknowledged": False, "posts": []},
    immutable=frozenset({"compound_id", "kind", "event_id", "post", "pass_id", "posts"}),
    # Raised by the server (its own coordinator actor) when gate events land;
    # coordinators acknowledge them.
    permissions=Permissions(
        create=COORDINATOR,
        update=COORDINATOR,
        update_fields={Role.COORDINATOR: frozenset({"acknowledged"})},
    ),
    scope=compound_field,
    personal=frozenset({"temperature_c"}),
    visibility=Visibility(roles=COORDINATOR),
)

# ------------------------------------------------------------------ decision


@dataclass(frozen=True, slots=True)
class Scan:
    """What a guard's device knows when it decides.

    :param kind: the pass kind (from its verified claims).
    :param problem: what the pass checks found wrong (one of
        :data:`PASS_PROBLEMS`), ``None`` for a good pass.
    :param direction: ``in`` or ``out``.
    :param at: the device's time of the scan.
    :param exits_today: exits already allowed on this pass today (local day).
    """

    kind: str
    problem: str | None
    direction: str
    at: datetime
    exits_today: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """Allow or deny, and why: one of :data:`PASS_PROBLEMS` or :data:`POLICY_REASONS`."""

    decision: str
    reason: str


def decide(policy: Mapping[str, object], scan: Scan) -> Decision:
    """Decide a scan under a gate policy's fields (the reference of ``decide.js``).

    A pass with a problem is denied for it. Otherwise the rule for the
    policy's tier, the pass kind and the direction decides: ``allow``,
    ``deny`` (``tier_forbids``), or ``window``: allowed from
    ``window_opens`` until ``window_closes`` local time (UTC plus
    ``utc_offset_minutes``; a window that closes before it opens runs over
    midnight) while fewer than ``exits_per_day`` exits were allowed today.
    No rule for the case denies (``no_rule``): closed by default.
    """
    if scan.problem is not None:
        return Decision("deny", scan.problem)
    outcome = next(
        (
            rule["outcome"]
            for rule in _rules(policy)
            if (rule["tier"], rule["kind"], rule["direction"])
            == (policy["tier"], scan.kind, scan.direction)
        ),
        None,
    )
    if outcome is None:
        return Decision("deny", "no_rule")
    if outcome != "window":
        return Decision(outcome, "allowed" if outcome == "allow" else "tier_forbids")
    offset = policy["utc_offset_minutes"]
    assert isinstance(offset, int)
    local = scan.at + timedelta(minutes=offset)
    minute = local.hour * 60 + local.minute
    opens, closes = _minutes(policy["window_opens"]), _minutes(policy["window_closes"])
    inside = opens <= minute < closes if opens <= closes else minute >= opens or minute < closes
    if not inside:
        return Decision("deny", "outside_window")
    quota = policy.get("exits_per_day")
    if isinstance(quota, int) and scan.exits_today >= quota:
        return Decision("deny", "quota_used")
    return Decision("allow", "allowed")


def _rules(policy: Mapping[str, object]) -> list[Mapping[str, str]]:
    rules = policy["rules"]
    assert isinstance(rules, list)
    return rules


def _minutes(value: object) -> int:
    """Return the minutes after midnight of ``HH:MM``."""
    assert isinstance(value, str)
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)
