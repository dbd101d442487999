"""The rows every push writes carry no foreign keys, and name rows that exist all the same.

``changeset_log.user_id``, ``changeset_log.device_token_id`` (now
``push_log``'s) and ``record_scope.record_id`` lost their foreign keys (issue
#16: 750 checks a push of 250 changesets), and ``changeset_log.push_id``
never had one. What the keys guarded holds because nothing deletes a user, a
device token, a record or a push's row, and the push writes these rows from the
signed-in identity and the records it writes (``docs/sync.md``, "Keys the
push tables do without"): checked here through every way a row is retired.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event, inspect, text

from server.clock import utcnow
from server.extensions import db
from tests.conftest import make_app
from tests.filled import fill
from tests.helpers import bearer
from tests.server.test_purge import a_grant_with_a_reason, run

#: (table, column) of each id a push writes → the table of the row it names.
NAMED = {
    ("push_log", "user_id"): "user_account",
    ("push_log", "device_token_id"): "device_token",
    ("changeset_log", "push_id"): "push_log",
    ("record_scope", "record_id"): "record",
}
#: A statement that removes rows of one of the named tables.
REMOVES = re.compile(
    r"\b(DELETE\s+FROM|TRUNCATE(\s+TABLE)?|DROP\s+TABLE)\s+\"?(user_account|device_token|record|push_log)\b",
    re.IGNORECASE,
)


def orphans() -> dict[tuple[str, str], int]:
    """Return how many rows of each (table, column) of :data:`NAMED` name no row."""
    return {
        (table, column): db.session.scalar(
            text(
                f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL"
                f" AND NOT EXISTS (SELECT 1 FROM {parent} WHERE {parent}.id = {table}.{column})"
            )
        )
        for (table, column), parent in NAMED.items()
    }


def test_the_rows_every_push_writes_carry_no_foreign_key(database_url):
    app = make_app(database_url)
    with app.app_context():
        schema = inspect(db.engine)
        for table in {table for table, _ in NAMED}:
            assert schema.get_foreign_keys(table) == [], table
        db.engine.dispose()


def test_every_id_a_push_wrote_names_a_row_after_revocation_break_glass_and_purge(database_url):
    app = make_app(database_url)
    client = app.test_client()
    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def note(_connection, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        # Pushes of every kind: creates, updates, a conflict, a move to
        # another compound (its scope rows rewritten), a deletion, a rejection.
        filled = fill(client)
        coord = filled.tokens["coord"]
        grant = a_grant_with_a_reason(client, coord, "B区3号楼老人胸痛，需上门")
        ended = client.post(f"/api/v1/break-glass/{grant['id']}/end", headers=bearer(coord))
        assert ended.status_code == 200, ended.get_json()
        out = client.post("/api/v1/auth/logout", headers=bearer(filled.tokens["vol-a"]))
        assert out.status_code == 204
        tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
        purged = run(app, "purge-personal-data", "--before", tomorrow)
        assert purged.exit_code == 0, purged.output
    finally:
        event.remove(engine, "before_cursor_execute", note)

    assert sent
    assert [statement for statement in sent if REMOVES.search(statement)] == []
    with app.app_context():
        counted = {
            (table, column): db.session.scalar(
                text(f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL")
            )
            for table, column in NAMED
        }
        assert all(counted.values()), counted  # each kind of id was written
        assert orphans() == dict.fromkeys(NAMED, 0)
        revoked = db.session.scalar(
            text("SELECT count(*) FROM device_token WHERE revoked_at IS NOT NULL")
        )
        assert revoked == 1
        db.session.commit()
        db.engine.dispose()
