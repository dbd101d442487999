"""Rule 21: a record appears at most once per pull page and per live event, latest.

Issue 7, item 11: a task moved from compound A to B reached a user who sees
both as the record and as a tombstone at the same version, in an order that
depended on string hashing. The property below moves tasks at random among
compounds and buildings, a few changes a push, and checks for users of every
scope shape that every live event (:func:`sync.pull.event_for`) and every
pull page holds each record once, in its latest state for that user, and
that a device following only events ends where a full pull ends.
``tests/server/test_sql_record_once.py`` runs it on the SQL store;
``tests/server/test_live_record_once.py`` checks the sockets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import Actor, Change, PushOutcome, Record, Store, changes_since
from sync.pull import event_for
from sync.visibility import view
from tests.sync.builders import (
    BUILDING_A,
    BUILDING_B,
    COMPOUND_A,
    COMPOUND_B,
    COORD,
    TASK_A,
    TASK_B,
    a_changeset,
    a_create,
    a_delete,
    an_actor,
    an_update,
    push,
    seed_world,
    stable_id,
    task_fields,
)

TASK_C = stable_id("task", "C")
TASKS = (TASK_A, TASK_B, TASK_C)
#: Where a task may be: a compound, with or without one of its buildings.
PLACES = (
    (COMPOUND_A, None),
    (COMPOUND_A, BUILDING_A),
    (COMPOUND_B, None),
    (COMPOUND_B, BUILDING_B),
)
#: Users of every scope shape: everything, one or two compounds, one or two
#: buildings, a compound and another compound's building, nothing.
VIEWERS = (
    an_actor("coordinator", 20, everything=True),
    an_actor("coordinator", 21, (COMPOUND_A,)),
    an_actor("volunteer", 22, (COMPOUND_B,)),
    an_actor("coordinator", 23, (COMPOUND_A, COMPOUND_B)),
    an_actor("guard", 24, (COMPOUND_A, COMPOUND_B)),
    an_actor("volunteer", 25, buildings=(BUILDING_A,)),
    an_actor("coordinator", 26, buildings=(BUILDING_A, BUILDING_B)),
    an_actor("team_leader", 27, (COMPOUND_A,), (BUILDING_B,)),
    an_actor("coordinator", 28),
)

#: One change: (task index, action, place index); a push is 1–4 of them, in
#: one changeset or one each.
changes = st.tuples(
    st.integers(0, len(TASKS) - 1),
    st.sampled_from(("move", "move", "move", "edit", "delete")),
    st.integers(0, len(PLACES) - 1),
)
pushes = st.lists(
    st.tuples(st.lists(changes, min_size=1, max_size=4), st.booleans(), st.integers(1, 5)),
    min_size=1,
    max_size=12,
)


class World(Protocol):
    """Somewhere to push and pull: the engine over one store."""

    def push(self, changesets: list[list[Change]]) -> PushOutcome:
        """Apply a push by the coordinator; return its outcome."""
        ...

    def store(self) -> Store:
        """Return a store showing everything committed."""
        ...


class MemoryWorld:
    """The engine over a seeded memory store."""

    def __init__(self) -> None:
        from sync import MemoryStore

        self._store = MemoryStore()
        seed_world(self._store)

    def push(self, changesets: list[list[Change]]) -> PushOutcome:
        return push(self._store, COORD, *(a_changeset(*cs) for cs in changesets))

    def store(self) -> Store:
        return self._store


def change_of(task: str, action: str, place: int, n: int) -> Change:
    """Return the change one step asks for."""
    compound, building = PLACES[place]
    if action == "delete":
        return a_delete(task)
    if action == "edit":
        return an_update(task, title=f"edit {n}")
    return an_update(task, compound_id=compound, building_id=building)


def expected(store: Store, viewer: Actor, record: Record) -> dict[str, object]:
    """Return the latest state of ``record`` for ``viewer``: itself if seen, else a tombstone."""
    current = store.get(record.id)
    assert current is not None
    if viewer.sees(current.scope):
        seen = view(current, viewer)
        assert seen is not None
        return seen.envelope()
    return current.tombstone().envelope() | {"version": record.version}


def check_unique_and_latest(store: Store, viewer: Actor, records: tuple[Record, ...]) -> None:
    """Check that ``records`` hold each id once, each in its latest state for ``viewer``."""
    ids = [record.id for record in records]
    assert len(ids) == len(set(ids)), f"{viewer}: a record twice in {ids}"
    for record in records:
        assert record.envelope() == expected(store, viewer, record), viewer


def pull(store: Store, viewer: Actor, cursor: int, limit: int) -> tuple[dict[str, dict], int]:
    """Pull from ``cursor`` in pages of ``limit``, checking each page; return envelopes by id."""
    seen: dict[str, dict] = {}
    while True:
        page = changes_since(store, viewer, cursor, limit)
        check_unique_and_latest(store, viewer, page.records)
        seen.update({record.id: record.envelope() for record in page.records})
        cursor = page.cursor
        if not page.more:
            return seen, cursor


def visible(envelopes: dict[str, dict]) -> dict[str, dict]:
    """Return the envelopes of live records."""
    return {rid: env for rid, env in envelopes.items() if not env["deleted"]}


def run(world: World, steps: list[tuple[list[tuple[int, str, int]], bool, int]]) -> None:
    """Play ``steps`` and check rule 21 for every viewer after every push."""
    world.push([[a_create("task", TASK_C, **task_fields(COMPOUND_B))]])
    followed = {viewer: pull(world.store(), viewer, 0, 1000) for viewer in VIEWERS}
    for n, (wanted, one_changeset, limit) in enumerate(steps):
        made = [change_of(TASKS[t], action, place, n) for t, action, place in wanted]
        outcome = world.push([made] if one_changeset else [[change] for change in made])
        store = world.store()
        for viewer in VIEWERS:
            event = tuple(event_for(viewer, outcome.written, outcome.moved))
            check_unique_and_latest(store, viewer, event)
            mirror, cursor = followed[viewer]
            mirror.update({record.id: record.envelope() for record in event})
            pulled, cursor = pull(store, viewer, cursor, limit)
            followed[viewer] = (mirror, cursor)
            assert visible(mirror | pulled) == visible(mirror), viewer
    store = world.store()
    for viewer in VIEWERS:
        everything, _ = pull(store, viewer, 0, 1000)
        assert visible(followed[viewer][0]) == visible(everything), viewer


def property_test(make_world: Callable[[], World], examples: int) -> Callable[..., None]:
    """Return the Hypothesis test of rule 21 over worlds made by ``make_world``."""

    @settings(
        max_examples=examples,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(steps=pushes)
    def test(steps: list[tuple[list[tuple[int, str, int]], bool, int]]) -> None:
        run(make_world(), steps)

    return test


test_rule_21_a_record_is_once_per_page_and_event_in_its_latest_state = property_test(
    MemoryWorld, 100
)


def test_rule_21_a_task_moved_between_two_seen_compounds_is_the_record_only() -> None:
    # The example of issue 7, item 11.
    world = MemoryWorld()
    both = an_actor("coordinator", 23, (COMPOUND_A, COMPOUND_B))
    before = world.store().high_water()
    outcome = world.push([[an_update(TASK_A, compound_id=COMPOUND_B, building_id=None)]])
    (event,) = event_for(both, outcome.written, outcome.moved)
    assert (event.id, event.deleted, event.fields["compound_id"]) == (TASK_A, False, COMPOUND_B)
    (page,) = changes_since(world.store(), both, before).records
    assert page.envelope() == event.envelope()
