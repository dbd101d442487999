"""Sync policies: which records of a type a role's devices receive.

Scope says where a user may look and visibility what of a record a role may
see; a policy narrows, per type and role, what is worth keeping on the
device: guards get their compound's passes but not the gate log, a
coordinator the last days of the gate log (the rest through exports).
Declared on :class:`sync.registry.RecordType` as ``sync_policy`` (role →
policy; a role not listed receives every record of the type it may see).
Pulls and live events apply them alike (:mod:`sync.visibility`).

A policy judges a record by its fields at the time it is sent. A record
that stops matching is not withdrawn from devices that have it; tombstones
always pass, so deletions still arrive.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sync.records import Record
from sync.times import parse_datetime


class Policy(ABC):
    """A rule on the records of one type a role's devices receive."""

    @abstractmethod
    def admits(self, record: Record, now: datetime | None) -> bool:
        """Return whether a device receives ``record`` (not deleted) at ``now``."""

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """Describe the policy as in the published declarations."""


@dataclass(frozen=True, slots=True)
class Recent(Policy):
    """Only records whose date-time ``field`` lies within the last ``days`` days.

    Without a clock (``now`` is ``None``: an engine test, not a request) every
    record passes.
    """

    field: str
    days: int

    def admits(self, record: Record, now: datetime | None) -> bool:
        if now is None:
            return True
        try:
            moment = parse_datetime(record.fields.get(self.field))
        except ValueError:
            return False
        return moment >= now - timedelta(days=self.days)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "recent", "field": self.field, "days": self.days}


@dataclass(frozen=True, slots=True)
class Matching(Policy):
    """Only records whose ``field`` holds one of ``values``."""

    field: str
    values: tuple[object, ...]

    def admits(self, record: Record, now: datetime | None) -> bool:
        value = record.fields.get(self.field)
        return any(value == each and type(value) is type(each) for each in self.values)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "matching", "field": self.field, "values": list(self.values)}
