"""The sync endpoints: push changesets, pull changes (``sync-contract.md``)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, request

from server import backup, gate_alerts, gate_keys, live, logs, metrics, rate_limits
from server.auth import current_actor, current_identity, require_auth
from server.clock import utcnow
from server.errors import ApiError
from server.extensions import db, limiter
from server.payloads import json_body
from server.schemas.sync import PULL_ARGS
from server.store import SqlStore
from sync.actors import Actor
from sync.changes import Push
from sync.protocol import PushOutcome, apply_push
from sync.pull import changes_since
from sync.wire import MalformedPush, PushTooLarge, push_from_wire

bp = Blueprint("sync", __name__, url_prefix="/api/v1/sync")
log = logging.getLogger(__name__)


@bp.post("/push")
@require_auth()
@limiter.limit(rate_limits.push_limit, key_func=rate_limits.device_key)
def push() -> Any:
    """Apply a device's changesets in order; answer each one's result (429 past the limit)."""
    try:
        incoming = push_from_wire(json_body())
    except MalformedPush as error:
        raise ApiError(400, "malformed-push", str(error)) from None
    except PushTooLarge as error:
        raise ApiError(413, "push-too-large", str(error)) from None
    outcome, prev = apply_and_commit(incoming)
    metrics.observe_push(outcome)
    logs.log_push(outcome)
    live.announce_soon(outcome, prev)
    try:
        gate_alerts.raise_alerts(outcome)
    except Exception:
        # The push has committed: the device must hear its results, or it
        # would retry what is already applied. The alert is logged instead.
        db.session.rollback()
        log.exception("gate alerts of a committed push could not be raised")
    return outcome.to_wire()


@bp.get("/pull")
@require_auth()
def pull() -> Any:
    """Return the caller's changes after ``cursor``, a page at a time, and the database's epoch."""
    args = PULL_ARGS.load(request.args)
    page = changes_since(SqlStore.for_reading(), current_actor(), now=utcnow(), **args)
    metrics.observe_pull(page)
    return {**page.to_wire(), "epoch": backup.epoch()}


def apply_and_commit(incoming: Push, actor: Actor | None = None) -> tuple[PushOutcome, int]:
    """Apply a push in one transaction; return the outcome and the high water before it.

    :param actor: who the engine judges the push as; the signed-in user by default.
    """
    actor = actor or current_actor()
    received_at = utcnow()
    # Read before the commit below expires it: reading it after would start
    # the push's transaction with a SELECT instead of the lock.
    device_id = current_identity().device_id
    # End the sign-in's read transaction: the push's first statement must be
    # the lock on the version sequence (on SQLite, the write lock).
    db.session.commit()
    store = SqlStore.for_writing(
        device_token_id=device_id, client_id=incoming.client_id, received_at=received_at
    )
    outcome = apply_push(store, actor, incoming, received_at, signer=gate_keys.signer())
    store.flush()
    db.session.commit()
    return outcome, store.started_at_version
