"""Cached sign-ins end whenever what a token stands for changes, in whichever process.

Two apps on one database stand for two server processes: ``serving`` has
answered the token before (so it holds the token's identity in its cache);
``other`` makes the change. Right after it, ``serving`` answers as a fresh
process with no cache does, and the change shows (``server/sign_ins.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event, select

from server import accounts, clock, seed, sign_ins
from server.accounts import LAST_SEEN_RESOLUTION, token_digest
from server.extensions import db
from server.models import DeviceToken, User, UserScopeItem
from server.store import SqlStore
from sync.actors import Actor, Role, UserScope
from sync.protocol import apply_push
from sync.wire import push_from_wire
from tests.conftest import make_app
from tests.helpers import a_user_of, bearer, sign_in
from tests.server.test_sync_api import pull_all

COMPOUND_A = seed.stable_id("compound", "A")
COMPOUND_B = seed.stable_id("compound", "B")
ALERTS = "/api/v1/auth/alerts"  # coordinators only


@dataclass
class Servers:
    serving: Flask
    other: Flask

    def close(self) -> None:
        for app in (self.serving, self.other):
            with app.app_context():
                db.engine.dispose()


@pytest.fixture
def servers(database_url):
    pair = Servers(make_app(database_url), make_app(database_url))
    yield pair
    pair.close()


def compounds_seen(app: Flask, token: str) -> set[str]:
    """Return the compounds whose records ``token``'s pull brings."""
    records, _ = pull_all(app.test_client(), token)
    return {r["id"] for r in records if r["type"] == "compound"} | {
        r["fields"]["compound_id"] for r in records if "compound_id" in r["fields"]
    }


def answers(app: Flask, token: str) -> tuple[int, int, set[str] | None]:
    """Return what ``app`` answers ``token``: /users/me, the coordinators' alerts, the pull."""
    client = app.test_client()
    me = client.get("/api/v1/users/me", headers=bearer(token)).status_code
    alerts = client.get(ALERTS, headers=bearer(token)).status_code
    seen = compounds_seen(app, token) if me == 200 else None
    return me, alerts, seen


def a_scoped_coordinator(app: Flask) -> str:
    """Create a coordinator of compound A only; return their token."""
    return a_user_of(app.test_client(), [COMPOUND_A], "coord-a")


def edit_user(app: Flask, username: str, edit: Callable[[User], None]) -> None:
    with app.app_context():
        edit(db.session.scalar(select(User).where(User.username == username)))
        db.session.commit()


def log_out(app: Flask, token: str) -> None:
    assert app.test_client().post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204


def widen(user: User) -> None:
    user.scope_items.append(UserScopeItem(ref_id=COMPOUND_B))


def narrow(user: User) -> None:
    user.scope_items = [item for item in user.scope_items if item.ref_id != COMPOUND_A]
    user.scope_items.append(UserScopeItem(ref_id=COMPOUND_B))


def demote(user: User) -> None:
    user.role = Role.VOLUNTEER.value


def deactivate(user: User) -> None:
    user.active = False


def idle(app: Flask, token: str) -> None:
    with app.app_context():
        device = db.session.scalar(
            select(DeviceToken).where(DeviceToken.token_hash == token_digest(token))
        )
        device.last_seen_at = device.last_seen_at - timedelta(days=61)
        db.session.commit()


def break_glass(app: Flask, token: str) -> int:
    """Open compound B to ``token``'s user; return the grant's id."""
    reply = app.test_client().post(
        "/api/v1/break-glass",
        json={"compound_id": COMPOUND_B, "reason": "夜间急诊", "minutes": 30},
        headers=bearer(token),
    )
    assert reply.status_code == 201, reply.get_json()
    return int(reply.get_json()["id"])


def new_compound(app: Flask) -> str:
    """Write a new compound of the demo neighbourhood through the engine; return its id."""
    compound_id = str(uuid.uuid4())
    with app.app_context():
        coord = db.session.scalar(select(User).where(User.username == "coord"))
        push = push_from_wire(
            {
                "client_id": "test",
                "changesets": [
                    {
                        "id": str(uuid.uuid4()),
                        "made_at": "2026-11-30T10:00:00Z",
                        "changes": [
                            {
                                "type": "compound",
                                "id": compound_id,
                                "op": "create",
                                "fields": {
                                    "name": "新小区",
                                    "neighbourhood_id": coord.neighbourhood_id,
                                    "tier": "precaution",
                                    "address": "新路1号",
                                },
                            }
                        ],
                    }
                ],
            }
        )
        store = SqlStore.for_writing()
        actor = Actor(coord.id, Role.COORDINATOR, UserScope(everything=True))
        outcome = apply_push(store, actor, push, clock.utcnow())
        assert outcome.to_wire()["results"][0]["status"] == "applied", outcome.to_wire()
        store.flush()
        db.session.commit()
    return compound_id


CHANGES = {
    "logout": (lambda app, token: log_out(app, token), lambda me, alerts, seen: me == 401),
    "deactivated": (
        lambda app, token: edit_user(app, "coord-a", deactivate),
        lambda me, alerts, seen: me == 401,
    ),
    "idle too long": (idle, lambda me, alerts, seen: me == 401),
    "role changed": (
        lambda app, token: edit_user(app, "coord-a", demote),
        lambda me, alerts, seen: alerts == 403,
    ),
    "scope widened": (
        lambda app, token: edit_user(app, "coord-a", widen),
        lambda me, alerts, seen: {COMPOUND_A, COMPOUND_B} <= seen,
    ),
    "scope narrowed": (
        lambda app, token: edit_user(app, "coord-a", narrow),
        lambda me, alerts, seen: COMPOUND_A not in seen and COMPOUND_B in seen,
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_in_another_process_ends_the_cached_sign_in(servers, change):
    make_change, shows = CHANGES[change]
    token = a_scoped_coordinator(servers.other)
    before = answers(servers.serving, token)
    assert before[:2] == (200, 200) and COMPOUND_B not in before[2]
    make_change(servers.other, token)
    after = answers(servers.serving, token)
    assert after != before and shows(*after)
    fresh = make_app(servers.serving.config["SQLALCHEMY_DATABASE_URI"])
    try:
        assert after == answers(fresh, token)
    finally:
        with fresh.app_context():
            db.engine.dispose()


def test_a_break_the_glass_grant_opens_and_ends_at_once_in_every_process(servers):
    token = a_user_of(servers.other.test_client(), [COMPOUND_A], "medic-a", "clinician")
    assert COMPOUND_B not in compounds_seen(servers.serving, token)
    grant_id = break_glass(servers.other, token)
    assert COMPOUND_B in compounds_seen(servers.serving, token)
    ended = servers.other.test_client().post(
        f"/api/v1/break-glass/{grant_id}/end", headers=bearer(token)
    )
    assert ended.status_code == 200, ended.get_json()
    assert COMPOUND_B not in compounds_seen(servers.serving, token)


def test_a_grant_that_runs_out_closes_its_compound_in_a_process_that_cached_the_sign_in(
    servers, monkeypatch
):
    """No process writes anything when a grant runs out: time alone must end it everywhere."""
    token = a_user_of(servers.other.test_client(), [COMPOUND_A], "medic-a", "clinician")
    break_glass(servers.other, token)  # 30 minutes
    start = clock.utcnow()
    # Answered just before the end (the first pull stamps last_seen, the second is cached).
    for minutes in (28, 29):
        monkeypatch.setattr(
            clock, "utcnow", lambda minutes=minutes: start + timedelta(minutes=minutes)
        )
        assert COMPOUND_B in compounds_seen(servers.serving, token)
    monkeypatch.setattr(clock, "utcnow", lambda: start + timedelta(minutes=31))
    assert COMPOUND_B not in compounds_seen(servers.serving, token)


def test_a_new_compound_joins_a_neighbourhood_users_scope_at_once(servers):
    token = sign_in(servers.other.test_client(), "coord")
    assert compounds_seen(servers.serving, token) >= {COMPOUND_A, COMPOUND_B}
    compound_id = new_compound(servers.other)
    assert compound_id in compounds_seen(servers.serving, token)


def test_an_unchanged_sign_in_is_answered_from_the_cache(servers):
    """The point of the cache: a token answered before costs one small read, not a resolve."""
    token = sign_in(servers.serving.test_client(), "coord")
    answers(servers.serving, token)
    with servers.serving.app_context():
        cached = servers.serving.extensions["weiguang_sign_ins"][token_digest(token)]
    answers(servers.serving, token)
    with servers.serving.app_context():
        assert servers.serving.extensions["weiguang_sign_ins"][token_digest(token)] is cached


def test_a_signed_in_request_writes_last_seen_at_most_once_a_minute(servers, monkeypatch):
    """Issue #16, point 4: the sign-in check of a request writes nothing, bar a rare stamp."""
    app = servers.serving
    token = sign_in(app.test_client(), "coord")
    start = clock.utcnow()
    writes: list[str] = []

    def at(moment):
        for module in (clock, accounts):
            monkeypatch.setattr(module, "utcnow", lambda: moment)

    def note(conn, cursor, statement, *rest):
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            writes.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
    try:
        for seconds in range(0, int(LAST_SEEN_RESOLUTION.total_seconds()), 20):
            at(start + timedelta(seconds=seconds))
            answers(app, token)
        assert writes == []
        later = start + LAST_SEEN_RESOLUTION + timedelta(seconds=1)
        at(later)
        answers(app, token)
        answers(app, token)
        assert len(writes) == 1 and "device_token" in writes[0]
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", note)
    with app.app_context():
        device = db.session.scalar(
            select(DeviceToken).where(DeviceToken.token_hash == token_digest(token))
        )
        assert clock.aware(device.last_seen_at) == later


def test_the_sign_in_read_is_sent_as_sql_of_its_own_reading_what_the_statement_reads(
    database_url,
):
    """Issue #16: the driver's SQL, no parameters; the same generation and high-water mark."""
    app = make_app(database_url)
    with app.app_context():
        connection = db.session.connection()
        for marks, statement in ((True, sign_ins.MARKS), (False, sign_ins.CHECK)):
            sql = sign_ins.check_sql(connection.dialect, marks)
            assert "?" not in sql and "%(" not in sql
            assert tuple(connection.exec_driver_sql(sql).one()) == tuple(
                connection.execute(statement).one()
            )
        db.session.remove()
        db.engine.dispose()
