"""The audit trail: who changed what and when, for coordinators (issue 13, item 6).

``GET /api/v1/audit`` reads the changeset log (who pushed which change of
which record, from which device, when the server received it) and the field
stamps of the records (which fields a change wrote that still hold its value,
and the device time it was made). One entry per applied or merged change,
newest first. A change that wrote nothing is not listed: one the server
refused, and one it applied as a no-op (the same content again, a delete of
a tombstone: the log marks it ``wrote: false``), which answers with the
version somebody else wrote and must not be credited with it. A merged change
whose every field lost is listed, with no fields and its ``lost_fields``.
The log keeps no field values, so an entry names the fields its change wrote
that nobody has overwritten since, with their values now.

Coordinators only (403 for other roles); an entry appears only when its
record lies in the coordinator's scope now, and its values pass through
:func:`sync.visibility.view` like a pull's (personal data as the role may see
it). Searchable by household (the household and every record naming it or
one of its residents), by user, by record type or id, and by text.

Pages: the log is read :data:`SCAN_ROWS` changesets at a time, up to
:data:`MAX_SCAN` per request, until ``limit`` entries are found; ``cursor``
names where the next page starts (``null`` at the end of the log), so a
narrow search may return a short page with ``more: true``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, request
from marshmallow import ValidationError
from sqlalchemy import Text, and_, cast, or_, select

from server.auth import current_actor, require_auth
from server.clock import aware, utcnow
from server.extensions import db
from server.models import ChangesetLog, DeviceToken, PushLog, RecordRow, User
from server.queries import records_naming
from server.schemas.audit import AUDIT_ARGS, AUDIT_REPLY
from server.store import RECORD_COLUMNS, chunks, to_record
from sync import fields as f
from sync.actors import Actor, UserScope
from sync.catalog import REGISTRY
from sync.records import Record
from sync.times import format_datetime
from sync.visibility import view

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit")

#: Changesets read per statement.
SCAN_ROWS = 200
#: The most changesets one request reads (a narrow search pages on with ``more``).
MAX_SCAN = 5000
#: Change statuses that wrote something.
WROTE = ("applied", "merged")


@bp.get("")
@require_auth("coordinator")
def search() -> Any:
    """Return a page of audit entries matching the query (see the module docstring)."""
    args = AUDIT_ARGS.load(request.args)
    actor = current_actor()
    return AUDIT_REPLY.dump(audit_page(actor, **args))


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page starts: just after the changeset ``changeset_id`` received at ``at``."""

    at: datetime
    changeset_id: str

    def encode(self) -> str:
        """Return the opaque cursor text."""
        text = f"{format_datetime(self.at)}|{self.changeset_id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        """Read a cursor made by :meth:`encode`.

        :raises ValidationError: (answered 422) for anything else.
        """
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            at, changeset_id = text.split("|")
            return cls(aware(datetime.fromisoformat(at.replace("Z", "+00:00"))), changeset_id)
        except (binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise ValidationError({"cursor": ["Not a cursor this API gave out."]}) from error


def audit_page(
    actor: Actor,
    *,
    limit: int,
    cursor: str | None = None,
    household_id: str | None = None,
    user_id: int | None = None,
    record_type: str | None = None,
    record_id: str | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    """Return ``{"entries", "cursor", "more"}``: up to ``limit`` entries after ``cursor``.

    :param household_id: only the household and the records naming it or its residents.
    :param user_id: only changes pushed by this user.
    :param q: only entries whose text (people, device, type, ids, fields, values)
        contains this, ignoring case.
    """
    ids: set[str] | None = None
    if household_id is not None:
        ids = household_records(household_id, actor.scope)
    if record_id is not None:
        ids = {record_id} if ids is None else ids & {record_id}
    if ids is not None and not ids:
        return {"entries": [], "cursor": None, "more": False}
    start = Position.decode(cursor) if cursor else None
    entries: list[dict[str, Any]] = []
    last: Position | None = None
    scanned = 0
    for rows in log_batches(start, user_id, ids):
        found: dict[str, list[dict[str, Any]]] = {}
        for item in entries_of(rows, actor, ids, record_type):
            if q is None or q.casefold() in entry_text(item):
                found.setdefault(item["changeset_id"], []).append(item)
        for row in rows:
            # A changeset's entries stay on one page: the cursor names changesets.
            more_entries = found.get(row.id, [])
            if entries and len(entries) + len(more_entries) > limit:
                return page(entries, last)
            entries += more_entries
            last = Position(aware(row.received_at), row.id)
        scanned += len(rows)
        if len(rows) < SCAN_ROWS:
            return page(entries, None)
        if len(entries) >= limit or scanned >= MAX_SCAN:
            break
    return page(entries, last)


def page(entries: list[dict[str, Any]], last: Position | None) -> dict[str, Any]:
    """Return a page's body: ``last`` is where the next page starts, ``None`` at the log's end."""
    return {
        "entries": entries,
        "cursor": last.encode() if last else None,
        "more": last is not None,
    }


def log_batches(
    start: Position | None, user_id: int | None, ids: set[str] | None
) -> Iterator[list[Any]]:
    """Yield the changeset log newest first, :data:`SCAN_ROWS` rows at a time, after ``start``.

    Each changeset with its push's row (:class:`~server.models.PushLog`):
    the pushes are walked by receipt time, each one's changesets found by
    ``ix_changeset_log_push``.
    """
    conditions: list[Any] = []
    if user_id is not None:
        conditions.append(PushLog.user_id == user_id)
    if ids is not None:
        # The log's result names each record it touched by id: a text match
        # leaves the database only the changesets that may matter.
        result = cast(ChangesetLog.result, Text)
        conditions.append(or_(*(result.contains(record_id) for record_id in sorted(ids))))
    position = start
    while True:
        where = list(conditions)
        if position is not None:
            where.append(
                or_(
                    PushLog.received_at < position.at,
                    and_(
                        PushLog.received_at == position.at,
                        ChangesetLog.id < position.changeset_id,
                    ),
                )
            )
        rows = list(
            db.session.execute(
                select(
                    ChangesetLog.id,
                    PushLog.received_at,
                    ChangesetLog.result,
                    User.id.label("user_id"),
                    User.username,
                    User.display_name,
                    DeviceToken.device_name,
                )
                # ``+ 0``: no index finds a push by its id from its changesets,
                # so SQLite's planner (no statistics) walks the pushes by
                # receipt time and each one's changesets by their index,
                # rather than read the whole log and sort it.
                .join_from(PushLog, ChangesetLog, ChangesetLog.push_id == PushLog.id + 0)
                .join(User, User.id == PushLog.user_id)
                .outerjoin(DeviceToken, DeviceToken.id == PushLog.device_token_id)
                .where(*where)
                .order_by(PushLog.received_at.desc(), ChangesetLog.id.desc())
                .limit(SCAN_ROWS)
            )
        )
        yield rows
        if len(rows) < SCAN_ROWS:
            return
        position = Position(aware(rows[-1].received_at), rows[-1].id)


def entries_of(
    rows: list[Any], actor: Actor, ids: set[str] | None, record_type: str | None
) -> Iterator[dict[str, Any]]:
    """Yield the entries of ``rows``' written changes whose records ``actor`` may see now."""
    wanted = [
        (row, change)
        for row in rows
        for change in row.result.get("changes", ())
        if change.get("status") in WROTE
        and (change.get("wrote", True) or change.get("lost_fields"))
        and (ids is None or change.get("id") in ids)
        and (record_type is None or change.get("type") == record_type)
    ]
    records = current_records({change["id"] for _, change in wanted})
    now = utcnow()
    for row, change in wanted:
        record = records.get(change["id"])
        if record is None or not actor.sees(record.scope):
            continue
        shown = view(record, actor, REGISTRY, now)
        if shown is None:
            continue
        yield entry(row, change, shown)


def entry(row: Any, change: dict[str, Any], record: Record) -> dict[str, Any]:
    """Build one entry: the change, who, when, and the fields it wrote that still hold."""
    version = change.get("version")
    wrote = change.get("wrote", True)
    written = sorted(
        name for name, stamp in record.stamps.items() if wrote and stamp.version == version
    )
    made = [record.stamps[name].made_at for name in written]
    return {
        "changeset_id": row.id,
        "received_at": aware(row.received_at),
        "made_at": max(made) if made else None,
        "user": {"id": row.user_id, "username": row.username, "display_name": row.display_name},
        "device": row.device_name,
        "record_type": record.type,
        "record_id": record.id,
        "version": version,
        "status": change["status"],
        "deleted": wrote and record.deleted and record.version == version,
        "household_id": record.id
        if record.type == "household"
        else record.fields.get("household_id"),
        "fields": {name: record.fields.get(name) for name in written},
        "lost_fields": list(change.get("lost_fields") or ()),
    }


def entry_text(entry: dict[str, Any]) -> str:
    """Return what a text search looks through in one entry, case-folded."""
    words: list[Any] = [
        entry["user"]["username"],
        entry["user"]["display_name"],
        entry["device"],
        entry["record_type"],
        entry["record_id"],
        *entry["fields"],
        *values_of(entry["fields"].values()),
    ]
    return " ".join(str(word) for word in words if word is not None).casefold()


def values_of(values: Iterable[Any]) -> Iterator[Any]:
    """Yield the scalar values inside ``values`` (language maps and lists opened)."""
    for value in values:
        if isinstance(value, dict):
            yield from values_of(value.values())
        elif isinstance(value, list):
            yield from values_of(value)
        else:
            yield value


def current_records(record_ids: set[str]) -> dict[str, Record]:
    """Return the records (tombstones included) with these ids, by id."""
    found: dict[str, Record] = {}
    for chunk in chunks(sorted(record_ids)):
        statement = select(*RECORD_COLUMNS).where(RecordRow.id.in_(chunk))
        found.update((row.id, to_record(row)) for row in db.session.execute(statement))
    return found


def household_records(household_id: str, scope: UserScope) -> set[str]:
    """Return the ids of a household in ``scope`` and of the records naming it or its residents.

    Which fields name a household or a resident comes from the declarations
    (``Ref("household")``, ``Ref("resident")``), so a new type is searched by
    itself.
    """
    if not records_naming_id("household", household_id, scope):
        return set()
    ids = {household_id}
    residents: set[str] = set()
    for type_name, field in referring_fields("household"):
        named = {record.id for record in records_naming(type_name, field, household_id, scope)}
        ids |= named
        if type_name == "resident":
            residents |= named
    for type_name, field in referring_fields("resident"):
        for resident in sorted(residents):
            ids |= {record.id for record in records_naming(type_name, field, resident, scope)}
    return ids


def records_naming_id(record_type: str, record_id: str, scope: UserScope) -> bool:
    """Return whether a live record of ``record_type`` with this id lies in ``scope``."""
    record = current_records({record_id}).get(record_id)
    return (
        record is not None
        and record.type == record_type
        and not record.deleted
        and scope.covers(record.scope)
    )


def referring_fields(target: str) -> list[tuple[str, str]]:
    """Return ``(type, field)`` of every declared field that names a record of ``target``."""
    found = []
    for type_name, rtype in sorted(REGISTRY.items()):
        for name, declared in sorted(rtype.fields.items()):
            inner = declared.inner if isinstance(declared, f.Nullable) else declared
            if isinstance(inner, f.Ref) and inner.type == target:
                found.append((type_name, name))
    return found
