"""``weiguang backup`` and ``weiguang restore``, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import ChangesetLog, RecordRow, SyncState
from tests.conftest import make_app, pg_execute, pg_url_for
from tests.filled import assert_survived, fill, rows_of
from tests.helpers import bearer, sign_in
from tests.server.test_attachments import a_photo, put_photo
from tests.server.test_sync_api import PULL, PUSH, a_changeset, a_task, create, push
from tests.server.test_sync_served import call, login
from tests.servers import ServedApp

TASKS_PER_CHANGESET = 5
PUSHERS = 2
PUSHES_EACH = 30


def require_pg_tools():
    """Skip (or, in CI, fail) a PostgreSQL backup test without pg_dump and pg_restore."""
    if shutil.which("pg_dump") and shutil.which("pg_restore"):
        return
    message = "pg_dump and pg_restore are not installed (Debian: postgresql-client)"
    if os.environ.get("WEIGUANG_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (mandatory in CI; scripts/test installs them)")
    pytest.skip(message)


@pytest.fixture
def empty_url(database_url, tmp_path):
    """Return the URL of an empty database of the same engine as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/restored.db"
        return
    require_pg_tools()
    name = f"wg_restored_{uuid.uuid4().hex[:8]}"
    pg_execute(f"CREATE DATABASE {name}")
    yield pg_url_for(name)
    pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(app, *args):
    """Run a ``weiguang`` command on ``app``; return click's result."""
    return app.test_cli_runner().invoke(args=list(args))


def dispose(*apps):
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_restore_into_an_empty_database_gives_back_every_record_cursor_and_token(
    database_url, empty_url, tmp_path
):
    source = make_app(database_url)
    filled = fill(source.test_client())
    rows = rows_of(database_url)
    backup = str(tmp_path / "weiguang.backup")
    done = run(source, "backup", backup)
    assert done.exit_code == 0, done.output
    restored = make_app(empty_url)
    done = run(restored, "restore", backup)
    assert done.exit_code == 0, done.output
    assert_survived(restored, filled, rows, added_audit=1)
    client = restored.test_client()
    token = sign_in(client, "coord")  # new ids follow the restored ones
    assert push(client, token, a_changeset(create("task", a_task())))["cursor"] > max(
        filled.cursors.values()
    )
    dispose(source, restored)


def test_restore_refuses_a_database_that_is_not_empty(database_url, empty_url, tmp_path):
    source = make_app(database_url)
    backup = str(tmp_path / "weiguang.backup")
    assert run(source, "backup", backup).exit_code == 0
    rows = rows_of(database_url)
    done = run(source, "restore", backup)
    assert done.exit_code != 0
    assert "not empty" in done.output and "empty database" in done.output
    assert rows_of(database_url) == rows
    dispose(source)


def test_a_backup_never_overwrites_a_file(app, tmp_path):
    existing = tmp_path / "precious"
    existing.write_text("keep me")
    done = run(app, "backup", str(existing))
    assert done.exit_code != 0 and "never overwrites" in done.output
    assert existing.read_text() == "keep me"


@pytest.mark.parametrize(
    "content", [b"", b"not a backup at all", b"SQLite format 2\x00", b"PGDM"], ids=repr
)
def test_restore_refuses_a_file_that_is_no_backup(database_url, empty_url, tmp_path, content):
    path = tmp_path / "odd.backup"
    path.write_bytes(content)
    restored = make_app(empty_url)
    done = run(restored, "restore", str(path))
    assert done.exit_code != 0 and "not a Weiguang backup" in done.output
    dispose(restored)


@pytest.mark.postgres
def test_restore_refuses_a_backup_of_the_other_engine(sqlite_url, pg_url, tmp_path):
    backup = str(tmp_path / "sqlite.backup")
    source = make_app(sqlite_url)
    assert run(source, "backup", backup).exit_code == 0
    target = make_app(pg_url)
    done = run(target, "restore", backup)
    assert done.exit_code != 0 and "is a sqlite backup" in done.output
    dispose(source, target)


@pytest.fixture
def readable(request):
    """Return a function giving a database URL that reads a backup file."""

    def read(path, engine_url):
        if engine_url.startswith("sqlite"):
            return f"sqlite:///{path}"
        name = f"wg_backup_{uuid.uuid4().hex[:8]}"
        pg_execute(f"CREATE DATABASE {name}")
        request.addfinalizer(lambda: pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        app = make_app(pg_url_for(name))
        done = run(app, "restore", path)
        assert done.exit_code == 0, done.output
        dispose(app)
        return pg_url_for(name)

    return read


def whole_changesets(url, changeset_ids):
    """Check one backup: each of our changesets there with all its tasks, or absent entirely."""
    app = make_app(url)
    with app.app_context():
        logged = set(db.session.scalars(select(ChangesetLog.id))) & changeset_ids
        titles = Counter(
            fields["title"]
            for fields in db.session.scalars(
                select(RecordRow.fields).where(RecordRow.type == "task")
            )
        )
        high_water = db.session.scalar(select(SyncState.high_water))
        assert high_water == db.session.scalar(select(func.max(RecordRow.version)))
    dispose(app)
    for changeset_id in changeset_ids:
        expected = TASKS_PER_CHANGESET if changeset_id in logged else 0
        assert titles[changeset_id] == expected, "half a changeset in the backup"
    return len(logged)


def test_a_backup_taken_while_pushes_run_holds_whole_changesets(database_url, readable, tmp_path):
    if not database_url.startswith("sqlite"):
        require_pg_tools()
    server = ServedApp(database_url).start()
    changeset_ids, backups, errors = set(), [], []
    pushing = threading.Event()

    def pusher():
        token = login(server.url, "coord")
        try:
            for _ in range(PUSHES_EACH):
                changeset_id = str(uuid.uuid4())
                changeset_ids.add(changeset_id)
                tasks = [
                    create("task", a_task(title=changeset_id)) for _ in range(TASKS_PER_CHANGESET)
                ]
                changeset = a_changeset(*tasks, changeset_id=changeset_id)
                call(
                    server.url, "POST", PUSH, token, {"client_id": "b", "changesets": [changeset]}
                )
                pushing.set()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=pusher) for _ in range(PUSHERS)]
    source = make_app(database_url)
    try:
        for thread in threads:
            thread.start()
        assert pushing.wait(30)
        while any(thread.is_alive() for thread in threads):
            path = str(tmp_path / f"during-{len(backups)}.backup")
            done = run(source, "backup", path)
            assert done.exit_code == 0, done.output
            backups.append(path)
    finally:
        for thread in threads:
            thread.join(60)
        server.stop()
        dispose(source)
    assert not errors, errors
    counts = [
        whole_changesets(readable(path, database_url), changeset_ids) for path in backups[:3]
    ]
    assert any(0 < count < PUSHERS * PUSHES_EACH for count in counts), (
        "no backup was taken mid-run"
    )


def epoch_of(app):
    client = app.test_client()
    return client.get(PULL, headers=bearer(sign_in(client, "vol-a"))).get_json()["epoch"]


def test_a_restore_gives_the_database_a_new_epoch_that_pulls_name(
    database_url, empty_url, tmp_path
):
    """A device whose cursor passed the backup learns from the epoch that it must pull again."""
    source = make_app(database_url)
    original = epoch_of(source)
    backup = str(tmp_path / "weiguang.backup")
    assert run(source, "backup", backup).exit_code == 0
    restored = make_app(empty_url)
    done = run(restored, "restore", backup)
    assert done.exit_code == 0, done.output
    first = epoch_of(restored)
    assert first != original and epoch_of(restored) == first
    again = str(tmp_path / "again.backup")
    assert run(restored, "backup", again).exit_code == 0
    dispose(source, restored)
    second_url = f"sqlite:///{tmp_path}/second.db" if empty_url.startswith("sqlite") else None
    if second_url is not None:  # one more restore on SQLite: each restore is a new epoch
        second = make_app(second_url)
        assert run(second, "restore", again).exit_code == 0
        assert epoch_of(second) not in (original, first)
        dispose(second)


def test_a_restored_database_gives_back_every_photo_to_those_who_may_see_it(
    database_url, empty_url, tmp_path
):
    source = make_app(database_url)
    client = source.test_client()
    coord, volunteer = sign_in(client, "coord"), sign_in(client, "vol-a")
    task = create("task", a_task())
    push(client, coord, a_changeset(task))
    sent = put_photo(client, coord, task["id"], "task_proof", a_photo())
    assert sent.status_code == 201, sent.get_json()
    backup = str(tmp_path / "weiguang.backup")
    assert run(source, "backup", backup).exit_code == 0
    restored = make_app(empty_url)
    done = run(restored, "restore", backup)
    assert done.exit_code == 0, done.output
    client = restored.test_client()
    url = f"/api/v1/attachments/{sent.get_json()['id']}"
    got = client.get(url, headers=bearer(sign_in(client, "coord")))
    assert got.status_code == 200 and got.data == a_photo()
    assert client.get(url, headers=bearer(volunteer)).status_code == 404  # not the assignee
    dispose(source, restored)
