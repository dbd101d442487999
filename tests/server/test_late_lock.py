"""A push that takes the version lock late ends as if the pushes had run one after the other.

``server.store.apply_late`` reads, judges and stamps without the lock and
takes it to write. Another push may commit in between: whatever it does, the
database, the versions and the answer must be those of running it first and
this push after it, with the lock taken first (the order they committed in).
A matrix over what the other push does, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from server.extensions import db
from server.models import ChangesetLog, RecordRow, RecordScope, ScopeExit, SyncState
from server.store import PROVISIONAL, Provisional, SqlStore, apply_late
from sync import Actor, Push, PushOutcome, apply_push
from tests.server.test_sql_convergence import SqlWorld, sql_app  # noqa: F401 (a fixture)
from tests.sync.builders import (
    COORD,
    HOUSEHOLD_A,
    RECEIVED,
    TASK_A,
    TASK_B,
    a_changeset,
    a_create,
    a_push,
    an_update,
    device_of,
    new_id,
    stable_id,
)

NEW_VISIT = stable_id("visit", "late")


def ours() -> Push:
    """This push: an edit of task A and a new visit, in one changeset."""
    return a_push(
        a_changeset(
            an_update(TASK_A, 0, notes="ours"),
            a_create("visit", NEW_VISIT, household_id=HOUSEHOLD_A, outcome="answered", present=2),
        ),
        client_id=device_of(COORD),
    )


# What the other push does between this push's reads and its lock.
OTHERS: dict[str, Callable[[Push], tuple[Actor, Push]]] = {
    "nothing this push read": lambda mine: (
        COORD,
        a_push(a_changeset(an_update(TASK_B, 0, notes="theirs")), client_id=device_of(COORD)),
    ),
    "edits the record this push edits": lambda mine: (
        COORD,
        a_push(a_changeset(an_update(TASK_A, 0, notes="theirs")), client_id=device_of(COORD)),
    ),
    "creates the record this push creates": lambda mine: (
        COORD,
        a_push(
            a_changeset(
                a_create(
                    "visit", NEW_VISIT, household_id=HOUSEHOLD_A, outcome="answered", present=3
                )
            ),
            client_id=device_of(COORD),
        ),
    ),
    "records this push's changeset (its device retried)": lambda mine: (COORD, mine),
    "moves a record out of a scope": lambda mine: (
        COORD,
        a_push(
            a_changeset(an_update(TASK_B, 0, building_id=None)),
            client_id=device_of(COORD),
        ),
    ),
}
# Pushes that must fall back to the lock taken first.
STALE = {
    "edits the record this push edits",
    "creates the record this push creates",
    "records this push's changeset (its device retried)",
}


def commit_locked(actor: Actor, pushed: Push) -> None:
    """Apply a push with the lock taken first, in a transaction of its own (another thread)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    failure: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                store = SqlStore.for_writing()
                outcome = apply_push(store, actor, pushed, RECEIVED)
                assert [r.status for r in outcome.results] == ["applied"], outcome.to_wire()
                store.flush()
                db.session.commit()
            except BaseException as error:  # reported by the test's thread
                failure.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not failure, failure


def snapshot(*pushes: Push) -> dict[str, Any]:
    """Return every row a push writes, in a comparable form (the logs of ``pushes``)."""
    logged = {changeset.id for pushed in pushes for changeset in pushed.changesets}
    db.session.commit()
    records = db.session.execute(select(RecordRow).order_by(RecordRow.id)).scalars()
    return {
        "records": [
            (r.id, r.type, r.version, r.deleted, r.fields, r.stamps, r.scope) for r in records
        ],
        "scopes": sorted(
            db.session.execute(
                select(RecordScope.record_id, RecordScope.compound_id, RecordScope.building_id)
            ).all()
        ),
        "exits": sorted(
            db.session.execute(
                select(ScopeExit.record_id, ScopeExit.compound_id, ScopeExit.version)
            ).all()
        ),
        "results": sorted(
            (row.id, row.user_id, json.dumps(row.result, sort_keys=True))
            for row in db.session.execute(select(ChangesetLog)).scalars()
            if row.id in logged
        ),
        "high_water": db.session.scalar(select(SyncState.high_water)),
    }


def only_ints(value: Any) -> bool:
    """Tell whether no provisional version is left anywhere in a wire value."""
    if isinstance(value, dict):
        return all(only_ints(item) for item in value.values())
    if isinstance(value, list):
        return all(only_ints(item) for item in value)
    return not isinstance(value, Provisional) and not (
        isinstance(value, int) and value >= PROVISIONAL
    )


@pytest.mark.parametrize("other", sorted(OTHERS))
def test_a_late_push_ends_as_if_run_after_the_push_that_committed_first(
    sql_app,  # noqa: F811 (the fixture)
    monkeypatch,
    other,
):
    with sql_app.app_context():
        mine = ours()
        actor, theirs = OTHERS[other](mine)

        # Serially: theirs, then ours, each locking first.
        SqlWorld()
        commit_locked(actor, theirs)
        store = SqlStore.for_writing()
        expected = apply_push(store, COORD, mine, RECEIVED).to_wire()
        store.flush()
        # A visit is never made twice: ours is then rejected, the same either way.
        applied = "rejected" if other == "creates the record this push creates" else "applied"
        assert expected["results"][0]["status"] == applied, expected
        expected_rows = snapshot(mine, theirs)

        # Ours late, with theirs committing between our reads and our lock.
        SqlWorld()
        lock = SqlStore._lock
        calls: list[str] = []

        def theirs_first(self: SqlStore) -> None:
            if not calls:
                commit_locked(actor, theirs)
            calls.append("lock")
            lock(self)

        monkeypatch.setattr(SqlStore, "_lock", theirs_first)
        again: list[bool] = []
        outcome, store = apply_late(
            lambda s: apply_push(s, COORD, mine, RECEIVED),
            on_again=lambda: again.append(True),
            received_at=RECEIVED,
        )
        db.session.commit()
        settled: PushOutcome = store.settled(outcome)

        assert again == ([True] if other in STALE else [])
        assert settled.to_wire() == expected
        assert only_ints(settled.to_wire())
        assert all(only_ints(record.envelope()) for record in settled.written)
        assert snapshot(mine, theirs) == expected_rows


def test_a_late_push_that_writes_nothing_never_locks(sql_app, monkeypatch):  # noqa: F811
    with sql_app.app_context():
        SqlWorld()
        locked: list[bool] = []
        monkeypatch.setattr(SqlStore, "_lock", lambda self: locked.append(True))
        # A changeset with no id records no result and this one writes nothing.
        replay = a_push(a_changeset(an_update(TASK_A, 0), id=None), client_id=new_id())
        outcome, store = apply_late(
            lambda s: apply_push(s, COORD, replay, RECEIVED), received_at=RECEIVED
        )
        db.session.commit()
        assert (locked, store.settled(outcome).cursor) == ([], None)


def test_a_read_outside_the_store_makes_the_push_lock_first(sql_app):  # noqa: F811
    with sql_app.app_context():
        SqlWorld()
        again: list[bool] = []

        def apply(store: SqlStore) -> PushOutcome:
            store.demand_lock()  # as the gate pass signer does before reading keys
            return apply_push(store, COORD, ours(), RECEIVED)

        outcome, store = apply_late(apply, on_again=lambda: again.append(True))
        db.session.commit()
        assert again == [True]
        assert store.settled(outcome).results[0].status == "applied"
