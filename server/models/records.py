"""Synced records in one generic table, their scopes and the version sequence.

See ``docs/architecture.md``: every record type shares ``record``; scope links
in ``record_scope`` let pulls filter in SQL; ``scope_exit`` remembers records
that left a scope so that a pull sends them once more as tombstones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class RecordRow(db.Model):
    """The latest state of one synced record."""

    __tablename__ = "record"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Indexed for the lookups by type off the sync path (a neighbourhood's
    # compounds when resolving a coordinator's scope).
    type: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(BigInteger, unique=True)
    deleted: Mapped[bool] = mapped_column(default=False)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    stamps: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The compounds and building it belongs to, as in ``record_scope`` (which
    # pulls filter on), kept here so that reads need no join; in the compact
    # form of ``server.store.scope_to_text`` because a first sync reads
    # thousands of them.
    scope: Mapped[str] = mapped_column(Text)


class RecordScope(db.Model):
    """A compound (and maybe building) that a record belongs to."""

    __tablename__ = "record_scope"
    __table_args__ = (
        Index("ix_record_scope_compound", "compound_id", "record_id"),
        Index("ix_record_scope_building", "building_id", "record_id"),
    )

    record_id: Mapped[str] = mapped_column(
        ForeignKey("record.id", ondelete="CASCADE"), primary_key=True
    )
    compound_id: Mapped[str] = mapped_column(String(36), primary_key=True)
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


class ChangesetLog(db.Model):
    """The recorded result of every changeset, for idempotent replays."""

    __tablename__ = "changeset_log"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    device_token_id: Mapped[int | None] = mapped_column(ForeignKey("device_token.id"))
    client_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
