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

The store does the scope filtering (so the SQL store filters in SQL) and
leaves out the types the caller's role does not receive; this module clamps
the arguments and hands each record through :func:`sync.visibility.view`
(the role's sync policy and field visibility), so a page may hold fewer
records than the store read, and its cursor still covers them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sync.actors import Actor
from sync.catalog import REGISTRY
from sync.records import Record, Scope
from sync.registry import Registry, visible_types
from sync.store import Page, Store
from sync.visibility import view

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
    now: datetime | None = None,
) -> Page:
    """Return the page of changes ``actor`` should see after ``cursor``.

    :param limit: at most this many records (``None``: 500; capped at 1000,
        at least 1).
    :param types: only records of these types (an extension of the contract:
        a first sync fetches a user's tasks and buildings before the rest).
    :param now: the time of the pull, for time-window sync policies.
    """
    limit = max(1, min(DEFAULT_LIMIT if limit is None else limit, MAX_LIMIT))
    wanted = visible_types(registry, actor.role)
    if types is not None:
        wanted &= types
    page = store.page(actor.scope, max(0, cursor), limit, frozenset(), wanted)
    records = tuple(
        seen for record in page.records if (seen := view(record, actor, registry, now))
    )
    return Page(records, page.cursor, page.more)


def view_for(
    actor: Actor,
    record: Record,
    moved_from: Scope | None = None,
    registry: Registry = REGISTRY,
    now: datetime | None = None,
) -> Record | None:
    """Return ``record`` as a live event for ``actor`` would carry it, or ``None``.

    ``moved_from`` is the scope the record had before the push
    (:attr:`sync.protocol.PushOutcome.moved`): a user who saw it there and
    does not see it now gets a tombstone, as a pull would give.
    """
    if actor.sees(record.scope):
        return view(record, actor, registry, now)
    if moved_from is not None and actor.sees(moved_from):
        return view(record.tombstone(), actor, registry, now)
    return None


def event_for(
    actor: Actor,
    written: Iterable[Record],
    moved: Mapping[str, Scope],
    registry: Registry = REGISTRY,
    now: datetime | None = None,
) -> list[Record]:
    """Return the records one live event of a commit carries for ``actor``.

    ``written`` and ``moved`` are :attr:`sync.protocol.PushOutcome.written`
    (each record once, latest, in version order) and ``.moved``. Each record
    comes at most once, as :func:`view_for` gives it: a record that moved
    between two places ``actor`` sees is the record, never its tombstone
    (rule 21).

    :param now: the time the event is sent, for the roles' sync policies.
    """
    views = (view_for(actor, record, moved.get(record.id), registry, now) for record in written)
    return [view for view in views if view is not None]
