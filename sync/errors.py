"""Stable rejection codes and the exception that carries them.

The codes are part of the wire contract: clients branch on them, so a code
is never renamed and its meaning never changes. ``server/`` maps
:class:`SyncError` to problem+json where one escapes a push.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """A reason a change was rejected."""

    #: A value, type, op, ``made_at`` or changeset id is malformed.
    INVALID = "invalid"
    #: The caller's role may not do this, or a create lies outside their scope.
    FORBIDDEN = "forbidden"
    #: No such record, or one outside the caller's scope (existence not revealed).
    NOT_FOUND = "not_found"
    #: The record is deleted.
    DELETED = "deleted"
    #: The field or record may not be changed after creation.
    IMMUTABLE = "immutable"
    #: Another user holds the task; the conflict carries the holder.
    ALREADY_CLAIMED = "already_claimed"
    #: The task's state machine does not allow this from its current status.
    STALE_TRANSITION = "stale_transition"
    #: An order asks for more than a package has left.
    OUT_OF_STOCK = "out_of_stock"
    #: An order was made after its round's cut-off.
    ROUND_CLOSED = "round_closed"
    #: Another change of the same changeset was rejected.
    ABORTED = "aborted"


class SyncError(Exception):
    """Reject one change with a stable code.

    :param code: the rejection code.
    :param detail: a human-readable explanation (English; clients translate
        by code).
    :param field: the field at fault, if one is.
    :param holder: for ``already_claimed``, the user id holding the task.
    """

    def __init__(
        self,
        code: Code,
        detail: str,
        field: str | None = None,
        holder: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.field = field
        self.holder = holder
