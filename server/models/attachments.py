"""Photos attached to records (``server.attachments``, ``sync.attachments``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class AttachmentRow(db.Model):
    """One photo: its bytes, the record it belongs to and who sent it.

    Kept in the database, so a backup holds the photos with their records
    and one transaction writes a photo or nothing.
    """

    __tablename__ = "attachment"

    #: The photo's UUID, made by the device that took it (a re-upload sends it again).
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: A kind of :data:`sync.attachments.KINDS`.
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    byte_count: Mapped[int] = mapped_column(Integer)
    #: Hex SHA-256 of ``data``: a re-upload of the same photo is recognised by it.
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
