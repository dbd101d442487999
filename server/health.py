"""The health check's dependency checks (contract, "Operations").

Each check answers ``"ok"``, ``"off"`` (not configured) or a short reason:
the kind of error only, since the health check needs no token and must not
tell strangers the database's host or user.
"""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.extensions import db

OK = "ok"
OFF = "off"
EXTENSION = "weiguang_health_redis"
# A health check answers quickly or says the queue is down: a load balancer waits for it.
REDIS_TIMEOUT_S = 2.0


def check_database() -> str:
    """Run ``SELECT 1``; return ``"ok"`` or why it failed."""
    try:
        db.session.execute(text("SELECT 1"))
        return OK
    except SQLAlchemyError as error:
        return f"unavailable ({type(error).__name__})"
    finally:
        db.session.remove()


def check_message_queue() -> str:
    """Ping the Redis message queue; ``"off"`` when none is configured."""
    client: Redis | None = current_app.extensions[EXTENSION]
    if client is None:
        return OFF
    try:
        client.ping()
        return OK
    except RedisError as error:
        return f"unavailable ({type(error).__name__})"


def checks() -> dict[str, str]:
    """Return every dependency's state, by name."""
    return {"database": check_database(), "message_queue": check_message_queue()}


def is_healthy(states: dict[str, str]) -> bool:
    """Tell whether every dependency that is on answers."""
    return all(state in (OK, OFF) for state in states.values())


def init_app(app: Flask) -> None:
    """Make the Redis client the queue check pings (its own: short timeouts)."""
    url = app.config["WEIGUANG"]["MESSAGE_QUEUE"]
    app.extensions[EXTENSION] = (
        Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S)
        if url
        else None
    )
