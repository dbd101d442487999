"""Volunteers and their shifts at posts.

A ``volunteer`` is a person who works in one compound, with skills,
languages and a team; one with an account names it in ``user_id``. A
volunteer signs themselves up: their record's id is then fixed by their
account (:func:`volunteer_id`), so signing up on two devices offline makes
one record, and its ``user_id`` is always the caller's. Coordinators
register anyone (people without a smartphone too) under any id.

A ``shift`` puts a volunteer at a post for a time (``西门 07:00–19:00``).
Coordinators plan shifts; the volunteer reports arriving (``arrived_at``).
The server copies the volunteer's ``user_id`` onto the shift, so each
volunteer's devices receive their own shifts and sign-up only (a sync
policy), while coordinators see everyone's: who is on duty now, who is
missing (:func:`duty_of`).

Phone numbers reach coordinators only (closed by default: volunteers have
no need of each other's).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sync import fields as f
from sync.actors import Role
from sync.changes import Op
from sync.errors import Code, SyncError
from sync.field import COORDINATOR, FIELD_WORKERS, live_record
from sync.policy import Own
from sync.records import Record
from sync.registry import ChangeContext, Permissions, RecordType, Ruling, Visibility
from sync.scoping import compound_field
from sync.times import parse_datetime

SKILLS = ("medic", "pharmacist", "repair", "translator", "driver", "other")
#: What a volunteer may change on their own sign-up, and on their own shift.
OWN_VOLUNTEER_FIELDS = frozenset({"name", "phone", "skills", "languages", "team"})
OWN_SHIFT_FIELDS = frozenset({"arrived_at"})
SIGN_UP_NAMESPACE = uuid.UUID("3d0b8f7e-2a41-4c55-8f0a-6f4c1b7d2e90")


def volunteer_id(user_id: int) -> str:
    """Return the id of the sign-up of the account ``user_id`` (UUID version 5)."""
    return str(uuid.uuid5(SIGN_UP_NAMESPACE, f"volunteer/{user_id}"))


def volunteer_rules(ctx: ChangeContext) -> Ruling | None:
    """Tie a volunteer's own sign-up to their account.

    :raises SyncError: ``invalid`` (a volunteer's sign-up under another id
        than :func:`volunteer_id`), ``not_found`` (a volunteer changing
        someone else's sign-up: its existence is not revealed).
    """
    if ctx.actor.role != Role.VOLUNTEER or ctx.op is Op.DELETE:
        return None
    if ctx.current is not None:
        _check_own(ctx, ctx.current)
        return None
    if ctx.record_id != volunteer_id(ctx.actor.user_id):
        raise SyncError(Code.INVALID, "id: a volunteer signs up under their account's id")
    return Ruling({**ctx.fields, "user_id": ctx.actor.user_id})


def shift_rules(ctx: ChangeContext) -> Ruling | None:
    """Check a shift's times, copy its volunteer's account; volunteers touch their own.

    :raises SyncError: ``invalid`` (ends before it starts), ``not_found``
        (a volunteer reporting on someone else's shift).
    """
    if ctx.op is Op.DELETE:
        return None
    if ctx.actor.role == Role.VOLUNTEER and ctx.current is not None:
        _check_own(ctx, ctx.current)
    after = {**(ctx.current.fields if ctx.current else {}), **ctx.fields}
    if parse_datetime(after["ends_at"]) <= parse_datetime(after["starts_at"]):
        raise SyncError(Code.INVALID, "ends_at: a shift ends after it starts", "ends_at")
    out = dict(ctx.fields)
    if "volunteer_id" in ctx.fields:
        volunteer = live_record(ctx, ctx.fields["volunteer_id"], "volunteer", "volunteer_id")
        out["user_id"] = volunteer.fields.get("user_id")
    return Ruling(out)


def _check_own(ctx: ChangeContext, record: Record) -> None:
    """Refuse, ``not_found``, a volunteer's change of a record not theirs."""
    if record.fields.get("user_id") != ctx.actor.user_id:
        raise SyncError(Code.NOT_FOUND, f"no {record.type} {record.id}")


class Duty(StrEnum):
    """Where a shift stands at a moment."""

    UPCOMING = "upcoming"
    ON_DUTY = "on_duty"
    MISSING = "missing"
    OVER = "over"


def duty_of(shift: Record, now: datetime) -> Duty:
    """Return where ``shift`` stands at the aware time ``now``.

    ``missing``: the shift has begun and nobody reported arriving;
    ``on_duty``: it has begun and the volunteer arrived.
    """
    if now < parse_datetime(shift.fields["starts_at"]):
        return Duty.UPCOMING
    if now >= parse_datetime(shift.fields["ends_at"]):
        return Duty.OVER
    return Duty.ON_DUTY if shift.fields.get("arrived_at") else Duty.MISSING


VOLUNTEER = RecordType(
    name="volunteer",
    fields={
        "user_id": f.Nullable(f.UserRef()),
        "compound_id": f.Ref("compound"),
        "name": f.Text(1, 100),
        "phone": f.Nullable(f.Text(1, 40)),
        "skills": f.ListOf(f.Enum(SKILLS), max_items=len(SKILLS)),
        "languages": f.ListOf(f.Text(1, 35), max_items=20),
        "team": f.Nullable(f.Text(1, 100)),
    },
    required=frozenset({"compound_id", "name"}),
    defaults={"skills": [], "languages": []},
    immutable=frozenset({"user_id"}),
    permissions=Permissions(
        create=FIELD_WORKERS,
        update=FIELD_WORKERS,
        delete=COORDINATOR,
        update_fields={Role.VOLUNTEER: OWN_VOLUNTEER_FIELDS},
    ),
    scope=compound_field,
    scope_fields=frozenset({"compound_id"}),
    kind_rules=volunteer_rules,
    personal=frozenset({"name", "phone"}),
    visibility=Visibility(roles=FIELD_WORKERS, fields={"phone": COORDINATOR}),
    sync_policy={Role.VOLUNTEER: Own("user_id")},
)

SHIFT = RecordType(
    name="shift",
    fields={
        "volunteer_id": f.Ref("volunteer"),
        "compound_id": f.Ref("compound"),
        "post": f.Text(1, 100),
        "starts_at": f.DateTime(),
        "ends_at": f.DateTime(),
        "arrived_at": f.Nullable(f.DateTime()),
        "user_id": f.Nullable(f.UserRef()),
    },
    required=frozenset({"volunteer_id", "compound_id", "post", "starts_at", "ends_at"}),
    permissions=Permissions(
        create=COORDINATOR,
        update=FIELD_WORKERS,
        delete=COORDINATOR,
        update_fields={Role.VOLUNTEER: OWN_SHIFT_FIELDS},
    ),
    scope=compound_field,
    scope_fields=frozenset({"compound_id"}),
    rule_owned=frozenset({"user_id"}),
    kind_rules=shift_rules,
    visibility=Visibility(roles=FIELD_WORKERS),
    sync_policy={Role.VOLUNTEER: Own("user_id")},
)
