"""The SQLAlchemy side of record storage.

``allocate_versions`` and ``insert_records`` are the bulk path (seeding,
imports); the sync engine's store port is implemented on top of the same
tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update

from server.extensions import db
from server.models import RecordRow, RecordScope, SyncState


@dataclass(frozen=True)
class NewRecord:
    """A record to insert in bulk, with the compounds and building it belongs to."""

    type: str
    id: str
    fields: dict[str, Any]
    compound_ids: Sequence[str]
    building_id: str | None = None


def allocate_versions(count: int) -> range:
    """Take ``count`` versions from the sequence, locking it until commit."""
    high_water = db.session.execute(
        update(SyncState)
        .where(SyncState.id == 1)
        .values(high_water=SyncState.high_water + count)
        .returning(SyncState.high_water)
    ).scalar_one()
    return range(high_water - count + 1, high_water + 1)


def insert_records(records: Iterable[NewRecord], by: int, made_at: datetime) -> int:
    """Insert new records with fresh versions; return the highest version written."""
    records = list(records)
    if not records:
        return 0
    versions = allocate_versions(len(records))
    stamp_time = made_at.isoformat().replace("+00:00", "Z")
    rows = []
    scope_rows = []
    for version, record in zip(versions, records, strict=True):
        stamp = [version, stamp_time, by]
        rows.append(
            {
                "id": record.id,
                "type": record.type,
                "version": version,
                "deleted": False,
                "fields": record.fields,
                "stamps": {name: stamp for name in record.fields},
            }
        )
        scope_rows.extend(
            {"record_id": record.id, "compound_id": c, "building_id": record.building_id}
            for c in record.compound_ids
        )
    db.session.execute(insert(RecordRow), rows)
    db.session.execute(insert(RecordScope), scope_rows)
    return versions[-1]
