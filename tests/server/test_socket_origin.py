"""The Socket.IO handshake accepts pages of the configured origins only."""

from __future__ import annotations

import pytest

from tests.conftest import make_app

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def handshake(client, origin=None, host="localhost"):
    headers = {"Host": host} | ({"Origin": origin} if origin else {})
    with client.get(HANDSHAKE, headers=headers) as reply:
        return reply.status_code


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("http://evil.example", 400),
        ("http://localhost.evil.example", 400),
        ("https://localhost", 400),
        ("null", 400),
        ("http://localhost", 200),
        (None, 200),
    ],
)
def test_by_default_only_the_servers_own_origin_connects(client, origin, status):
    assert handshake(client, origin) == status


def test_a_websocket_upgrade_from_another_origin_is_refused(client):
    reply = client.get(
        "/socket.io/?EIO=4&transport=websocket",
        headers={"Origin": "http://evil.example", "Upgrade": "websocket", "Connection": "Upgrade"},
    )
    assert reply.status_code == 400


@pytest.mark.parametrize(
    "setting",
    [
        "https://wg.example.org, http://laptop:5000",
        ["https://wg.example.org", "http://laptop:5000"],
    ],
)
def test_configured_origins_replace_the_default(sqlite_url, setting):
    client = make_app(sqlite_url, ALLOWED_ORIGINS=setting).test_client()
    assert handshake(client, "https://wg.example.org") == 200
    assert handshake(client, "http://laptop:5000") == 200
    assert handshake(client, "http://localhost") == 400
    assert handshake(client, "http://evil.example") == 400


def test_behind_a_trusted_proxy_the_public_origin_connects(sqlite_url):
    client = make_app(sqlite_url, PROXY_HOPS=1).test_client()
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "wg.example.org"}
    with client.get(HANDSHAKE, headers={**proxied, "Origin": "https://wg.example.org"}) as reply:
        assert reply.status_code == 200
