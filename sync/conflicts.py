"""Field-level merge of concurrent edits, and the conflict records losers become.

For each field an update carries, against the field's stamp (the write that
set its current value):

1. the same value as now: nothing to do;
2. causality — the field has not changed since the author's
   ``base_version`` (or the type decides it by its own rules): the edit wins;
3. otherwise the edits are concurrent: the later ``made_at`` wins (device
   times are clamped to the receipt before they get here), a tie goes to
   arrival order — the edit arriving now is the later one, so it wins.

The losing value — the incoming one or the one it overwrote — is kept as a
``conflict`` record, except when both edits are by the same user: a user does
not conflict with themselves (their queued edits all carry the base they last
pulled, so they would otherwise conflict with their own earlier changes).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sync import fields as f
from sync.actors import Role
from sync.records import SERVER_USER_ID, FieldStamp, Record, Scope
from sync.registry import Permissions, RecordType, Visibility
from sync.scoping import referenced_compounds
from sync.times import format_datetime

#: Namespace of conflict record ids: ``uuid5(ns, "changeset/index/field")``.
CONFLICT_NAMESPACE = uuid.UUID("6f1c0a52-5b5e-4d8e-9a63-2f0f8f3c9b7d")

CONFLICT_FIELDS = (
    "record_type",
    "record_id",
    "field",
    "kept_value",
    "lost_value",
    "kept_made_at",
    "lost_made_at",
    "kept_by",
    "lost_by",
)


@dataclass(frozen=True, slots=True)
class Loss:
    """A value that lost to a concurrent edit of the same field."""

    field: str
    kept_value: object
    lost_value: object
    kept_made_at: datetime
    lost_made_at: datetime
    kept_by: int
    lost_by: int


@dataclass(frozen=True, slots=True)
class Merge:
    """The outcome of merging one update into its record.

    :param winners: the fields to write (only values that differ from now).
    :param lost_fields: the update's fields that lost.
    :param losses: the losing values to keep as conflict records.
    """

    winners: dict[str, object]
    lost_fields: tuple[str, ...]
    losses: tuple[Loss, ...]


def merge(
    current: Record,
    fields: Mapping[str, object],
    base_version: int,
    made_at: datetime,
    by: int,
    exempt: frozenset[str],
) -> Merge:
    """Merge an update's ``fields`` into ``current`` by the conflict rules."""
    winners: dict[str, object] = {}
    lost_fields: list[str] = []
    losses: list[Loss] = []
    for name, value in fields.items():
        old = current.fields.get(name)
        if old == value and (value is None or name in current.fields):
            continue
        stamp = current.stamps.get(name)
        if name in exempt or stamp is None or stamp.version <= base_version:
            winners[name] = value
            continue
        mine = (value, made_at, by)
        theirs = (old, stamp.made_at, stamp.by)
        if made_at >= stamp.made_at:
            winners[name] = value
            kept, lost = mine, theirs
        else:
            lost_fields.append(name)
            kept, lost = theirs, mine
        if stamp.by != by:
            losses.append(Loss(name, kept[0], lost[0], kept[1], lost[1], kept[2], lost[2]))
    return Merge(winners, tuple(lost_fields), tuple(losses))


def conflict_id(changeset_id: str, index: int, field: str) -> str:
    """Return the id of the conflict record of one field of one change.

    Deterministic, so the same loss can never be recorded twice.
    """
    return str(uuid.uuid5(CONFLICT_NAMESPACE, f"{changeset_id}/{index}/{field}"))


def conflict_record(
    record_id: str, loss: Loss, about: Record, version: int, made_at: datetime
) -> Record:
    """Build the conflict record keeping ``loss`` of record ``about``.

    Its scope is the compounds of ``about``; it is written by the server.
    """
    fields: dict[str, object] = {
        "record_type": about.type,
        "record_id": about.id,
        "field": loss.field,
        "kept_value": loss.kept_value,
        "lost_value": loss.lost_value,
        "kept_made_at": format_datetime(loss.kept_made_at),
        "lost_made_at": format_datetime(loss.lost_made_at),
        "kept_by": loss.kept_by,
        "lost_by": loss.lost_by,
        "resolved": False,
    }
    stamp = FieldStamp(version, made_at, SERVER_USER_ID)
    return Record(
        type="conflict",
        id=record_id,
        version=version,
        deleted=False,
        fields=fields,
        stamps=dict.fromkeys(fields, stamp),
        scope=Scope(about.scope.compound_ids),
    )


CONFLICT = RecordType(
    name="conflict",
    fields={
        "record_type": f.Text(1, 40),
        "record_id": f.Uuid(),
        "field": f.Text(1, 100),
        "kept_value": f.AnyJson(),
        "lost_value": f.AnyJson(),
        "kept_made_at": f.DateTime(),
        "lost_made_at": f.DateTime(),
        "kept_by": f.Integer(0, f.MAX_USER_ID),
        "lost_by": f.Integer(0, f.MAX_USER_ID),
        "resolved": f.Boolean(),
    },
    required=frozenset({*CONFLICT_FIELDS, "resolved"}),
    immutable=frozenset(CONFLICT_FIELDS),
    permissions=Permissions(update=frozenset({Role.COORDINATOR})),
    scope=referenced_compounds,
    visibility=Visibility(roles=frozenset({Role.COORDINATOR})),
)
