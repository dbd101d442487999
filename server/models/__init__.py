"""The SQLAlchemy models; importing this package registers them all."""

from server.models.accounts import (
    AuthState,
    DeviceToken,
    LoginFailure,
    SocketSession,
    User,
    UserScopeItem,
)
from server.models.attachments import AttachmentRow
from server.models.audit import AuditEntry
from server.models.gate import PassKeyRow
from server.models.neighbourhood import Neighbourhood
from server.models.records import (
    EXITS_HIGH_WATER,
    HIGH_WATER,
    PG_MARKS,
    ChangesetLog,
    PushLog,
    RecordRow,
    RecordScope,
    ScopeExit,
    SyncState,
)

__all__ = [
    "EXITS_HIGH_WATER",
    "HIGH_WATER",
    "PG_MARKS",
    "AttachmentRow",
    "AuditEntry",
    "AuthState",
    "ChangesetLog",
    "DeviceToken",
    "LoginFailure",
    "Neighbourhood",
    "PassKeyRow",
    "PushLog",
    "RecordRow",
    "RecordScope",
    "ScopeExit",
    "SocketSession",
    "SyncState",
    "User",
    "UserScopeItem",
]
