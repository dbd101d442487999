"""Field-level merge of concurrent edits, and the conflict records losers become.

For each field an update carries, against the field's stamp (the write that
set its current value):

1. the same value as now: nothing to do;
2. causality — the field has not changed since the author's
   ``base_version`` (or the type decides it by its own rules): the edit wins;
3. otherwise the edits are concurrent: the later ``made_at`` wins (device
   times are clamped to the receipt before they get here), a tie goes to
   arrival order — the edit arriving now is the later one, so it wins.

Causality is per install, not per user: a device sees its own edits, so an
edit to a field whose current value the same install (``client_id``) of the
same user wrote is not concurrent with it and wins (a device queues several
edits on the base it last pulled; they follow one another). Two installs of
one user are two devices and conflict like anyone's; so does a value whose
install is unknown (written before installs were recorded, or pushed without
a ``client_id``), so that nothing is ever lost silently.

The losing value — the incoming one or the one it overwrote — is kept as a
``conflict`` record naming both users and both installs (contract,
"Conflict rules").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sync import fields as f
from sync.actors import Role
from sync.records import MAX_CLIENT_ID_CHARS, SERVER_USER_ID, FieldStamp, Record, Scope
from sync.registry import Permissions, RecordType, Visibility
from sync.scoping import referenced_compounds
from sync.times import format_datetime
from sync.values import value_class

#: Namespace of conflict record ids: ``uuid5(ns, "changeset/index/field")``.
CONFLICT_NAMESPACE = uuid.UUID("6f1c0a52-5b5e-4d8e-9a63-2f0f8f3c9b7d")

#: The installs of the kept and the lost edit (``client_id``; ``null`` when unknown).
DEVICE_FIELDS = ("kept_device", "lost_device")

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
    "kept_device",
    "lost_device",
)


@value_class
class Author:
    """Who wrote a value and when.

    :param by: the user id.
    :param client_id: the install (``None`` when unknown).
    :param made_at: the device time, clamped to the server's receipt.
    """

    by: int
    client_id: str | None
    made_at: datetime


@dataclass(frozen=True, slots=True)
class Loss:
    """A value that lost to a concurrent edit of the same field."""

    field: str
    kept_value: object
    lost_value: object
    kept: Author
    lost: Author


@value_class
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
    author: Author,
    exempt: frozenset[str],
) -> Merge:
    """Merge an update's ``fields`` into ``current`` by the conflict rules.

    :param author: who made the update, and when.
    :param exempt: fields decided by the type's own rules (the task state
        machine), never by later-edit-wins.
    """
    winners: dict[str, object] = {}
    lost_fields: list[str] = []
    losses: list[Loss] = []
    for name, value in fields.items():
        old = current.fields.get(name)
        if old == value and (value is None or name in current.fields):
            continue
        stamp = current.stamps.get(name)
        if (
            name in exempt
            or stamp is None
            or stamp.version <= base_version
            or stamp.written_by(author.by, author.client_id)
        ):
            winners[name] = value
            continue
        theirs = Author(stamp.by, stamp.client_id, stamp.made_at)
        if author.made_at >= theirs.made_at:
            winners[name] = value
            losses.append(Loss(name, value, old, author, theirs))
        else:
            lost_fields.append(name)
            losses.append(Loss(name, old, value, theirs, author))
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
        "kept_made_at": format_datetime(loss.kept.made_at),
        "lost_made_at": format_datetime(loss.lost.made_at),
        "kept_by": loss.kept.by,
        "lost_by": loss.lost.by,
        "kept_device": loss.kept.client_id,
        "lost_device": loss.lost.client_id,
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
        "kept_device": f.Nullable(f.Text(1, MAX_CLIENT_ID_CHARS)),
        "lost_device": f.Nullable(f.Text(1, MAX_CLIENT_ID_CHARS)),
        "resolved": f.Boolean(),
    },
    required=frozenset({*CONFLICT_FIELDS, "resolved"} - set(DEVICE_FIELDS)),
    immutable=frozenset(CONFLICT_FIELDS),
    permissions=Permissions(update=frozenset({Role.COORDINATOR})),
    scope=referenced_compounds,
    visibility=Visibility(roles=frozenset({Role.COORDINATOR})),
)
