"""The suite's own helpers: the "is it up" checks follow WEIGUANG_TEST_PG / WEIGUANG_TEST_REDIS."""

from __future__ import annotations

import socket

import pytest

from tests import conftest


@pytest.mark.parametrize(
    ("url", "default_port", "address"),
    [
        ("postgresql://postgres@127.0.0.1:5432/postgres", 5432, ("127.0.0.1", 5432)),
        ("postgresql://u:p@db.internal:6543/postgres", 5432, ("db.internal", 6543)),
        ("postgresql://postgres@pg/postgres", 5432, ("pg", 5432)),
        ("redis://cache.internal:6380/1", 6379, ("cache.internal", 6380)),
        ("redis://:secret@[::1]/0", 6379, ("::1", 6379)),
        ("redis:///0", 6379, ("127.0.0.1", 6379)),
    ],
)
def test_address_of_reads_host_and_port_from_the_url(url, default_port, address):
    assert conftest.address_of(url, default_port) == address


def a_port_nobody_listens_on():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("check", "setting", "scheme", "name"),
    [
        (conftest.require_postgres, "PG_ADMIN_URL", "postgresql://postgres@", "PostgreSQL"),
        (conftest.require_redis, "REDIS_URL", "redis://", "Redis"),
    ],
)
def test_service_checks_look_where_the_environment_points(
    monkeypatch, check, setting, scheme, name
):
    port = a_port_nobody_listens_on()
    monkeypatch.setattr(conftest, setting, f"{scheme}127.0.0.1:{port}/0")
    monkeypatch.delenv("WEIGUANG_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"{name} does not answer on 127.0.0.1:{port}"):
        check()
    monkeypatch.setenv("WEIGUANG_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="mandatory in CI"):
        check()
