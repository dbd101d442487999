"""Answer pulls and filter live events: what one user sees of the records.

MUST rules (numbered on from those of :mod:`sync.protocol`; tests in
``tests/sync/test_pull.py``):

18. A pull returns every record in the caller's scope whose version is
    greater than the cursor, once, in its latest state, in version order.
19. Its cursor is the high-water mark of everything it considered — the
    store's high water when nothing more matches, also when the page is
    empty; the limit defaults to 500 and is capped at 1000.
20. A record that left the caller's scope comes once more as a tombstone
    (``deleted: true``, ``fields: {}``); records outside the scope never
    appear, other compounds' ``compound`` records included.
21. A record appears at most once per page and per live event, in its
    latest state for the caller: the record if they see it now (also when
    it just left another place they see), else its tombstone. A user sees
    one event per commit (:func:`event_for`), whatever places it touched.

The store does the filtering (so the SQL store filters in SQL); this module
clamps the arguments and applies field visibility.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sync.actors import Actor
from sync.catalog import REGISTRY
from sync.records import Record, Scope
from sync.registry import Registry, hidden_types
from sync.store import Page, Store
from sync.visibility import redact, sees_type

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "changes_since", "event_for", "view_for"]


def changes_since(
    store: Store,
    actor: Actor,
    cursor: int = 0,
    limit: int | None = DEFAULT_LIMIT,
    registry: Registry = REGISTRY,
    types: frozenset[str] | None = None,
) -> Page:
    """Return the page of changes ``actor`` should see after ``cursor``.

    :param limit: at most this many records (``None``: 500; capped at 1000,
        at least 1).
    :param types: only records of these types (an extension of the contract:
        a first sync fetches a user's tasks and buildings before the rest).
    """
    limit = max(1, min(DEFAULT_LIMIT if limit is None else limit, MAX_LIMIT))
    hidden = hidden_types(registry, actor.role)
    page = store.page(actor.scope, max(0, cursor), limit, hidden, types)
    records = tuple(redact(record, actor, registry) for record in page.records)
    return Page(records, page.cursor, page.more)


def view_for(
    actor: Actor,
    record: Record,
    moved_from: Scope | None = None,
    registry: Registry = REGISTRY,
) -> Record | None:
    """Return ``record`` as a live event for ``actor`` would carry it, or ``None``.

    ``moved_from`` is the scope the record had before the push
    (:attr:`sync.protocol.PushOutcome.moved`): a user who saw it there and
    does not see it now gets a tombstone, as a pull would give.
    """
    if not sees_type(actor, record.type, registry):
        return None
    if actor.sees(record.scope):
        return redact(record, actor, registry)
    if moved_from is not None and actor.sees(moved_from):
        return record.tombstone()
    return None


def event_for(
    actor: Actor,
    written: Iterable[Record],
    moved: Mapping[str, Scope],
    registry: Registry = REGISTRY,
) -> list[Record]:
    """Return the records one live event of a commit carries for ``actor``.

    ``written`` and ``moved`` are :attr:`sync.protocol.PushOutcome.written`
    (each record once, latest, in version order) and ``.moved``. Each record
    comes at most once, as :func:`view_for` gives it: a record that moved
    between two places ``actor`` sees is the record, never its tombstone
    (rule 21).
    """
    views = (view_for(actor, record, moved.get(record.id), registry) for record in written)
    return [view for view in views if view is not None]
