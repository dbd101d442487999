"""What devices push (changes, changesets) and what the server answers.

Results mirror the push response of the contract exactly; ``to_wire`` gives
plain JSON-able dicts and ``from_wire`` reads them back, so the server can
store the recorded result of a changeset and replay it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sync.errors import Code
from sync.values import value_class


class Op(StrEnum):
    """What a change does to its record."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@value_class
class Change:
    """One change to one record, as the device sent it.

    ``type`` and ``op`` are kept as sent and checked by the engine, so that an
    unknown one rejects its changeset alone. ``problem`` is set by the wire
    loader when the change itself is malformed (e.g. ``fields`` not an
    object); such a change is rejected ``invalid``.
    """

    type: str
    id: str
    op: str
    base_version: int = 0
    fields: Mapping[str, object] = field(default_factory=dict)
    problem: str | None = None


@value_class
class Changeset:
    """Changes made together on one device, applied all or none.

    ``made_at`` is ``None`` and ``problem`` says why when the device sent a
    bad one (or a bad id); the changeset is then rejected ``invalid``.
    """

    id: str
    made_at: datetime | None
    changes: tuple[Change, ...]
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Push:
    """One push request: the install that sent it and its changesets, in order.

    ``client_id`` is ``""`` when the device named no install; its writes
    then count as an unknown install's (see :mod:`sync.conflicts`).
    """

    client_id: str
    changesets: tuple[Changeset, ...]


class ChangeStatus(StrEnum):
    """The outcome of one change."""

    APPLIED = "applied"
    MERGED = "merged"
    REJECTED = "rejected"


class ChangesetStatus(StrEnum):
    """The outcome of one changeset."""

    APPLIED = "applied"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Conflict:
    """Why a change was rejected, with the server's record when the caller may see it.

    ``holder`` (an extension) is the user holding the task for
    ``already_claimed``; ``field`` (an extension) names the field at fault.
    """

    code: Code
    detail: str
    record: Mapping[str, object] | None = None
    holder: int | None = None
    field: str | None = None

    def to_wire(self) -> dict[str, object]:
        """Return the contract's ``conflict`` object."""
        wire: dict[str, object] = {"code": str(self.code), "detail": self.detail}
        if self.record is not None:
            wire["record"] = self.record
        if self.holder is not None:
            wire["holder"] = self.holder
        if self.field is not None:
            wire["field"] = self.field
        return wire

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Conflict:
        """Read a conflict written by :meth:`to_wire`."""
        return cls(
            Code(wire["code"]),
            wire["detail"],
            wire.get("record"),
            wire.get("holder"),
            wire.get("field"),
        )


@value_class
class ChangeResult:
    """The outcome of one change, as listed in the push response.

    ``version`` is the record's version after the change (the current one
    when the change wrote nothing), ``None`` when it was rejected.
    ``wrote`` is false for a change that wrote no version of its record (the
    same content again, a delete of a tombstone, every field lost): it is not
    on the wire, only in the changeset log, so that the audit trail never
    credits such a change with the version someone else wrote.
    """

    type: str
    id: str
    status: ChangeStatus
    version: int | None = None
    lost_fields: tuple[str, ...] = ()
    conflict: Conflict | None = None
    wrote: bool = True

    def to_wire(self) -> dict[str, object]:
        """Return the contract's per-change result (every key always present)."""
        return {
            "type": self.type,
            "id": self.id,
            "status": str(self.status),
            "version": self.version,
            "lost_fields": list(self.lost_fields),
            "conflict": None if self.conflict is None else self.conflict.to_wire(),
        }

    @property
    def logged_as_sent(self) -> bool:
        """Whether the changeset log keeps this result as sent (:meth:`to_log` adds nothing)."""
        return self.wrote or self.status is ChangeStatus.REJECTED

    def to_log(self) -> dict[str, object]:
        """Return :meth:`to_wire` plus ``"wrote": false`` when the change wrote nothing."""
        wire = self.to_wire()
        if not self.logged_as_sent:
            wire["wrote"] = False
        return wire

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> ChangeResult:
        """Read a result written by :meth:`to_wire` or :meth:`to_log`."""
        conflict = wire.get("conflict")
        return cls(
            wire["type"],
            wire["id"],
            ChangeStatus(wire["status"]),
            wire.get("version"),
            tuple(wire.get("lost_fields") or ()),
            None if conflict is None else Conflict.from_wire(conflict),
            bool(wire.get("wrote", True)),
        )


@value_class
class ChangesetResult:
    """The outcome of one changeset and each of its changes."""

    id: str
    status: ChangesetStatus
    changes: tuple[ChangeResult, ...]

    def to_wire(self) -> dict[str, object]:
        """Return the contract's per-changeset result."""
        return {
            "id": self.id,
            "status": str(self.status),
            "changes": [change.to_wire() for change in self.changes],
        }

    @property
    def logged_as_sent(self) -> bool:
        """Whether :meth:`to_log` equals :meth:`to_wire` (every change's result logged as sent)."""
        return all(change.logged_as_sent for change in self.changes)

    def to_log(self) -> dict[str, object]:
        """Return the result as the changeset log keeps it (see :meth:`ChangeResult.to_log`)."""
        return {
            "id": self.id,
            "status": str(self.status),
            "changes": [change.to_log() for change in self.changes],
        }

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> ChangesetResult:
        """Read a result written by :meth:`to_wire` or :meth:`to_log`."""
        return cls(
            wire["id"],
            ChangesetStatus(wire["status"]),
            tuple(ChangeResult.from_wire(change) for change in wire["changes"]),
        )
