"""Sign-in throttling slows guessing without locking the right person out.

No test measures time: the server's waits go through ``socketio.sleep``,
which these tests record instead of sleeping, and the cost of a sign-in is
counted in Argon2 calls.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from server import accounts
from server.extensions import db, socketio
from server.models import LoginFailure
from server.seed import stable_id
from tests.helpers import DEMO_PASSWORD, bearer, sign_in

LOGIN = "/api/v1/auth/login"
ALERTS = "/api/v1/auth/alerts"
HERE, THERE = "10.0.0.1", "10.0.0.2"


@pytest.fixture
def waits(monkeypatch):
    """Record the server's waits instead of waiting."""
    seconds = []
    monkeypatch.setattr(socketio, "sleep", seconds.append)
    return seconds


def attempt(client, username, password, address=HERE):
    return client.post(
        LOGIN,
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def fail(client, username, times=1, address=HERE):
    for _ in range(times):
        assert attempt(client, username, "wrong", address).status_code == 401


def test_five_wrong_passwords_leave_the_owner_a_way_in_from_elsewhere(client, waits):
    fail(client, "vol-b", times=5)
    locked = attempt(client, "vol-b", DEMO_PASSWORD)
    assert locked.status_code == 429
    assert locked.content_type == "application/problem+json"
    assert 1 <= int(locked.headers["Retry-After"]) <= 900
    assert attempt(client, "vol-b", DEMO_PASSWORD, THERE).status_code == 200
    assert waits, "the account's next attempts are slowed down"


def test_thirty_failures_from_one_address_lock_out_no_one_behind_it(client, waits):
    for index in range(30):
        fail(client, f"guess-{index}")
    assert attempt(client, "coord", DEMO_PASSWORD).status_code == 200
    assert waits and waits[-1] > 0, "attempts from that address are slowed down"


# Failure histories, and what each sign-in with the right password then meets:
# (username, address) -> (status, held). Written out by hand, not derived.
HISTORIES = {
    "five at one pair": (
        [("vol-b", HERE)] * 5,
        {
            ("vol-b", HERE): (429, False),
            ("vol-b", THERE): (200, True),
            ("vol-a", HERE): (200, False),
            ("vol-a", THERE): (200, False),
        },
    ),
    "four at one pair": (
        [("vol-b", HERE)] * 4,
        {
            ("vol-b", HERE): (200, False),
            ("vol-b", THERE): (200, False),
            ("vol-a", HERE): (200, False),
            ("vol-a", THERE): (200, False),
        },
    ),
    "one each from five addresses": (
        [("vol-b", f"10.1.0.{n}") for n in range(5)],
        {
            ("vol-b", HERE): (200, True),
            ("vol-b", THERE): (200, True),
            ("vol-a", HERE): (200, False),
            ("vol-a", THERE): (200, False),
        },
    ),
    "thirty names from one address": (
        [(f"guess-{n}", HERE) for n in range(30)],
        {
            ("vol-b", HERE): (200, True),
            ("vol-b", THERE): (200, False),
            ("vol-a", HERE): (200, True),
            ("vol-a", THERE): (200, False),
        },
    ),
}


@pytest.mark.parametrize("history", HISTORIES)
def test_who_gets_in_after_failures(client, waits, history):
    failed, expected = HISTORIES[history]
    for username, address in failed:
        fail(client, username, address=address)
    # Those who get in go first: a success elsewhere must not unlock a locked pair.
    for (username, address), (status, held) in sorted(expected.items(), key=lambda e: e[1]):
        waits.clear()
        reply = attempt(client, username, DEMO_PASSWORD, address)
        assert (reply.status_code, bool(waits)) == (status, held), (username, address)


def test_the_wait_doubles_with_each_failure_up_to_a_cap(app, client, waits):
    app.config["WEIGUANG"]["LOGIN_MAX_DELAY_SECONDS"] = 1
    for n in range(10):
        fail(client, "vol-b", address=f"10.2.0.{n}")
    first = app.config["WEIGUANG"]["LOGIN_FIRST_DELAY_SECONDS"]
    assert waits == [first, first * 2, 1, 1, 1]


class CountingHasher(PasswordHasher):
    """Argon2 with a record of every hash verified and every hash made."""

    verified: ClassVar[list[str]] = []
    made: ClassVar[int] = 0

    def verify(self, hash, password):
        CountingHasher.verified.append(hash)
        return super().verify(hash, password)

    def hash(self, password, *, salt=None):
        CountingHasher.made += 1
        return super().hash(password, salt=salt)


@pytest.fixture
def argon2_calls(monkeypatch):
    """Count Argon2 work during sign-ins."""
    monkeypatch.setattr(accounts, "PasswordHasher", CountingHasher)
    accounts.hasher_of_cost.cache_clear()
    CountingHasher.verified, CountingHasher.made = [], 0
    yield CountingHasher
    accounts.hasher_of_cost.cache_clear()


def test_an_unknown_username_costs_one_verification_like_a_wrong_password(
    app, client, argon2_calls
):
    fail(client, "vol-a")
    assert len(argon2_calls.verified) == 1
    assert argon2_calls.made == 0
    for address in (HERE, THERE, "10.3.0.1"):
        fail(client, "no-such-user", address=address)
    with app.app_context():
        dummy = accounts.dummy_hash(accounts.hasher())
    assert argon2_calls.verified[1:] == [dummy] * 3
    assert argon2_calls.made == 1, "the dummy hash is made once, not per attempt"


def test_a_deactivated_account_costs_one_verification_too(app, client, argon2_calls):
    with app.app_context():
        user = db.session.scalar(select(accounts.User).where(accounts.User.username == "vol-a"))
        user.active = False
        db.session.commit()
    assert attempt(client, "vol-a", DEMO_PASSWORD).status_code == 401
    assert len(argon2_calls.verified) == 1


def alerts(client, username):
    reply = client.get(ALERTS, headers=bearer(sign_in(client, username)))
    assert reply.status_code == 200, reply.get_json()
    return [(a["reason"], a.get("username"), a["address"]) for a in reply.get_json()["alerts"]]


def test_coordinators_see_alerts_about_accounts_of_their_scope(client, waits):
    fail(client, "vol-b", times=5)
    fail(client, "vol-a", times=5, address=THERE)
    for index in range(30):
        fail(client, f"guess-{index}", address="10.4.0.1")
    everything = alerts(client, "coord")
    assert {
        ("pair", "vol-b", HERE),
        ("account", "vol-b", HERE),
        ("pair", "vol-a", THERE),
        ("account", "vol-a", THERE),
        ("address", None, "10.4.0.1"),
    } <= set(everything)
    coordinator_of_a = {
        "username": "coord-a",
        "display_name": "coord-a",
        "role": "coordinator",
        "scope_kind": "compounds",
        "scope_ids": [stable_id("compound", "A")],
        "password": DEMO_PASSWORD,
    }
    made = client.post(
        "/api/v1/users", json=coordinator_of_a, headers=bearer(sign_in(client, "coord"))
    )
    assert made.status_code == 201
    assert {username for _, username, _ in alerts(client, "coord-a")} == {"vol-a"}


def test_only_coordinators_read_alerts(client):
    reply = client.get(ALERTS, headers=bearer(sign_in(client, "vol-a")))
    assert reply.status_code == 403


def test_old_failures_stop_counting_and_are_forgotten(app, client):
    fail(client, "vol-b", times=5)
    with app.app_context():
        for failure in db.session.scalars(select(LoginFailure)):
            failure.at = failure.at - timedelta(hours=1)
        db.session.commit()
    fail(client, "someone")
    with app.app_context():
        assert [f.username for f in db.session.scalars(select(LoginFailure))] == ["someone"]
    assert attempt(client, "vol-b", DEMO_PASSWORD).status_code == 200


def test_signing_in_forgets_only_that_pairs_failures(app, client):
    fail(client, "vol-b", times=2)
    fail(client, "vol-b", times=2, address=THERE)
    assert attempt(client, "vol-b", DEMO_PASSWORD).status_code == 200
    with app.app_context():
        left = db.session.scalars(select(LoginFailure.address))
        assert list(left) == [THERE, THERE]


def test_behind_a_trusted_proxy_each_client_is_its_own_address(sqlite_url, waits):
    from tests.conftest import make_app

    client = make_app(sqlite_url, PROXY_HOPS=1).test_client()

    def via_proxy(client_address, password):
        return client.post(
            LOGIN,
            json={"username": "vol-b", "password": password},
            environ_base={"REMOTE_ADDR": "10.9.0.1"},
            headers={"X-Forwarded-For": client_address},
        )

    for _ in range(5):
        assert via_proxy("203.0.113.7", "wrong").status_code == 401
    assert via_proxy("203.0.113.7", DEMO_PASSWORD).status_code == 429
    assert via_proxy("198.51.100.2", DEMO_PASSWORD).status_code == 200
