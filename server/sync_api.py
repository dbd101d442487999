"""The sync endpoints: push changesets, pull changes (``sync-contract.md``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from flask import Blueprint, current_app, request

from server import (
    backup,
    clock,
    gate_alerts,
    gate_keys,
    green,
    jsontext,
    live,
    logs,
    metrics,
    rate_limits,
    sign_ins,
)
from server.auth import current_actor, current_identity, require_auth
from server.errors import ApiError
from server.extensions import db
from server.payloads import json_body
from server.schemas.sync import load_pull_args
from server.store import SqlStore, rerun_races
from sync.actors import Actor
from sync.changes import Push
from sync.protocol import PushOutcome, apply_push
from sync.pull import changes_since
from sync.wire import MalformedPush, PushTooLarge, push_from_wire, storable_source

bp = Blueprint("sync", __name__, url_prefix="/api/v1/sync")


@bp.post("/push")
@require_auth()
def push() -> Any:
    """Apply a device's changesets in order; answer each one's result (429 past the limit)."""
    rate_limits.check_push(current_identity().device_id)
    # The body's changes, the records they make and the rows written are
    # made and freed inside, none in a cycle (as a pull's page): a push of
    # 250 changesets ran the collector 8 times (1-3 ms), 1 time paused.
    # Paused until the answer is made and the push's objects are freed (as
    # :func:`push_answer` returns): resumed while the outcome still lived,
    # the collector's first run went over all of it, about 0.2 ms of a
    # 250-changeset push (issue #16).
    with green.collector_paused():
        body = push_answer()
    return current_app.response_class(body, mimetype="application/json")


def push_answer() -> bytes:
    """Parse, apply and commit the request's push; return the body of the answer."""
    outcome, prev, recorded = apply_and_commit(parsed_push())
    counts = metrics.result_counts(outcome)  # once for both
    metrics.observe_push(outcome, counts)
    logs.log_push(outcome, counts)
    live.announce_soon(outcome, prev)
    if gate_alerts.may_raise(outcome):
        # After the response: the device must hear its results at once, and
        # whatever happens to the alerts (logged if they fail), for the push
        # has committed and would otherwise be retried.
        live.after_response(
            lambda: gate_alerts.raise_alerts(outcome),
            "gate alerts of a committed push could not be raised",
        )
    return jsontext.push_body(outcome, recorded)


def parsed_push() -> Push:
    """Return the request's push, parsed and checked.

    :raises ApiError: 400 ``malformed-push``, 413 ``push-too-large`` (and
        :func:`json_body`'s 415 and 400).
    """
    try:
        # The bytes first, kept on the request, and the body parsed from
        # them but not kept, so that its objects are freed with the push's
        # (see :func:`push`): parsed uncached first, the bytes were read
        # from the stream and not kept, and ``get_data`` then had none.
        raw = request.get_data()
        body = json_body(cache=False)
        return push_from_wire(body, storable=storable_source(raw))
    except MalformedPush as error:
        raise ApiError(400, "malformed-push", str(error)) from None
    except PushTooLarge as error:
        raise ApiError(413, "push-too-large", str(error)) from None


@bp.get("/pull")
@require_auth(marks=True)
def pull() -> Any:
    """Return the caller's changes after ``cursor``, the database's epoch and grants in force.

    ``grants`` (``[{"compound_id", "expires_at"}]``) are the caller's
    break-the-glass grants in force, so that a device drops what a grant gave
    it once the grant ends (``web/app/sync.js``, rule 9).
    """
    args = load_pull_args(request.args)
    # A page's records are made and freed inside, none in a cycle.
    with green.collector_paused():
        body = pull_answer(current_identity(), args)
    return current_app.response_class(body, mimetype="application/json")


def pull_answer(identity: sign_ins.Identity, args: dict[str, Any]) -> bytes:
    """Return the body of :func:`pull`'s answer to ``identity`` for the loaded ``args``."""
    store = SqlStore.for_reading(sign_ins.committed_marks())
    page = changes_since(store, identity.actor, now=clock.utcnow(), **args)
    metrics.observe_pull(page)
    grants = [
        {"compound_id": compound_id, "expires_at": expires_at.isoformat()}
        for compound_id, expires_at in identity.grants
    ]
    rest = {"cursor": page.cursor, "more": page.more, "epoch": backup.epoch(), "grants": grants}
    # As ``{**page.to_wire(), **rest}`` would be encoded, records' stored text spliced in.
    return jsontext.pull_body(page.records, rest)


class Committed(NamedTuple):
    """A committed push: what :func:`apply_and_commit` returns."""

    outcome: PushOutcome
    #: The high-water mark before the push (the live event's ``prev``).
    prev: int
    #: Changeset id → the JSON text its result was recorded as (:func:`jsontext.push_body`).
    recorded: Mapping[str, str]


def apply_and_commit(incoming: Push, actor: Actor | None = None) -> Committed:
    """Apply a push in one transaction; return the outcome and the high water before it.

    On SQLite the push takes the lock on the version sequence first and
    holds it to its commit (``docs/sync.md``, "Why no pull skips a
    change"); on PostgreSQL it runs beside other pushes, and one that
    raced another is run again (:func:`server.store.rerun_races`; "Parallel
    pushes on PostgreSQL"), the request's earlier writes rolled back. It joins
    the request's transaction rather than committing what came before:
    its first statement, that lock, is a write, and a write reads afresh
    (on SQLite the transaction restarts at its first write,
    ``server/database.py``; on PostgreSQL every statement of a ``READ
    COMMITTED`` transaction sees what committed before it), so a commit
    first only cost a round trip (issue #16). Whatever the request wrote
    before (a sign-in's ``last_seen`` stamp) commits with the push.

    :param actor: who the engine judges the push as; the signed-in user by default.
    """
    actor = actor or current_actor()
    received_at = clock.utcnow()
    device_id = current_identity().device_id
    changes = sum(len(changeset.changes) for changeset in incoming.changesets)

    def run() -> Committed:
        store = SqlStore.for_writing(
            device_token_id=device_id,
            client_id=incoming.client_id,
            received_at=received_at,
            expected_writes=changes,
            changeset_ids=[changeset.id for changeset in incoming.changesets if changeset.id],
        )
        outcome = apply_push(store, actor, incoming, received_at, signer=gate_keys.signer())
        store.flush()
        db.session.commit()
        return Committed(outcome, store.started_at_version, store.recorded_texts)

    return rerun_races(run)
