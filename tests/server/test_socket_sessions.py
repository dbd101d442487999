"""Socket rows of a dead process go: the heartbeat keeps a process's own, sweeps the stale."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta

import pytest
import socketio
from sqlalchemy import select

from server import socket_sessions
from server.clock import utcnow
from server.extensions import db
from server.models import DeviceToken, SocketSession
from tests.helpers import sign_in
from tests.servers import ServedApp, login

BEAT_S = 30


@pytest.mark.parametrize(
    ("owner", "beats_ago", "kept"),
    [
        ("this", 0, True),
        ("this", 10, True),  # its own rows are marked alive by the beat itself
        ("other", 0, True),
        ("other", socket_sessions.STALE_BEATS - 1, True),
        ("other", socket_sessions.STALE_BEATS + 1, False),
        ("other", 1000, False),
    ],
)
def test_a_beat_keeps_live_rows_and_sweeps_the_stale_ones(app, client, owner, beats_ago, kept):
    sign_in(client, "vol-a")
    now = utcnow()
    with app.app_context():
        device_id = db.session.scalar(select(DeviceToken.id))
        last_seen = now - timedelta(seconds=BEAT_S * beats_ago)
        db.session.add(
            SocketSession(
                sid="sid-1",
                device_token_id=device_id,
                process_id=socket_sessions.PROCESS_ID if owner == "this" else "another-process",
                opened_at=last_seen,
                seen_at=last_seen,
            )
        )
        db.session.commit()
        swept = socket_sessions.beat(now, BEAT_S)
        row = db.session.get(SocketSession, "sid-1")
        assert (row is not None) == kept
        assert swept == (0 if kept else 1)
        if owner == "this":  # SQLite gives the time back without its zone
            assert row.seen_at.replace(tzinfo=None) == now.replace(tzinfo=None)


def open_sockets(database_url):
    connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        return connection.execute(
            "SELECT count(*), count(DISTINCT process_id) FROM socket_session"
        ).fetchone()
    finally:
        connection.close()


def a_socket(server, username):
    token = login(server.url, username)
    client = socketio.Client(reconnection=False)
    client.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
    return client


def test_the_rows_of_a_killed_process_are_swept_by_the_next(sqlite_url):
    beat = {"WEIGUANG_SOCKET_HEARTBEAT_SECONDS": "0.5"}
    first = ServedApp(sqlite_url, beat).start()
    try:
        orphan = a_socket(first, "vol-a")
        first.kill()
        assert open_sockets(sqlite_url) == (1, 1), "the killed process left its row"
    finally:
        first.stop()
    second = ServedApp(sqlite_url, beat).start()
    survivor = a_socket(second, "vol-a")
    try:
        deadline = time.monotonic() + 60
        while open_sockets(sqlite_url)[1] != 1 or open_sockets(sqlite_url)[0] != 1:
            assert time.monotonic() < deadline, "the dead process's row was never swept"
            time.sleep(0.5)
        # Several beats later the live one is still there.
        time.sleep(3)
        assert open_sockets(sqlite_url) == (1, 1)
        assert survivor.connected
    finally:
        survivor.disconnect()
        orphan.disconnect()
        second.stop()
