"""Tasks: the task board's record type and its state machine.

::

                claim              start               finish
      open ────────────▶ claimed ────────────▶ in_progress ────────▶ done
        │                   │                       │
        │ cancel            │ cancel                │ fail (reason in notes)
        ▼                   ▼                       ▼
    cancelled ◀─────────────┘                     failed

``done``, ``failed`` and ``cancelled`` are final: nothing leaves them, so
``done`` is never undone by a late sync. A claim sets ``assignee_id`` (the
caller when absent). Only the holder (or a coordinator) moves a held task.

Decisions, in order:

- a claim of a task held (claimed or in progress) by someone else is
  ``already_claimed`` with the holder — before any staleness is judged;
- a claim by the holder again is a no-op (no new version);
- a volunteer acting on a task held by someone else is ``already_claimed``;
- asking for the status the task already has is a no-op for ``status``;
- any other status change the diagram does not allow from the server's
  current status is ``stale_transition`` (the device's view is stale).
"""

from __future__ import annotations

from collections.abc import Mapping

from sync import fields as f
from sync.actors import Actor, Role
from sync.changes import Op
from sync.errors import Code, SyncError
from sync.registry import ChangeContext, Permissions, RecordType, Ruling
from sync.scoping import compound_field

KINDS = ("delivery", "medicine", "garbage", "check_in", "escort", "other")
STATUSES = ("open", "claimed", "in_progress", "done", "failed", "cancelled")
#: Statuses in which a task has a holder.
HELD = frozenset({"claimed", "in_progress"})
#: The diagram's edges other than the claim (handled on its own).
MOVES = frozenset(
    {
        ("claimed", "in_progress"),
        ("in_progress", "done"),
        ("in_progress", "failed"),
        ("open", "cancelled"),
        ("claimed", "cancelled"),
    }
)
#: What a volunteer may set ``status`` to.
VOLUNTEER_STATUSES = frozenset({"claimed", "in_progress", "done", "failed"})
#: What a volunteer may change on a task.
VOLUNTEER_FIELDS = frozenset({"status", "assignee_id", "notes", "proof"})
#: What a task may be created as.
CREATE_STATUSES = frozenset({"open", "claimed"})


def volunteer_values(actor: Actor, op: Op, fields: Mapping[str, object]) -> str | None:
    """Return why a volunteer may not make this change, or ``None``."""
    if actor.role != Role.VOLUNTEER:
        return None
    status = fields.get("status")
    if "status" in fields and status not in VOLUNTEER_STATUSES:
        return "volunteers claim, start, finish or fail tasks"
    if "assignee_id" in fields and (fields["assignee_id"] != actor.user_id or status != "claimed"):
        return "a volunteer assigns a task only to themselves, by claiming it"
    return None


def check_task(ctx: ChangeContext) -> None:
    """Validate across fields: create statuses, and a reason for ``failed``."""
    status = ctx.fields.get("status")
    if ctx.op is Op.CREATE and status not in CREATE_STATUSES:
        raise SyncError(Code.INVALID, "status: a task is created open or claimed", "status")
    current = ctx.current.fields.get("status") if ctx.current is not None else None
    if status == "failed" and current != "failed":
        notes = ctx.fields.get("notes")
        if not (isinstance(notes, str) and notes.strip()):
            raise SyncError(Code.INVALID, "notes: a failed task needs a reason", "notes")


def task_rules(ctx: ChangeContext) -> Ruling | None:
    """Apply the state machine; return the fields to write."""
    if ctx.op is Op.DELETE:
        return None
    fields = dict(ctx.fields)
    if ctx.op is Op.CREATE:
        if fields.get("status") == "claimed" and fields.get("assignee_id") is None:
            fields["assignee_id"] = ctx.actor.user_id
        return Ruling(fields)
    assert ctx.current is not None
    status = ctx.current.fields.get("status")
    holder = ctx.current.fields.get("assignee_id")
    target = fields.get("status")
    if target == "claimed":
        _claim(ctx.actor, status, holder, fields)
    else:
        _check_holder(ctx.actor, status, holder, target)
        if target is not None:
            _move(status, target, fields)
    return Ruling(fields)


def _claim(actor: Actor, status: object, holder: object, fields: dict[str, object]) -> None:
    """Claim the task for the given assignee or the caller."""
    claimant = fields.get("assignee_id") or actor.user_id
    if status in HELD:
        if holder != claimant:
            raise _already_claimed(holder)
        del fields["status"]  # the same user claiming again: nothing to do
        fields.pop("assignee_id", None)
        return
    if status != "open":
        raise _stale(status, "claimed")
    fields["assignee_id"] = claimant


def _check_holder(actor: Actor, status: object, holder: object, target: object) -> None:
    """Let only the holder (or a non-volunteer role) act on a task."""
    if actor.role != Role.VOLUNTEER or holder == actor.user_id:
        return
    if status in HELD:
        raise _already_claimed(holder)
    if target is not None:
        raise _stale(status, target)
    raise SyncError(Code.FORBIDDEN, "only the volunteer holding a task may edit it")


def _move(status: object, target: object, fields: dict[str, object]) -> None:
    """Move along one edge of the diagram, or do nothing when already there."""
    if target == status:
        del fields["status"]
        return
    if (status, target) not in MOVES:
        raise _stale(status, target)


def _already_claimed(holder: object) -> SyncError:
    """Return the ``already_claimed`` error naming the holder."""
    who = holder if isinstance(holder, int) else None
    return SyncError(Code.ALREADY_CLAIMED, f"the task is held by user {who}", "status", who)


def _stale(status: object, target: object) -> SyncError:
    """Return the ``stale_transition`` error for a move the diagram refuses."""
    return SyncError(
        Code.STALE_TRANSITION, f"a task that is {status} cannot become {target}", "status"
    )


TASK = RecordType(
    name="task",
    fields={
        "kind": f.Enum(KINDS),
        "title": f.Text(1, 200),
        "status": f.Enum(STATUSES),
        "compound_id": f.Ref("compound"),
        "building_id": f.Nullable(f.Ref("building", same=("compound_id",))),
        "household_id": f.Nullable(f.Ref("household", same=("compound_id", "building_id"))),
        "assignee_id": f.Nullable(f.UserRef()),
        "priority": f.Integer(1, 3),
        "due_at": f.Nullable(f.DateTime()),
        "notes": f.Nullable(f.Text(0, 2000, multiline=True)),
        "proof": f.Nullable(f.Text(1, 200)),
    },
    required=frozenset({"kind", "title", "status", "compound_id", "priority"}),
    defaults={"status": "open"},
    permissions=Permissions(
        create=frozenset({Role.COORDINATOR}),
        update=frozenset({Role.COORDINATOR, Role.VOLUNTEER}),
        delete=frozenset({Role.COORDINATOR}),
        update_fields={Role.VOLUNTEER: VOLUNTEER_FIELDS},
        value_rule=volunteer_values,
    ),
    scope=compound_field,
    scope_fields=frozenset({"compound_id", "building_id"}),
    merge_exempt=frozenset({"status", "assignee_id"}),
    check=check_task,
    kind_rules=task_rules,
)
