"""Apply a push: the contract's push rules, enforced.

MUST rules (each has a test named ``test_rule_NN_...`` in
``tests/sync/test_protocol.py``; ``docs/sync.md`` lists them with their tests):

1. A changeset whose contents are malformed — unknown type or op, bad
   values, a bad ``made_at`` or id — is rejected ``invalid``, alone.
2. Changesets apply in order, each atomically: all of its changes or none.
3. A changeset id seen before from the same user returns its recorded
   result and changes nothing, whatever its content now (also within one
   push).
4. A changeset id already used by another user is rejected ``invalid`` on
   its first change, the others ``aborted``; nothing is recorded for it.
5. A rejected changeset is rejected alone; the changesets after it apply.
6. Every change of every changeset is listed; in a rejected changeset the
   change at fault carries its code (the first change for a fault of the
   whole changeset), the others ``aborted``.
7. Checks run in the order scope and role, existence, deleted, immutable,
   validation, the record kind's rules; the first failing one gives the code.
8. Creating a record outside one's scope is ``forbidden``; updating or
   deleting one outside it is ``not_found``.
9. ``conflict.record`` is the server's record, included only when it is in
   the caller's scope (and type) and redacted for the caller's role.
10. Every write gets its own version from the one sequence; the push's
    ``cursor`` is the highest version it wrote, ``None`` if none.
11. Concurrent edits to different fields of one record both apply.
12. Causality first: an edit to a field unchanged since its ``base_version``
    wins; so does an edit to a field whose current value the same install
    (``client_id``) of the same user wrote — a device sees its own edits.
13. The same field changed concurrently: the later ``made_at`` wins, device
    time clamped to the receipt, ties to arrival order; the loser is kept as
    a ``conflict`` record (also between two installs of one user); an
    incoming loser makes its change ``merged`` with ``lost_fields``.
14. ``task.status`` follows its state machine (:mod:`sync.tasks`): a claim
    fills ``assignee_id``; ``already_claimed`` (with the holder) wins over
    ``stale_transition``; the same user claiming again is a no-op
    ``applied`` writing no version; ``done`` is never undone; ``failed``
    needs a reason in ``notes``.
15. Append-only records (``visit``) are never updated or deleted:
    ``immutable``.
16. An update to a deleted record is rejected ``deleted``.
17. Restoring a lost value is an ordinary update plus ``resolved: true`` on
    the conflict, in one changeset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sync.actors import Actor
from sync.catalog import REGISTRY
from sync.changes import (
    Change,
    ChangeResult,
    Changeset,
    ChangesetResult,
    ChangesetStatus,
    ChangeStatus,
    Conflict,
    Push,
)
from sync.errors import Code, SyncError
from sync.records import Record, Scope
from sync.registry import Registry
from sync.signing import Signer
from sync.store import RecordedResult, Store
from sync.times import to_utc_ms
from sync.visibility import view
from sync.workspace import Workspace, Write
from sync.writer import Run, apply_change

ABORTED_DETAIL = "another change of this changeset was rejected"


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """What a push did, for the response and for the live announcement.

    :param results: one per changeset, in order.
    :param cursor: the highest version written, ``None`` if nothing was.
    :param written: every record written, once, in its latest state, in
        version order (conflict records included) — what to announce.
    :param moved: record id → the scope it had before this push, for the
        records the push moved (their old scope's users get a tombstone,
        see :func:`sync.pull.view_for`).
    """

    results: tuple[ChangesetResult, ...]
    cursor: int | None
    written: list[Record]
    moved: Mapping[str, Scope] = field(default_factory=dict)

    def to_wire(self) -> dict[str, object]:
        """Return the contract's push response body."""
        return {"results": [result.to_wire() for result in self.results], "cursor": self.cursor}


def apply_push(
    store: Store,
    actor: Actor,
    push: Push,
    received_at: datetime,
    registry: Registry = REGISTRY,
    signer: Signer | None = None,
) -> PushOutcome:
    """Apply the changesets of ``push`` for ``actor``, in order.

    Call it inside one transaction holding the store's writer lock; commit
    after it returns, then announce ``written``.

    :param received_at: when the server received the push; device times
        later than this count as this.
    :param signer: the server's pass signer (:mod:`sync.signing`); without
        one, issuing a gate pass is rejected ``invalid``.
    """
    ids = [cs.id for cs in push.changesets if cs.id]
    workspace = Workspace(store, *_touched_ids(push, registry))
    run = Run(
        actor,
        registry,
        workspace,
        store.next_version,
        to_utc_ms(received_at),
        push.client_id or None,
        signer,
    )
    session = _Session(store, run, dict(store.recorded_results(ids)))
    written: dict[str, Record] = {}
    moved: dict[str, Scope] = {}
    results = []
    for changeset in push.changesets:
        result, writes = _apply_changeset(session, changeset)
        results.append(result)
        _note_writes(writes, written, moved)
    records = sorted(written.values(), key=lambda record: record.version)
    cursor = records[-1].version if records else None
    return PushOutcome(tuple(results), cursor, records, moved)


@dataclass(frozen=True, slots=True)
class _Session:
    """What the changesets of one push share.

    :param run: what applying their changes needs (:class:`~sync.writer.Run`).
    :param recorded: the results recorded so far, by changeset id.
    """

    store: Store
    run: Run
    recorded: dict[str, RecordedResult]


def _apply_changeset(
    session: _Session, changeset: Changeset
) -> tuple[ChangesetResult, list[Write]]:
    """Apply one changeset atomically, or replay or reject it; record its result."""
    actor, store = session.run.actor, session.store
    prior = session.recorded.get(changeset.id) if changeset.id else None
    if prior is not None and prior.user_id == actor.user_id:
        return ChangesetResult.from_wire(prior.result), []
    if prior is not None:
        problem = "this changeset id is already used by another user"
        return _rejected(changeset, 0, SyncError(Code.INVALID, problem), None), []
    result, writes = _run(session, changeset)
    entry = RecordedResult(actor.user_id, result.to_log())
    # No savepoint: the writes were staged until the whole changeset passed
    # (:mod:`sync.workspace`), and a store call that fails fails the push,
    # whose transaction the caller rolls back. The undo journal a savepoint
    # kept cost a 250-changeset push about 0.1-0.2 ms (issue #16).
    for record, previous_scope in writes:
        store.put(record, previous_scope)
    if changeset.id:
        store.record_result(changeset.id, entry)
        session.recorded[changeset.id] = entry
    return result, writes


def _run(session: _Session, changeset: Changeset) -> tuple[ChangesetResult, list[Write]]:
    """Work out a changeset's result and writes, staging nothing if it fails."""
    if changeset.problem is not None or changeset.made_at is None:
        error = SyncError(Code.INVALID, changeset.problem or "made_at: missing")
        return _rejected(changeset, 0, error, None), []
    run = session.run
    workspace = run.workspace
    run.begin(changeset.id, changeset.made_at)
    changes: list[ChangeResult] = []
    try:
        for index, change in enumerate(changeset.changes):
            changes.append(apply_change(run, index, change))
    except SyncError as error:
        workspace.discard()
        change = changeset.changes[len(changes)]
        server = _server_record(workspace, run.actor, change, run.registry)
        return _rejected(changeset, len(changes), error, server), []
    result = ChangesetResult(changeset.id, ChangesetStatus.APPLIED, tuple(changes))
    return result, workspace.commit()


def _rejected(
    changeset: Changeset,
    fault: int,
    error: SyncError,
    record: Mapping[str, object] | None,
) -> ChangesetResult:
    """List every change of a rejected changeset: the fault, then the aborted."""
    aborted = Conflict(Code.ABORTED, ABORTED_DETAIL)
    at_fault = Conflict(error.code, error.detail, record, error.holder, error.field)
    changes = tuple(
        ChangeResult(
            change.type,
            change.id,
            ChangeStatus.REJECTED,
            conflict=at_fault if index == fault else aborted,
        )
        for index, change in enumerate(changeset.changes)
    )
    return ChangesetResult(changeset.id, ChangesetStatus.REJECTED, changes)


def _server_record(
    workspace: Workspace, actor: Actor, change: Change, registry: Registry
) -> Mapping[str, object] | None:
    """Return the envelope of the record a rejected change is about, if the caller sees it."""
    record = workspace.committed(change.id) if change.id else None
    if record is None or not actor.sees(record.scope):
        return None
    seen = view(record, actor, registry)
    return None if seen is None else seen.envelope()


def _touched_ids(push: Push, registry: Registry) -> tuple[set[str], set[str]]:
    """Return the ids of the records the push may read: its records, and those they name.

    The named ones it reads to check them (``Store.get_many``'s
    ``read_only``); a rule that writes one after all (a compound's new
    ``pass_keys``) is still right, only locked later.
    """
    ids: set[str] = set()
    named: set[str] = set()
    for changeset in push.changesets:
        for change in changeset.changes:
            if change.id:
                ids.add(change.id)
            rtype = registry.get(change.type)
            for name in rtype.references if rtype is not None else ():
                value = change.fields.get(name)
                if value is None:  # most references a change leaves out
                    continue
                if isinstance(value, str):
                    named.add(value)
                elif isinstance(value, list):
                    named.update(each for each in value if isinstance(each, str))
    return ids, named


def _note_writes(writes: list[Write], written: dict[str, Record], moved: dict[str, Scope]) -> None:
    """Keep each record's latest write, and the scope a moved record started in."""
    for record, previous_scope in writes:
        written[record.id] = record
        if previous_scope is not None:
            moved.setdefault(record.id, previous_scope)
