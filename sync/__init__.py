"""The Weiguang sync engine, pure.

This package knows records, changesets, conflict rules, permissions and the
store port. It imports no Flask, SQLAlchemy, Socket.IO or marshmallow and
does no IO: every function takes plain dataclasses and a store and returns
plain dataclasses, so the server (``server/``) and the tests drive it the same
way. ``tests/sync/test_purity.py`` keeps it so.

The server calls:

- :func:`sync.wire.push_from_wire` to load a push body,
- :func:`sync.protocol.apply_push` to apply it,
- :func:`sync.pull.changes_since` to answer a pull,
- :func:`sync.pull.view_for` to filter a written record for a live event,
- :class:`sync.store.Store`, the port its SQL store implements.
"""

from sync.actors import Actor, Role, UserScope
from sync.changes import (
    Change,
    ChangeResult,
    Changeset,
    ChangesetResult,
    ChangesetStatus,
    ChangeStatus,
    Conflict,
    Op,
    Push,
)
from sync.errors import Code, SyncError
from sync.memory import MemoryStore
from sync.protocol import PushOutcome, apply_push
from sync.pull import Page, changes_since, view_for
from sync.records import FieldStamp, Record, Scope
from sync.store import RecordedResult, Store
from sync.visibility import view
from sync.wire import MalformedPush, push_from_wire

__all__ = [
    "Actor",
    "Change",
    "ChangeResult",
    "ChangeStatus",
    "Changeset",
    "ChangesetResult",
    "ChangesetStatus",
    "Code",
    "Conflict",
    "FieldStamp",
    "MalformedPush",
    "MemoryStore",
    "Op",
    "Page",
    "Push",
    "PushOutcome",
    "Record",
    "RecordedResult",
    "Role",
    "Scope",
    "Store",
    "SyncError",
    "UserScope",
    "apply_push",
    "changes_since",
    "push_from_wire",
    "view",
    "view_for",
]
