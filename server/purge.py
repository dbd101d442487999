"""``weiguang purge-personal-data --before YYYY-MM-DD``: when a lockdown ends.

Removes residents' personal data recorded before the day (midnight UTC of
``--before``) and keeps what the neighbourhood may still count:

- each record type declares its ``personal`` fields (``sync.registry``);
  a record made before the day (its earliest field stamp) gets those fields
  blanked — ``null``, an empty list, or a placeholder where a value is
  required — as a new version written by the server, so a device that still
  holds the record receives the blank fields on its next pull (or live);
- a type declared ``personal_record`` (a pass: the QR token is a person's)
  is deleted: its devices receive a tombstone, and the stored row keeps only
  its fields that are not personal;
- ``conflict`` records about a purged field lose the kept and lost values,
  and the recorded push results lose the server records they quoted;
- photos attached to records (``sync.attachments``) of a personal kind
  (a prescription, a task's proof) sent before the day are deleted, bytes
  and all;
- records are not removed, so counts per building and day (residents per
  building, visits and tests per day) stay what they were; the audit log
  keeps every entry (its shape) and gains one saying what was purged;
- the stated reason of a break-the-glass grant (``server/break_glass.py``)
  is free text about a patient ("B区3号楼老人胸痛"): grants made before the
  day keep who, which compound and until when, and their reason becomes a
  placeholder. This is the one change an audit entry ever gets, made with a
  plain UPDATE (the log refuses rewrites through the ORM).

Running it again purges nothing more (blank fields stay blank).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time

import click
from flask.cli import with_appcontext
from sqlalchemy import delete, select, update

from server import accounts, database, scopes
from server.clock import utcnow
from server.extensions import db
from server.models import AttachmentRow, AuditEntry, ChangesetLog, PushLog, RecordRow
from server.store import SqlStore, chunks, rerun_races
from sync import fields as f
from sync.attachments import KINDS
from sync.catalog import REGISTRY
from sync.records import SERVER_USER_ID, FieldStamp, Record
from sync.registry import RecordType

#: What a required personal text becomes.
PLACEHOLDER = "—"


def blank(declared: f.Field) -> object:
    """Return the value a purged field of this declaration gets."""
    match declared:
        case f.Nullable() | f.AnyJson():
            return None
        case f.ListOf():
            return []
        case f.LangMap():
            return {"zh-CN": PLACEHOLDER}
        case f.Text() | f.MaskedIdNumber():
            return PLACEHOLDER
    raise TypeError(f"a personal field cannot be a {type(declared).__name__}: make it Nullable")


def made_at(record: Record) -> datetime:
    """Return when a record was made: its earliest field stamp."""
    return min(
        (stamp.made_at for stamp in record.stamps.values()),
        default=datetime.max.replace(tzinfo=UTC),
    )


def purged(record: Record, rtype: RecordType) -> Record | None:
    """Return ``record`` with its personal data gone, or ``None`` if it holds none."""
    if rtype.personal_record:
        if record.deleted and not rtype.personal & record.fields.keys():
            return None
        kept = {k: v for k, v in record.fields.items() if k not in rtype.personal}
        return replace(record, deleted=True, fields=kept)
    if rtype.name == "conflict":
        about = REGISTRY.get(str(record.fields.get("record_type")))
        if about is None or record.fields.get("field") not in about.personal:
            return None
        fields = {**record.fields, "kept_value": None, "lost_value": None}
    else:
        fields = {
            **record.fields,
            **{n: blank(rtype.fields[n]) for n in rtype.personal if n in record.fields},
        }
    return None if fields == record.fields else replace(record, fields=fields)


def purge_personal_data(before: date) -> Counter[str]:
    """Purge the personal data of records made before ``before``; return counts by type.

    One transaction: all of it or, on an error, none; run again if it raced
    a push (:func:`server.store.rerun_races`).
    """
    return rerun_races(lambda: _purge(before))


def _purge(before: date) -> Counter[str]:
    """Purge as :func:`purge_personal_data` says, in one transaction; commit."""
    cutoff = datetime.combine(before, time(), UTC)
    now = utcnow()
    store = SqlStore.for_writing(received_at=now)
    counts: Counter[str] = Counter()
    for rtype in REGISTRY.values():
        if not rtype.personal and rtype.name != "conflict":
            continue
        for record in records_of(store, rtype.name):
            if made_at(record) >= cutoff:
                continue
            after = purged(record, rtype)
            if after is None:
                continue
            version = store.next_version()
            stamp = FieldStamp(version, now, SERVER_USER_ID)
            changed = {k for k in after.fields if after.fields[k] != record.fields.get(k)}
            stamps = {
                k: (stamp if k in changed else s)
                for k, s in record.stamps.items()
                if k in after.fields
            }
            store.put(replace(after, version=version, stamps=stamps), None)
            counts[rtype.name] += 1
    store.flush()
    counts["recorded results"] = forget_quoted_records(cutoff)
    counts["photos"] = delete_personal_photos(cutoff)
    counts["break-glass reasons"] = blank_grant_reasons(cutoff)
    accounts.audit(
        None, None, "purge-personal-data", detail={"before": before.isoformat(), **counts}
    )
    db.session.commit()
    return counts


def delete_personal_photos(cutoff: datetime) -> int:
    """Delete the photos of personal kinds sent before ``cutoff``; return how many."""
    kinds = [kind.name for kind in KINDS.values() if kind.personal()]
    gone = db.session.execute(
        delete(AttachmentRow).where(
            AttachmentRow.kind.in_(kinds), AttachmentRow.created_at < cutoff
        )
    )
    return int(gone.rowcount)


def blank_grant_reasons(cutoff: datetime) -> int:
    """Replace the reasons of break-the-glass grants made before ``cutoff``; return how many."""
    grants = db.session.execute(
        select(AuditEntry.id, AuditEntry.detail).where(
            AuditEntry.action == scopes.BREAK_GLASS_ACTION, AuditEntry.at < cutoff
        )
    )
    count = 0
    for entry_id, detail in list(grants):
        if detail.get("reason") in (None, PLACEHOLDER):
            continue
        db.session.execute(
            update(AuditEntry.__table__)
            .where(AuditEntry.__table__.c.id == entry_id)
            .values(detail={**detail, "reason": PLACEHOLDER})
        )
        count += 1
    return count


def records_of(store: SqlStore, type_name: str) -> Iterator[Record]:
    """Yield every record of a type through ``store`` (so that its writes know them)."""
    ids = list(db.session.scalars(select(RecordRow.id).where(RecordRow.type == type_name)))
    for chunk in chunks(ids):
        yield from store.get_many(chunk).values()


def forget_quoted_records(cutoff: datetime) -> int:
    """Drop ``conflict.record`` from push results recorded before ``cutoff``; return how many."""
    count = 0
    before = select(PushLog.id).where(PushLog.received_at < cutoff)
    for log in db.session.scalars(select(ChangesetLog).where(ChangesetLog.push_id.in_(before))):
        result = unquoted(log.result)
        if result != log.result:
            log.result = result
            count += 1
    return count


def unquoted(result: Mapping[str, object]) -> dict[str, object]:
    """Return a recorded result without the server records its conflicts quote."""
    changes = result.get("changes")
    if not isinstance(changes, list):
        return dict(result)
    out = []
    for change in changes:
        conflict = change.get("conflict") if isinstance(change, dict) else None
        if isinstance(conflict, dict) and conflict.get("record") is not None:
            change = {**change, "conflict": {**conflict, "record": None}}
        out.append(change)
    return {**result, "changes": out}


@click.command("purge-personal-data")
@click.option(
    "--before",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Purge what was recorded before this day (YYYY-MM-DD, midnight UTC).",
)
@with_appcontext
def purge_command(before: datetime) -> None:
    """Remove residents' personal data recorded before a day, keeping the counts."""
    database.upgrade_schema()
    counts = purge_personal_data(before.date())
    described = ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "nothing"
    click.echo(f"Purged personal data recorded before {before.date().isoformat()}: {described}.")
