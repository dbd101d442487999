"""Fixtures shared by the whole suite: apps on SQLite or PostgreSQL, clients, sign-in.

Seeding the demo neighbourhood takes a second or two, so it happens once per
session into a template (an SQLite file, a PostgreSQL template database) that
each test copies.

PostgreSQL and Redis tests run whenever the servers answer where
``WEIGUANG_TEST_PG`` and ``WEIGUANG_TEST_REDIS`` point (by default on
127.0.0.1); with
``WEIGUANG_REQUIRE_SERVICES=1`` (set by ``.ci/run``) a missing server fails
the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from server import create_app, database
from tests.helpers import DEMO_PASSWORD, sign_in
from tests.servers import TEST_SECRET_KEY

PG_ADMIN_URL = os.environ.get("WEIGUANG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("WEIGUANG_TEST_REDIS", "redis://127.0.0.1:6379/0")
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024}
# Tests never assert a time: no property test fails for an example that ran slowly, or
# was slow to make, on a loaded machine (hypothesis's default deadline is 200 ms an example).
settings.register_profile("weiguang", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("weiguang")
# The suite pushes far faster than a device does; the tests of the limit set their own.
UNLIMITED_PUSHES = {"PUSH_RATE_LIMIT": "1000000 per minute"}


def service_answers(host: str, port: int) -> bool:
    """Return whether a TCP service accepts connections."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, in CI, fail) a test whose service does not answer."""
    if service_answers(host, port):
        return
    message = f"{name} does not answer on {host}:{port}"
    if os.environ.get("WEIGUANG_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (mandatory in CI)")
    pytest.skip(message)


def address_of(url: str, default_port: int) -> tuple[str, int]:
    """Return the host and port a service URL names (127.0.0.1 and ``default_port`` if unsaid)."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def require_postgres() -> None:
    """Skip (or, in CI, fail) unless PostgreSQL answers where ``WEIGUANG_TEST_PG`` points."""
    require_service("PostgreSQL", *address_of(PG_ADMIN_URL, 5432))


def require_redis() -> None:
    """Skip (or, in CI, fail) unless Redis answers where ``WEIGUANG_TEST_REDIS`` points."""
    require_service("Redis", *address_of(REDIS_URL, 6379))


def make_app(database_url: str, **overrides: Any) -> Flask:
    """Create a test app on ``database_url``."""
    settings = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "ASYNC_MODE": "threading",
        **FAST_ARGON2,
        **UNLIMITED_PUSHES,
        **overrides,
    }
    return create_app(settings)


def build_schema(app: Flask, seeded: bool) -> None:
    """Upgrade the schema of ``app``'s database and seed it if asked."""
    with app.app_context():
        database.upgrade_schema()
        if seeded:
            from server import seed

            seed.seed_demo(DEMO_PASSWORD)
        from server.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return an SQLite file holding the seeded demo neighbourhood."""
    path = tmp_path_factory.mktemp("template") / "seeded.db"
    build_schema(make_app(f"sqlite:///{path}"), seeded=True)
    return str(path)


@pytest.fixture
def sqlite_url(tmp_path: Any, sqlite_template: str) -> str:
    """Return the URL of a fresh copy of the seeded SQLite database."""
    path = tmp_path / "weiguang.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def pg_execute(sql: str) -> None:
    """Run one statement on the PostgreSQL admin database, outside a transaction."""
    import psycopg2

    connection = psycopg2.connect(PG_ADMIN_URL)
    connection.autocommit = True
    try:
        connection.cursor().execute(sql)
    finally:
        connection.close()


def pg_url_for(name: str) -> str:
    """Return the URL of database ``name`` on the test server."""
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """Return the name of a PostgreSQL template database with the demo seeded."""
    require_postgres()
    name = f"wg_template_{uuid.uuid4().hex[:8]}"
    pg_execute(f"CREATE DATABASE {name}")
    build_schema(make_app(pg_url_for(name)), seeded=True)
    yield name
    pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """Return the URL of a fresh PostgreSQL database copied from the template."""
    name = f"wg_test_{uuid.uuid4().hex[:8]}"
    pg_execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    yield pg_url_for(name)
    pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def redis_url() -> str:
    """Return the Redis URL, if Redis answers."""
    require_redis()
    return REDIS_URL


#: Fixture params for "once on SQLite, once on PostgreSQL".
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def empty_database(engine: str, folder: Any, request: pytest.FixtureRequest) -> str:
    """Return the URL of an empty database of ``engine`` (``sqlite`` or ``postgresql``).

    An SQLite file in ``folder``; a PostgreSQL database is dropped when the
    scope of the test or fixture that made the ``request`` ends.
    """
    if engine == "sqlite":
        return f"sqlite:///{folder}/empty.db"
    require_postgres()
    name = f"wg_empty_{uuid.uuid4().hex[:8]}"
    pg_execute(f"CREATE DATABASE {name}")
    request.addfinalizer(lambda: pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    return pg_url_for(name)


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest) -> str:
    """Return a seeded database URL, once for SQLite and once for PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


def app_on(url: str) -> Iterator[Flask]:
    """Yield an app on the database at ``url``; dispose of its engine after (a fixture's body)."""
    app = make_app(url)
    yield app
    with app.app_context():
        from server.extensions import db

        db.engine.dispose()


@pytest.fixture
def app(sqlite_url: str) -> Iterator[Flask]:
    """Return an app on a fresh seeded SQLite database."""
    yield from app_on(sqlite_url)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    """Return a CLI runner of ``app``."""
    return app.test_cli_runner()


@pytest.fixture
def token_for(client: FlaskClient) -> Callable[[str], str]:
    """Return a function that signs a demo user in and returns their token."""
    return lambda username: sign_in(client, username)


@pytest.fixture
def served(sqlite_url: str) -> Iterator[Any]:
    """Return a running ``weiguang serve`` (eventlet) on a fresh seeded SQLite database."""
    from tests.servers import ServedApp

    server = ServedApp(sqlite_url).start()
    yield server
    server.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the reliability ledger where ``WEIGUANG_RELIABILITY_REPORT`` asks."""
    from tests import reliability

    path = os.environ.get(reliability.REPORT_ENV)
    if path and reliability.LEDGER:
        reliability.write_report(path)
