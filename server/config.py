"""Load configuration: defaults, then ``WEIGUANG_*`` environment variables.

Every setting can be given in the environment with the ``WEIGUANG_`` prefix
(``WEIGUANG_DATABASE_URL``, ``WEIGUANG_SECRET_KEY``, ...). Values are parsed
as JSON where they look like it (numbers, booleans), else kept as strings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import click

ENV_PREFIX = "WEIGUANG_"
MIB = 1024 * 1024
# The key a development server (FLASK_DEBUG=1) uses when none is set; refused otherwise.
DEVELOPMENT_SECRET_KEY = "dev-only-change-me"

DEFAULTS: dict[str, Any] = {
    # An SQLAlchemy URL; None means an SQLite file in the instance folder.
    "DATABASE_URL": None,
    # A Redis URL shared by several server processes; None means one process.
    "MESSAGE_QUEUE": None,
    # Required outside development (see secret_key).
    "SECRET_KEY": None,
    "MAX_BODY_BYTES": 10 * MIB,
    # Origins whose pages may open a Socket.IO connection, separated by spaces
    # or commas (e.g. "https://wg.example.org"); None means only the origin
    # of the request's own host, as the PWA served by this server has.
    "ALLOWED_ORIGINS": None,
    # "eventlet" in production (weiguang serve), "threading" for tests.
    "ASYNC_MODE": "threading",
    # Socket.IO (server/socket_limits.py): the largest message a client may
    # send (it sends only its token), the unsent bytes a socket may hold before
    # it is dropped (it then catches up by pull), and how long a connection may
    # stay without signing in.
    "SOCKET_MESSAGE_BYTES": 64 * 1024,
    "SOCKET_QUEUE_BYTES": 4 * MIB,
    "SOCKET_CONNECT_SECONDS": 30,
    # How often a serving process marks its open sockets alive in the database;
    # rows nobody marked for four beats are swept (server/socket_sessions.py).
    "SOCKET_HEARTBEAT_SECONDS": 30,
    # How often a serving process makes and brings up the delivery tasks of
    # the supply rounds past their cut-off (server/supplies.py).
    "DELIVERY_JOB_SECONDS": 60,
    # Connections one `weiguang serve` process serves at once (a live socket
    # holds one while it is open, a request while it runs); more wait to be
    # accepted. About 90 KiB of memory each (docs/deploy.md, sizing).
    "MAX_CONNECTIONS": 4096,
    # On SIGTERM, how long `weiguang serve` lets requests in flight (a push)
    # finish before it exits (server/green.py, drain).
    "DRAIN_SECONDS": 25,
    # Reverse proxies in front of the server whose X-Forwarded-For, -Proto and
    # -Host are trusted (werkzeug's ProxyFix); 0 trusts none.
    "PROXY_HOPS": 0,
    # Pushes one device may make (the limits library's notation, e.g. "10/second;120/minute");
    # the app sends 50 changesets a push, so 120 a minute drains 6,000 queued ones.
    "PUSH_RATE_LIMIT": "120 per minute",
    # A device token unused for this long stops working (a week offline is fine).
    "TOKEN_IDLE_DAYS": 60,
    # Login throttling (server/login_throttle.py): failed sign-ins count this long;
    # a username is locked at one address after so many failures there, and
    # attempts are held (not refused) past so many per account or per address.
    "LOGIN_WINDOW_SECONDS": 900,
    "LOGIN_MAX_FAILURES_PER_PAIR": 5,
    "LOGIN_SLOW_AFTER_ACCOUNT_FAILURES": 5,
    "LOGIN_SLOW_AFTER_ADDRESS_FAILURES": 30,
    "LOGIN_FIRST_DELAY_SECONDS": 0.25,
    "LOGIN_MAX_DELAY_SECONDS": 8,
    # The Bearer token that opens /metrics to others than the loopback address.
    "METRICS_TOKEN": None,
    # Argon2id cost; tests lower it so that logging in many times stays quick.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_KIB": 65536,
}


def parse_value(raw: str) -> Any:
    """Turn an environment string into a number or boolean where it is one."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, int | float | bool) else raw


def from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """Collect the ``WEIGUANG_*`` settings from ``environ``, prefix stripped."""
    return {
        key.removeprefix(ENV_PREFIX): parse_value(value)
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX)
    }


def load(test_config: Mapping[str, Any] | None, instance_path: str) -> dict[str, Any]:
    """Return the app's settings: defaults, then the environment or ``test_config``."""
    settings = dict(DEFAULTS)
    settings.update(from_environ(os.environ) if test_config is None else test_config)
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "weiguang.db")
    settings["DATABASE_URL"] = normalise_database_url(settings["DATABASE_URL"])
    settings["MAX_BODY_BYTES"] = int(settings["MAX_BODY_BYTES"])
    settings["ALLOWED_ORIGINS"] = origin_list(settings["ALLOWED_ORIGINS"])
    return settings


class ConfigError(click.ClickException):
    """A setting the server refuses to start with (the CLI prints its message alone)."""


def secret_key(settings: Mapping[str, Any], development: bool) -> str:
    """Return the secret key, or refuse one that is missing or the development default.

    :param development: Flask's debug mode (``FLASK_DEBUG=1``), where the
        development key stands in for a missing one.
    :raises ConfigError: outside development, with no key or the development one.
    """
    key = settings["SECRET_KEY"]
    if key and key != DEVELOPMENT_SECRET_KEY:
        return str(key)
    if development:
        return DEVELOPMENT_SECRET_KEY
    raise ConfigError(
        "WEIGUANG_SECRET_KEY is not set, or is the development key. Set it to a long "
        "random value, e.g. the output of: python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(32))' (or set FLASK_DEBUG=1 for a development server)."
    )


def origin_list(value: str | list[str] | None) -> list[str] | None:
    """Return the allowed origins as a list (None: the request's own origin only).

    An empty setting counts as unset: an empty list would turn python-engineio's
    origin check off altogether.
    """
    origins = value.replace(",", " ").split() if isinstance(value, str) else value
    return list(origins) if origins else None


def normalise_database_url(url: str) -> str:
    """Pick psycopg2 for a PostgreSQL URL that names no driver.

    SQLAlchemy 2.1 would pick psycopg 3 for ``postgresql://``; Weiguang uses
    psycopg2 because psycogreen makes it cooperate with eventlet. The
    ``postgres://`` spelling some hosts hand out is accepted too.
    """
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url.removeprefix(scheme)
    return url
