"""Synced records in one generic table, their scopes and the version sequence.

See ``docs/architecture.md``: every record type shares ``record``; scope links
in ``record_scope`` let pulls filter in SQL; ``scope_exit`` remembers records
that left a scope so that a pull sends them once more as tombstones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Computed,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.expressions import FieldText, StampTime


class RecordRow(db.Model):
    """The latest state of one synced record."""

    __tablename__ = "record"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Indexed for the lookups by type off the sync path (a neighbourhood's
    # compounds when resolving a coordinator's scope).
    type: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(BigInteger, unique=True)
    deleted: Mapped[bool] = mapped_column(default=False)
    # jsonb on PostgreSQL, so that the query indexes below read a field
    # without parsing the whole object; SQLite keeps JSON text.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    # ``fields`` as JSON text, which every read of records selects (so that
    # one damaged row cannot fail a read, and a pull page sends it as is).
    # Stored by PostgreSQL at each write: made from the jsonb at every read,
    # it was a third of the database's time of a first sync's page (issue
    # #16). Virtual on SQLite (the migration's), whose ``fields`` is that
    # text already. Not loaded with a row object, which has ``fields``.
    fields_text: Mapped[str] = mapped_column(
        Text, Computed("CAST(fields AS TEXT)", persisted=True), deferred=True
    )
    stamps: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The compounds and building it belongs to, as in ``record_scope`` (which
    # pulls filter on), kept here so that reads need no join; in the compact
    # form of ``server.store.scope_to_text`` because a first sync reads
    # thousands of them.
    scope: Mapped[str] = mapped_column(Text)


def type_index(name: str, record_type: str, *expressions: Any) -> Index:
    """Return a partial index on ``expressions`` over the records of one type.

    Partial, so that writes of other types (a push of tasks) pay nothing for it.
    """
    where = RecordRow.__table__.c.type == record_type
    return Index(name, *expressions, sqlite_where=where, postgresql_where=where)


_fields = RecordRow.__table__.c.fields
_stamps = RecordRow.__table__.c.stamps
#: The indexes of ``server.queries``, one per question a feature asks by field.
QUERY_INDEXES = (
    type_index("ix_record_visit_household", "visit", FieldText(_fields, "household_id")),
    type_index(
        "ix_record_gate_event_time",
        "gate_event",
        FieldText(_fields, "compound_id"),
        StampTime(_stamps, "compound_id"),
    ),
    type_index("ix_record_order_round", "order", FieldText(_fields, "supply_round_id")),
)


class RecordScope(db.Model):
    """A compound (and maybe building) that a record belongs to, at the record's version.

    The per-scope change index of pulls (``docs/sync.md``): a pull reads one
    compound's (or building's) changes in version order, and their types,
    from the index alone, without walking other places' records. Keyed by
    (compound, version): a version is one record's, so each row is one
    record's place at its latest version, and the table is the index. A
    write of a record deletes the rows of the version it replaces and adds
    those of its new one (``server.store.SqlStore.flush``). Keyed by record
    id, with the change index beside it, each edit rewrote a scattered page
    of the table and one of the index, and SQLite's commit wrote them all:
    a quarter of a 250-changeset push's database time (issue #16).
    A record's rows are found by its version (:func:`server.store.in_scope`).
    """

    __tablename__ = "record_scope"
    __table_args__ = (
        # PostgreSQL keeps the type in the key's index too, so that a pull
        # reads a place's changes from the index alone (an index-only scan).
        PrimaryKeyConstraint(
            "compound_id", "version", name="record_scope_pkey", postgresql_include=["record_type"]
        ),
        # Only the rows with a building: a building's reads name it, and the
        # rows of records with none (a coordinator's tasks) wrote an entry no
        # query read (issue #16).
        Index(
            "ix_record_scope_building_version",
            "building_id",
            "version",
            "record_type",
            sqlite_where=text("building_id IS NOT NULL"),
            postgresql_where=text("building_id IS NOT NULL"),
        ),
        # The rows are the primary key's index on SQLite: no second tree.
        {"sqlite_with_rowid": False},
    )

    compound_id: Mapped[str] = mapped_column(String(36))
    # The record's, as in ``record`` (the same transaction writes both).
    version: Mapped[int] = mapped_column(BigInteger)
    record_type: Mapped[str] = mapped_column(String(40))
    # Not a foreign key: see ``docs/sync.md``, "Keys the push tables do without".
    record_id: Mapped[str] = mapped_column(String(36))
    building_id: Mapped[str | None] = mapped_column(String(36))


class ScopeExit(db.Model):
    """A record that left a compound or building at ``version``."""

    __tablename__ = "scope_exit"
    __table_args__ = (Index("ix_scope_exit_compound_version", "compound_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36))
    record_type: Mapped[str] = mapped_column(String(40))
    compound_id: Mapped[str] = mapped_column(String(36))
    building_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(BigInteger, index=True)


class SyncState(db.Model):
    """The single row holding the global version sequence's high-water mark."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    high_water: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The highest version of any ``scope_exit`` row (0: none), moved by the
    #: push that writes exits, in their transaction (``server.store``).
    exits_high_water: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


#: The committed high-water mark: below it every version is committed (``docs/sync.md``).
HIGH_WATER = select(SyncState.high_water).where(SyncState.id == 1)
#: PostgreSQL's marks for pulls: the committed high-water mark below the claims
#: of pushes in flight, and the exits' (migration ``a7c1e3f5b9d2``;
#: ``docs/sync.md``, "Parallel pushes on PostgreSQL"). Its columns, in order.
PG_MARKS = "m.high_water, m.exits_high_water FROM weiguang_marks() m"
#: The exits' high-water mark (:attr:`SyncState.exits_high_water`). Read in
#: the same statement as :data:`HIGH_WATER`, no exit at or below that mark
#: is above it: a pull from a cursor at or above it has no tombstones of
#: exits to send (``docs/sync.md``, "Why no pull skips a change").
EXITS_HIGH_WATER = select(SyncState.exits_high_water).where(SyncState.id == 1)


class PushLog(db.Model):
    """Who pushed, from which device and install, and when: one row a push that recorded results.

    Each of the push's :class:`ChangesetLog` rows names it (``push_id``):
    written once a push, not once a changeset, so that a push of 250
    changesets writes 250 narrow rows under one index and one row under
    these three (issue #16: 0.57 against 1.00 ms for a push's results in
    SQLite, 4.5 against 6.7 ms for the log's rows and commit in PostgreSQL).
    Read, newest first, by the audit search (``server.audit``: by receipt
    time, or one user's by receipt time), by an account's last changeset
    (``server.accounts``) and by install for the conflict inbox's device
    names (``server.directory``): the indexes serve those.
    """

    __tablename__ = "push_log"
    __table_args__ = (
        # The audit's pages: ORDER BY received_at DESC after a cursor (and
        # the purge's received_at < cutoff).
        Index("ix_push_log_received", "received_at", "id"),
        # One user's pushes newest first (audit search by user, sync mark).
        Index("ix_push_log_user_received", "user_id", "received_at", "id"),
        # The device that pushed as an install (conflict inbox device names).
        Index("ix_push_log_client_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The signed-in user and device token; not foreign keys (``docs/sync.md``,
    # "Keys the push tables do without").
    user_id: Mapped[int] = mapped_column(Integer)
    device_token_id: Mapped[int | None] = mapped_column(Integer)
    client_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChangesetLog(db.Model):
    """The recorded result of every changeset, for idempotent replays.

    Who pushed it and when is its push's row (:class:`PushLog`), read
    through ``ix_changeset_log_push``.
    """

    __tablename__ = "changeset_log"
    __table_args__ = (Index("ix_changeset_log_push", "push_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Not a foreign key either: the push writes both rows in one statement.
    push_id: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
