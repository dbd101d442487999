"""SQLite's WAL is checkpointed by a thread of its own, not by commits (``server/checkpoints.py``).

The thread copies committed pages into the database file without any commit
doing it; it stops with its engine and leaves no file open; a reader that
pins a snapshot fails no write, and once it ends the WAL shrinks back; if
the thread falls behind, commits checkpoint by themselves past the backstop;
a failing thread logs once and never creates a database file.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import pytest
from sqlalchemy import text

from server import checkpoints
from server.extensions import db
from tests.conftest import make_app

# How long a test waits for the thread to do what it does every round.
PATIENCE_S = 20
# A round as short as a test wants it.
TEST_ROUND_S = 0.05
BLOB_BYTES = 1_000_000  # about 250 pages: short of both thresholds below
KIB = 1024


@pytest.fixture
def database_file(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY_S", TEST_ROUND_S)
    return tmp_path / "weiguang.db"


@pytest.fixture
def engine_on(database_file):
    """Yield a function giving a new app's engine on ``database_file``; dispose of them after."""
    engines = []

    def engine_on_file():
        app = make_app(f"sqlite:///{database_file}")
        with app.app_context():
            engines.append(db.engine)
        with engines[-1].begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS blob (body BLOB)"))
        return engines[-1]

    yield engine_on_file
    for engine in engines:
        engine.dispose()


def write_blob(engine, size=BLOB_BYTES):
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO blob VALUES (randomblob(:size))"), {"size": size})


def checkpoint_threads():
    return {thread for thread in threading.enumerate() if thread.name == checkpoints.THREAD_NAME}


def wait_for(condition):
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, "not within the test's patience"
        time.sleep(TEST_ROUND_S)


def open_files():
    return {os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")}


def test_the_thread_copies_commits_into_the_database_file_without_a_commit_doing_it(
    engine_on, database_file
):
    engine = engine_on()
    before = database_file.stat().st_size
    write_blob(engine)  # commits to the WAL, far from any automatic checkpoint
    wait_for(lambda: database_file.stat().st_size >= before + BLOB_BYTES)


def test_the_thread_ends_with_its_engine_and_leaves_no_file_open(engine_on, database_file):
    others = checkpoint_threads()
    engine = engine_on()
    ours = checkpoint_threads() - others
    assert len(ours) == 1
    wait_for(lambda: str(database_file) in open_files())
    engine.dispose()
    assert not ours & checkpoint_threads()
    assert not {path for path in open_files() if path.startswith(str(database_file))}
    with engine.connect():  # a disposed engine still works, and checkpoints again
        assert len(checkpoint_threads() - others) == 1


def test_a_database_in_memory_gets_no_thread():
    others = checkpoint_threads()
    app = make_app("sqlite://")
    with app.app_context():
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            assert checkpoint_threads() == others
        db.engine.dispose()


def test_a_reader_pinning_a_snapshot_fails_no_write_and_the_wal_shrinks_after_it(
    engine_on, database_file, monkeypatch
):
    monkeypatch.setattr(checkpoints, "JOURNAL_SIZE_LIMIT_BYTES", 256 * KIB)
    wal = database_file.with_name(database_file.name + "-wal")
    engine = engine_on()
    with engine.connect() as reader:
        reader.execute(text("SELECT count(*) FROM blob"))  # holds its snapshot until rollback
        for _ in range(4):
            write_blob(engine)
        time.sleep(4 * TEST_ROUND_S)  # rounds that could not pass the reader
        assert wal.stat().st_size > 4 * BLOB_BYTES
        reader.rollback()

    def wal_started_over_small():
        write_blob(engine, size=KIB)
        return wal.stat().st_size <= 256 * KIB

    wait_for(wal_started_over_small)


def test_commits_checkpoint_by_themselves_past_the_backstop_if_the_thread_falls_behind(
    engine_on, database_file, monkeypatch
):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY_S", 3600)  # a thread that never comes
    monkeypatch.setattr(checkpoints, "AUTOCHECKPOINT_PAGES", 100)
    engine = engine_on()
    before = database_file.stat().st_size
    write_blob(engine)
    assert database_file.stat().st_size >= before + BLOB_BYTES


def test_the_wal_the_backstop_allows_starts_over_in_place_not_cut_back(engine_on):
    # journal_size_limit truncates a WAL past it at each restart: below the
    # backstop's WAL, every backstop checkpoint under steady pushes would cut
    # the file back and regrow it (issue #16).
    with engine_on().connect() as connection:
        page_size = connection.execute(text("PRAGMA page_size")).scalar_one()
        limit = connection.execute(text("PRAGMA journal_size_limit")).scalar_one()
    wal_header, frame_header = 32, 24
    backstop_wal = wal_header + checkpoints.AUTOCHECKPOINT_PAGES * (page_size + frame_header)
    assert limit == checkpoints.JOURNAL_SIZE_LIMIT_BYTES
    assert limit > backstop_wal


def test_a_failing_thread_logs_its_first_failure_once_and_creates_no_file(database_file, caplog):
    checkpointer = checkpoints.Checkpointer()

    def reported():
        checkpointer.report()  # what each request's checkin does
        return caplog.records

    checkpointer.start(str(database_file))  # no such file: it cannot open it
    try:
        with caplog.at_level(logging.DEBUG, logger=checkpoints.LOGGER.name):
            wait_for(reported)
            time.sleep(4 * TEST_ROUND_S)  # rounds that fail again
            reported()
        assert checkpointer.running()
    finally:
        checkpointer.stop()
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "unable to open database file" in caplog.text
    assert not database_file.exists()
