"""The records one push reads and writes, with a per-changeset overlay.

Everything a push touches is fetched once up front (:meth:`Store.get_many`);
a changeset's writes are staged here and reach the store only if the whole
changeset passes, so a rejected changeset leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable

from sync.records import Record, Scope
from sync.store import Store

#: A staged write: the new record, and the scope it left (if it moved).
Write = tuple[Record, Scope | None]


class Workspace:
    """Serve lookups from the prefetch, the staged writes, then the store."""

    def __init__(
        self, store: Store, record_ids: Iterable[str], read_only: Iterable[str] = ()
    ) -> None:
        """Prefetch ``record_ids``, and ``read_only``: those only read (:meth:`Store.get_many`)."""
        ids = set(record_ids)
        only_read = set(read_only) - ids
        every = ids | only_read
        self._store = store
        self._known: dict[str, Record | None] = dict.fromkeys(every)
        self._known.update(store.get_many(every, only_read))
        self._staged: dict[str, Record] = {}
        self._writes: list[Write] = []

    def lookup(self, record_id: str) -> Record | None:
        """Return the record as the current changeset sees it, or ``None``."""
        staged = self._staged.get(record_id)
        if staged is not None:
            return staged
        if record_id not in self._known:
            self._known[record_id] = self._store.get(record_id)
        return self._known[record_id]

    def committed(self, record_id: str) -> Record | None:
        """Return the record as it was before the current changeset."""
        if record_id not in self._known:
            self._known[record_id] = self._store.get(record_id)
        return self._known[record_id]

    def stage(self, record: Record, previous_scope: Scope | None) -> None:
        """Stage a write of the current changeset."""
        self._staged[record.id] = record
        self._writes.append((record, previous_scope))

    def commit(self) -> list[Write]:
        """End the changeset, keeping its writes; return them in order."""
        self._known.update(self._staged)
        self._staged.clear()
        writes, self._writes = self._writes, []
        return writes

    def discard(self) -> None:
        """End the changeset, dropping its writes."""
        self._staged.clear()
        self._writes.clear()
