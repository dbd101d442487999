"""The compounds' gate pass keys (``server.gate_keys``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class PassKeyRow(db.Model):
    """One ES256 signing key of a compound; the newest signs, all verify.

    The private key is a PEM sealed with a key derived from the app's secret
    (``server.passes.seal``): a copy of the database alone cannot forge passes.
    """

    __tablename__ = "pass_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    compound_id: Mapped[str] = mapped_column(String(36), index=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed_private: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
