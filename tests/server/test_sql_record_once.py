"""Rule 21 (``tests/sync/test_record_once.py``) on the SQL store, on SQLite and PostgreSQL."""

from __future__ import annotations

from server.extensions import db
from server.store import SqlStore
from sync import Change, PushOutcome, Store, apply_push
from tests.server.test_sql_convergence import SqlWorld, sql_app  # noqa: F401 (a fixture)
from tests.sync.builders import COORD, RECEIVED, a_changeset, a_push, device_of
from tests.sync.test_record_once import property_test


class SqlMovesWorld:
    """The engine over the SQL store, freshly seeded, one transaction a push."""

    def __init__(self) -> None:
        SqlWorld()

    def push(self, changesets: list[list[Change]]) -> PushOutcome:
        store = SqlStore.for_writing(received_at=RECEIVED)
        request = a_push(*(a_changeset(*cs) for cs in changesets), client_id=device_of(COORD))
        outcome = apply_push(store, COORD, request, RECEIVED)
        store.flush()
        db.session.commit()
        return outcome

    def store(self) -> Store:
        db.session.commit()
        return SqlStore.for_reading()


moves_on_sql = property_test(SqlMovesWorld, 10)


def test_rule_21_on_the_sql_store(sql_app):  # noqa: F811 (the fixture)
    with sql_app.app_context():
        moves_on_sql()
