"""The audit log is append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server import accounts
from server.extensions import db
from server.models import AuditEntry


def test_audit_entries_cannot_be_rewritten_or_deleted(app):
    with app.app_context():
        accounts.audit(None, None, "test", detail={"n": 1})
        db.session.commit()
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "test"))
        entry.action = "forged"
        with pytest.raises(ValueError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEntry, entry.id))
        with pytest.raises(ValueError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditEntry, entry.id).action == "test"
