"""Fill a database at the first schema revision through that revision's own API.

Run by ``scripts/first-revision`` with the first revision's code (``git
archive`` of the commit that added migration ``a40e8fb87a3f``) first on the
path, not today's: ``python scripts/first_revision.py OUT_DIR``. It builds a
SQLite database, seeds the demo as that code did, then, through that code's
HTTP API, signs ``vol-a`` and ``coord`` in, pulls ``vol-a``'s first sync to its
end and pushes a visit and a claim (``vol-a``) and a new task (``coord``). It
writes ``OUT_DIR/first-revision.sql.gz`` (the database as SQL) and
``OUT_DIR/first-revision.json`` (the tokens, ``vol-a``'s cursor, the pushes
and their answers), which ``tests/server/test_migrations.py`` upgrades with
today's code and checks.

Only names that exist in both the first revision and today are used here.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import sys
import tempfile
from pathlib import Path

from server import create_app, database, seed
from server.extensions import db

PASSWORD = "many-small-lights"
MADE_AT = "2022-04-02T10:00:00.000Z"
# Fixed ids: the fixture is the same every time it is rebuilt.
VISIT_ID = "6f1c1f0e-5d4b-4c39-9a55-0d1b8f3c2a01"
TASK_ID = "6f1c1f0e-5d4b-4c39-9a55-0d1b8f3c2a02"
VOL_CHANGESET = "6f1c1f0e-5d4b-4c39-9a55-0d1b8f3c2a03"
COORD_CHANGESET = "6f1c1f0e-5d4b-4c39-9a55-0d1b8f3c2a04"


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "weiguang.db"
        settings = {"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "x" * 40}
        app = create_app({**settings, "ASYNC_MODE": "threading"})
        with app.app_context():
            database.upgrade_schema()
            seed.seed_demo(PASSWORD)
            db.engine.dispose()
        facts = fill(app.test_client())
        with app.app_context():
            db.engine.dispose()
        with sqlite3.connect(path) as connection:
            dump = "\n".join(connection.iterdump()) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "first-revision.sql.gz").write_bytes(gzip.compress(dump.encode(), mtime=0))
    (out / "first-revision.json").write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n")


def fill(client) -> dict:
    """Use the API as devices did then; return what a test needs to check it survived."""
    logins = {name: sign_in(client, name) for name in ("vol-a", "coord")}
    tokens = {name: str(login["token"]) for name, login in logins.items()}
    cursor, records = first_sync(client, tokens["vol-a"])
    household, task, compound = pick(records)
    visit = {
        "type": "visit",
        "id": VISIT_ID,
        "op": "create",
        "fields": {"household_id": household["id"], "outcome": "answered", "present": 2},
    }
    claim = {
        "type": "task",
        "id": task["id"],
        "op": "update",
        "base_version": task["version"],
        "fields": {"status": "claimed", "assignee_id": logins["vol-a"]["user"]["id"]},
    }
    new_task = {
        "type": "task",
        "id": TASK_ID,
        "op": "create",
        "fields": {
            "kind": "garbage",
            "title": "首个版本的任务",
            "status": "open",
            "compound_id": compound,
            "priority": 2,
        },
    }
    pushes = [
        ("vol-a", VOL_CHANGESET, [visit, claim]),
        ("coord", COORD_CHANGESET, [new_task]),
    ]
    answers = []
    for username, changeset_id, changes in pushes:
        body = {
            "client_id": f"first-revision-{username}",
            "changesets": [{"id": changeset_id, "made_at": MADE_AT, "changes": changes}],
        }
        reply = client.post("/api/v1/sync/push", json=body, headers=bearer(tokens[username]))
        assert reply.status_code == 200, reply.get_json()
        answers.append({"username": username, "body": body, "answer": reply.get_json()})
    return {"tokens": tokens, "vol_a_cursor": cursor, "pushes": answers}


def sign_in(client, username: str) -> dict:
    """Return the login's answer (``token``, ``user``)."""
    body = {"username": username, "password": PASSWORD, "device_name": "first revision"}
    reply = client.post("/api/v1/auth/login", json=body)
    assert reply.status_code == 200, reply.get_json()
    return dict(reply.get_json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def first_sync(client, token: str) -> tuple[int, list[dict]]:
    """Pull every page; return the last cursor and the records that came."""
    cursor, records = 0, []
    while True:
        page = client.get(
            "/api/v1/sync/pull", query_string={"cursor": cursor}, headers=bearer(token)
        ).get_json()
        cursor = page["cursor"]
        records += page["changes"]
        if not page["more"]:
            return cursor, records


def pick(records: list[dict]) -> tuple[dict, dict, str]:
    """Return a household, an open task and a compound that ``vol-a`` sees."""
    household = next(r for r in records if r["type"] == "household")
    task = next(r for r in records if r["type"] == "task" and r["fields"]["status"] == "open")
    return household, task, household["fields"]["compound_id"]


if __name__ == "__main__":
    main(Path(sys.argv[1]))
