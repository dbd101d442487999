"""The store port: what the engine needs from storage.

Two implementations pass one contract suite (``tests/sync/store_contract.py``):
:class:`sync.memory.MemoryStore` and the SQLAlchemy store in ``server/``.

The engine calls a store from inside one database transaction that the
caller opens, holds the writer lock for (the SQL store locks the version
row first), and commits after :func:`sync.protocol.apply_push` returns. That
lock is what makes versions commit in version order, so a pull that reads up
to the high-water mark never skips a change.

A push of ``n`` changesets costs the store one :meth:`Store.recorded_results`,
one :meth:`Store.get_many`, then per changeset a ``put`` of each of its
writes (none if it was rejected) and one ``record_result``; :meth:`Store.get`
is only for ids a hook reaches that the prefetch did not foresee. The engine
stages a changeset's writes (:mod:`sync.workspace`) and hands them over only
once the whole changeset passed, so no store needs a savepoint: a store
call that fails fails the push, whose transaction the caller rolls back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sync.actors import UserScope
from sync.records import Record, Scope
from sync.values import value_class


@value_class
class RecordedResult:
    """The recorded outcome of a changeset: who pushed it and the wire result.

    ``result`` is :meth:`sync.changes.ChangesetResult.to_wire`'s dict, JSON-able.
    """

    user_id: int
    result: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a pull: records (tombstones included), the next cursor, ``more``."""

    records: tuple[Record, ...]
    cursor: int
    more: bool

    def to_wire(self) -> dict[str, object]:
        """Return the contract's pull response body."""
        return {
            "changes": [record.envelope() for record in self.records],
            "cursor": self.cursor,
            "more": self.more,
        }


class Store(Protocol):
    """Storage of records, versions and recorded changeset results."""

    def get(self, record_id: str) -> Record | None:
        """Return the record with ``record_id`` (deleted ones too), or ``None``."""
        ...

    def get_many(
        self, record_ids: Collection[str], read_only: Collection[str] = ()
    ) -> dict[str, Record]:
        """Return the records among ``record_ids`` that exist (deleted ones too).

        One query for a whole push: the engine prefetches every record it
        will touch.

        :param read_only: those of ``record_ids`` the push only reads (the
            records its changes name); the others it may write. A store
            whose pushes run side by side locks the first for reading only,
            the others for writing (``docs/sync.md``, "Parallel pushes on
            PostgreSQL").
        """
        ...

    def put(self, record: Record, previous_scope: Scope | None) -> None:
        """Insert ``record`` or replace the stored record with its id.

        ``record.version`` is fresh from :meth:`next_version`. When this
        write moves the record, ``previous_scope`` is the scope it had before
        (else ``None``): the store remembers that the record left it at
        ``record.version``, so :meth:`page` sends it as a tombstone to whoever
        saw it there and sees it no more.
        """
        ...

    def next_version(self) -> int:
        """Take the next version from the one increasing sequence.

        Versions never repeat; a version taken by a changeset that was then
        rejected is simply never used (gaps are fine).
        """
        ...

    def high_water(self) -> int:
        """Return the highest version taken so far (0 for an empty store)."""
        ...

    def recorded_results(self, changeset_ids: Collection[str]) -> dict[str, RecordedResult]:
        """Return the recorded results of those of ``changeset_ids`` seen before."""
        ...

    def record_result(self, changeset_id: str, result: RecordedResult) -> None:
        """Record the result of a changeset, in the same transaction as its effects.

        Called once per changeset id (the engine checks first).
        """
        ...

    def page(
        self,
        scope: UserScope,
        cursor: int,
        limit: int,
        exclude_types: frozenset[str],
        only_types: frozenset[str] | None = None,
    ) -> Page:
        """Return one pull page for ``scope``, after ``cursor``, of at most ``limit`` records.

        In version order, skipping types in ``exclude_types`` (and, when
        ``only_types`` is given, types not in it):

        - every record with version > ``cursor`` whose scope ``scope`` covers,
          once, in its latest state (deleted or not);
        - for every record ``scope`` does not cover now that left a scope
          ``scope`` covers at a version > ``cursor``: one tombstone
          (:meth:`Record.tombstone`) carrying the version of its latest such
          exit. The tombstone sits at the exit's version, not the record's,
          so a page that ends between the two cannot skip it.

        ``more`` is true when records beyond the page may match; ``cursor`` is
        then the last record's version, else :meth:`high_water` (so a client
        pulling from it skips nothing and sees nothing twice).

        The records carry no stamps (``stamps`` is empty): a pull never
        sends them, and :meth:`get` has them.
        """
        ...
