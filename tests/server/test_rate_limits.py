"""Pushes are limited per device: 429 problem+json with Retry-After past the limit."""

from __future__ import annotations

import json
import logging
import shutil
import urllib.error
import urllib.request
import uuid

import limits
import limits.storage.memory
import limits.strategies
import pytest

from server import rate_limits, seed
from server.config import ConfigError
from tests.conftest import make_app
from tests.helpers import a_task_create, bearer, sign_in
from tests.servers import ServedApp, login

COMPOUND_A = seed.stable_id("compound", "A")


def a_push():
    changeset = {
        "id": str(uuid.uuid4()),
        "made_at": "2022-04-02T10:00:00.000Z",
        "changes": [a_task_create(COMPOUND_A)],
    }
    return {"client_id": "phone", "changesets": [changeset]}


def limited_client(database_url, limit, **settings):
    return make_app(database_url, PUSH_RATE_LIMIT=limit, **settings).test_client()


def push(client, token, body=None):
    return client.post("/api/v1/sync/push", json=body or a_push(), headers=bearer(token))


@pytest.mark.parametrize(
    ("limit", "allowed", "window_s"),
    [
        ("3 per minute", 3, 60),
        ("1/second", 1, 1),
        ("5 per hour", 5, 3600),
        ("2/minute;4/hour", 2, 60),
    ],
)
def test_pushes_past_the_limit_get_429_with_retry_after(sqlite_url, limit, allowed, window_s):
    client = limited_client(sqlite_url, limit)
    token = sign_in(client, "vol-a")
    for _ in range(allowed):
        assert push(client, token).status_code == 200
    refused_body = a_push()
    refused = push(client, token, refused_body)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["status"] == 429
    assert problem["type"].endswith("/rate-limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= window_s + 1  # whole seconds, rounded up
    # Nothing of the refused push was applied.
    created = refused_body["changesets"][0]["changes"][0]["id"]
    pulled = client.get("/api/v1/sync/pull?limit=1000", headers=bearer(token)).get_json()
    assert created not in {record["id"] for record in pulled["changes"]}


def test_the_limit_is_per_device_and_only_on_pushes(sqlite_url):
    client = limited_client(sqlite_url, "2 per minute")
    phone, laptop, coord = (sign_in(client, name) for name in ("vol-a", "vol-a", "coord"))
    for _ in range(2):
        assert push(client, phone).status_code == 200
    assert push(client, phone).status_code == 429
    assert push(client, laptop).status_code == 200, "another device of the same user"
    assert push(client, coord).status_code == 200, "another user"
    assert client.get("/api/v1/sync/pull", headers=bearer(phone)).status_code == 200


@pytest.mark.parametrize(
    ("limit", "fault"),
    [
        ("often", "couldn't parse"),
        ("10 per fortnight", "fortnight"),
        ("5/minute;lots", "lots"),
        ("", "couldn't parse"),
        ("0/minute", "refuse every push"),
        ("5/minute;0/hour", "refuse every push"),
    ],
)
def test_a_limit_the_server_cannot_use_stops_it_with_a_readable_error(sqlite_url, limit, fault):
    with pytest.raises(ConfigError, match="WEIGUANG_PUSH_RATE_LIMIT") as error:
        make_app(sqlite_url, PUSH_RATE_LIMIT=limit)
    assert fault in str(error.value)


@pytest.mark.redis
def test_deployments_sharing_a_redis_count_apart(sqlite_url, tmp_path, redis_url):
    """Keys carry the database's digest: device 1 of one database is not device 1 of another."""
    other = tmp_path / "other.db"
    shutil.copy(sqlite_url.removeprefix("sqlite:///"), other)
    clients = [
        limited_client(url, "1 per minute", MESSAGE_QUEUE=redis_url)
        for url in (sqlite_url, f"sqlite:///{other}")
    ]
    tokens = [sign_in(client, "vol-a") for client in clients]
    assert push(clients[0], tokens[0]).status_code == 200
    assert push(clients[0], tokens[0]).status_code == 429
    assert push(clients[1], tokens[1]).status_code == 200


def served_push(server, token):
    request = urllib.request.Request(
        server.url + "/api/v1/sync/push",
        data=json.dumps(a_push()).encode(),
        headers={"Content-Type": "application/json", **bearer(token)},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


@pytest.mark.parametrize(
    "queue", [pytest.param("redis", marks=pytest.mark.redis), None], ids=["redis", "memory"]
)
def test_processes_count_a_device_together_through_redis_apart_without(sqlite_url, request, queue):
    env = {"WEIGUANG_PUSH_RATE_LIMIT": "2 per minute"}
    if queue:
        env["WEIGUANG_MESSAGE_QUEUE"] = request.getfixturevalue("redis_url")
    first, second = ServedApp(sqlite_url, env).start(), ServedApp(sqlite_url, env).start()
    try:
        token = login(first.url, "vol-a")
        assert [served_push(server, token) for server in (first, second)] == [200, 200]
        assert served_push(second, token) == (429 if queue else 200)
    finally:
        first.stop()
        second.stop()


def test_counting_in_memory_starts_no_thread(sqlite_url, monkeypatch):
    """A push's count once started a timer thread each time (issue #16): the sweep is in line."""
    app = make_app(sqlite_url)
    with app.app_context():
        storage = rate_limits.push_limits().counter.storage
    assert isinstance(storage, rate_limits.SweptMemoryStorage)
    storage.timer.join()  # the one its constructor starts
    started: list[object] = []
    monkeypatch.setattr(limits.storage.memory.threading, "Timer", lambda *a: started.append(a))
    limit = limits.parse("100/minute")
    counter = limits.strategies.FixedWindowRateLimiter(storage)
    assert all(counter.hit(limit, "device:1") for _ in range(5))
    assert storage.get(limit.key_for("device:1")) == 5
    assert started == []


def test_the_in_memory_sweep_drops_expired_counts_only():
    storage = rate_limits.SweptMemoryStorage()
    storage.incr("gone", expiry=0)
    storage.incr("kept", expiry=60)
    storage._next_sweep = 0.0  # due
    storage.incr("new", expiry=60)
    assert "gone" not in storage.storage
    assert {"kept", "new"} <= set(storage.storage)


def test_a_failing_count_lets_the_push_through(sqlite_url, monkeypatch, caplog):
    """A storage that is down must not stop sync; the failure is logged."""
    client = limited_client(sqlite_url, "1 per minute")
    token = sign_in(client, "vol-a")
    assert push(client, token).status_code == 200
    assert push(client, token).status_code == 429

    def storage_down(*args, **kwargs):
        raise ConnectionError("the rate limit storage is down")

    monkeypatch.setattr(limits.strategies.FixedWindowRateLimiter, "hit", storage_down)
    with caplog.at_level(logging.WARNING, logger="server.rate_limits"):
        assert push(client, token).status_code == 200
    assert "storage failed" in caplog.text
    assert "the rate limit storage is down" in caplog.text
