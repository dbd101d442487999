"""The health check reports its dependencies and answers 503 when one is down."""

from __future__ import annotations

import uuid

import pytest

from server.extensions import db
from tests.conftest import make_app, pg_execute, pg_url_for, require_service
from tests.helpers import DEMO_PASSWORD, bearer, sign_in
from tests.servers import free_port

HEALTH = "/api/v1/health"
PULL = "/api/v1/sync/pull"
LOGIN = "/api/v1/auth/login"
LOGIN_BODY = {"username": "vol-a", "password": DEMO_PASSWORD, "device_name": "pytest"}


def health_of(app):
    reply = app.test_client().get(HEALTH)
    return reply.status_code, reply.get_json()


def dispose(app):
    with app.app_context():
        db.engine.dispose()


def test_health_is_ok_and_the_queue_off_without_one(client):
    reply = client.get(HEALTH)
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "message_queue": "off"}


@pytest.mark.redis
def test_health_pings_the_message_queue(sqlite_url, redis_url):
    app = make_app(sqlite_url, MESSAGE_QUEUE=redis_url)
    status, body = health_of(app)
    assert status == 200 and body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "message_queue": "ok"}
    dispose(app)


def test_a_queue_nobody_listens_on_is_degraded(sqlite_url):
    app = make_app(sqlite_url, MESSAGE_QUEUE=f"redis://127.0.0.1:{free_port()}/0")
    status, body = health_of(app)
    assert status == 503 and body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["message_queue"].startswith("unavailable")
    dispose(app)


def broken_database_url(kind, tmp_path):
    """Return a database URL that cannot answer, of one kind."""
    if kind == "sqlite-no-folder":
        return f"sqlite:///{tmp_path}/no/such/folder/weiguang.db"
    if kind == "postgresql-no-server":
        return f"postgresql://postgres@127.0.0.1:{free_port()}/weiguang"
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return pg_url_for(f"wg_missing_{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize(
    "kind",
    [
        "sqlite-no-folder",
        "postgresql-no-server",
        pytest.param("postgresql-no-database", marks=pytest.mark.postgres),
    ],
)
def test_a_database_that_does_not_answer_is_degraded_not_an_error(tmp_path, kind):
    app = make_app(broken_database_url(kind, tmp_path))
    status, body = health_of(app)
    assert status == 503 and body["status"] == "degraded"
    assert body["checks"]["database"].startswith("unavailable")
    assert body["checks"]["message_queue"] == "off"
    # The reason is the kind of error only: no host, user or path for strangers.
    assert "127.0.0.1" not in str(body) and str(tmp_path) not in str(body)
    dispose(app)


@pytest.mark.postgres
def test_health_follows_the_database_going_away_and_coming_back(pg_url):
    name = pg_url.rsplit("/", 1)[1]
    app = make_app(pg_url)
    assert health_of(app)[0] == 200
    pg_execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    end_connections(name)
    try:
        status, body = health_of(app)
        assert status == 503 and body["checks"]["database"].startswith("unavailable")
    finally:
        pg_execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    status, body = health_of(app)
    assert status == 200 and body["checks"]["database"] == "ok"
    dispose(app)


@pytest.mark.postgres
def test_the_first_requests_after_the_database_ended_its_connections_are_answered(pg_url):
    # As after a database restart: every pooled connection is closed by the server.
    name = pg_url.rsplit("/", 1)[1]
    app = make_app(pg_url)
    client = app.test_client()
    token = sign_in(client, "coord")
    with app.app_context():
        held = [db.engine.connect() for _ in range(3)]
        for connection in held:
            connection.exec_driver_sql("SELECT 1")
            connection.close()
        assert db.engine.pool.checkedin() >= 3
    end_connections(name)
    for _ in range(4):
        assert client.get(PULL, headers=bearer(token)).status_code == 200
        assert health_of(app)[0] == 200
    assert client.post(LOGIN, json=LOGIN_BODY).status_code == 200
    dispose(app)


def end_connections(name: str) -> None:
    """End every connection to database ``name`` and wait until each backend has exited.

    ``pg_terminate_backend`` with a timeout (PostgreSQL 14+, milliseconds)
    waits for the exit, as a restart has finished before anyone reconnects;
    without one it returns once the signal is sent, and a pooled connection
    checked out at once may not yet have been told it is closed.
    """
    pg_execute(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
