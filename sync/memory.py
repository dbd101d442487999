"""An in-memory store: the reference implementation of :class:`sync.store.Store`.

Used by the tests and the simulator; it passes the same contract suite as the
SQL store. A log of ``(version, record id)`` in version order serves pulls in
``O(log n + k)``; entries made stale by a later write of the same record are
skipped. A second log of scope exits, merged in, yields the tombstones.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Collection, Iterable
from dataclasses import replace

from sync.actors import UserScope
from sync.records import Record, Scope
from sync.store import Page, RecordedResult


class MemoryStore:
    """Keep records, scope exits and recorded results in dicts."""

    def __init__(self) -> None:
        self._records: dict[str, Record] = {}
        self._log: list[tuple[int, str]] = []
        self._exits: dict[str, list[tuple[int, Scope]]] = {}
        self._exit_log: list[tuple[int, str]] = []
        self._results: dict[str, RecordedResult] = {}
        self._version = 0

    def get(self, record_id: str) -> Record | None:
        """Return the record with ``record_id``, or ``None``."""
        return self._records.get(record_id)

    def get_many(
        self, record_ids: Collection[str], read_only: Collection[str] = ()
    ) -> dict[str, Record]:
        """Return the existing records among ``record_ids`` (one push at a time: no locks)."""
        records = self._records
        return {rid: records[rid] for rid in record_ids if rid in records}

    def put(self, record: Record, previous_scope: Scope | None) -> None:
        """Insert or replace ``record``; remember a scope it left."""
        self._records[record.id] = record
        entry = (record.version, record.id)
        if not self._log or self._log[-1] < entry:
            self._log.append(entry)
        else:
            bisect.insort(self._log, entry)
        if previous_scope is not None and previous_scope != record.scope:
            exits = self._exits.setdefault(record.id, [])
            exits.append((record.version, previous_scope))
            self._exit_log.append(entry)

    def next_version(self) -> int:
        """Take the next version (never given back, like a sequence)."""
        self._version += 1
        return self._version

    def high_water(self) -> int:
        """Return the highest version taken."""
        return self._version

    def recorded_results(self, changeset_ids: Collection[str]) -> dict[str, RecordedResult]:
        """Return the recorded results of the changesets seen before."""
        results = self._results
        return {cid: results[cid] for cid in changeset_ids if cid in results}

    def record_result(self, changeset_id: str, result: RecordedResult) -> None:
        """Record the result of a changeset."""
        self._results[changeset_id] = result

    def page(
        self,
        scope: UserScope,
        cursor: int,
        limit: int,
        exclude_types: frozenset[str],
        only_types: frozenset[str] | None = None,
    ) -> Page:
        """Return one pull page (see :meth:`sync.store.Store.page`)."""
        found: list[Record] = []
        for version, record_id, is_exit in self._events_after(cursor):
            record = self._records[record_id]
            if record.type in exclude_types or (
                only_types is not None and record.type not in only_types
            ):
                continue
            if is_exit:
                if scope.covers(record.scope) or self._last_exit(record_id, scope) != version:
                    continue
                found.append(replace(record.tombstone(), version=version))
            elif record.version == version and scope.covers(record.scope):
                found.append(replace(record, stamps={}))
            else:
                continue
            if len(found) > limit:
                return Page(tuple(found[:limit]), found[limit - 1].version, True)
        return Page(tuple(found), self._version, False)

    def _events_after(self, cursor: int) -> Iterable[tuple[int, str, bool]]:
        """Yield writes and scope exits after ``cursor`` in version order."""
        after = (cursor, "\U0010ffff")
        writes = self._log[bisect.bisect_right(self._log, after) :]
        exits = self._exit_log[bisect.bisect_right(self._exit_log, after) :]
        return heapq.merge(
            ((version, rid, False) for version, rid in writes),
            ((version, rid, True) for version, rid in exits),
        )

    def _last_exit(self, record_id: str, scope: UserScope) -> int | None:
        """Return the version of the record's latest exit from a scope ``scope`` covers."""
        versions = [v for v, left in self._exits.get(record_id, ()) if scope.covers(left)]
        return max(versions, default=None)
