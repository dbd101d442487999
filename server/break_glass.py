"""Break the glass: a user's temporary access to a compound outside their scope.

A clinician called to another compound at night cannot wait for a
coordinator to change their account. They open the compound themselves,
stating why, for a limited time:

- only roles in :data:`ROLES` may, only for a compound of their own
  neighbourhood that their scope does not already hold (422 otherwise);
- the reason is required (3 to 500 characters) and the time is at most
  12 hours (``server.schemas.break_glass``; problem+json 422 for either);
- the grant *is* its audit entry (action ``break-glass``: who, which
  compound, why, until when), so it can be neither rewritten nor hidden;
- coordinators whose scope holds the compound are told live (a
  ``break_glass`` Socket.IO event) and can list the grants in force;
- it ends by itself, or earlier when a coordinator who sees the compound
  (or the user, done) ends it (``POST /api/v1/break-glass/ID/end``: an
  audit entry ``break-glass-end`` naming the grant; the coordinators are
  told live, ``break_glass_ended``): every request and every live announcement resolves
  the user's scope afresh from the grants in force at that moment
  (:func:`server.scopes.granted_compounds`), so after expiry the compound's
  records are ``not_found`` to pushes and absent from pulls and events with
  nothing having to run. The user's sockets are disconnected when the glass
  is broken, so that they rejoin with the wider audience.

See ``docs/security.md``, "Break the glass".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint
from sqlalchemy import select

from server import accounts, clock, live, scopes
from server.auth import current_actor, current_identity, current_user, require_auth
from server.errors import ApiError
from server.extensions import db, socketio
from server.models import AuditEntry, DeviceToken, RecordRow, User
from server.payloads import load_body
from server.schemas.break_glass import BREAK_GLASS, GRANT, GRANT_LIST
from sync.actors import Role
from sync.records import Scope

bp = Blueprint("break_glass", __name__, url_prefix="/api/v1/break-glass")

#: Who may break the glass: those called out to people in need.
ROLES = (Role.CLINICIAN,)


@bp.post("")
@require_auth(*ROLES)
def break_glass() -> Any:
    """Open a compound outside the caller's scope for a stated reason and a limited time."""
    data = load_body(BREAK_GLASS)
    return GRANT.dump(grant(data["compound_id"], data["reason"], data["minutes"])), 201


@bp.get("")
@require_auth(Role.COORDINATOR, *ROLES)
def in_force() -> Any:
    """Return the grants in force (a coordinator's in their scope, anyone else's own) and the
    compounds the caller may open (``compounds``: id and name, empty for a coordinator).

    The app needs the names: a clinician's device holds only the compounds of their scope.
    """
    now = clock.utcnow()
    if current_actor().role == Role.COORDINATOR:
        viewer = current_actor()
        entries = [e for e in scopes.grants_in_force(now) if viewer.sees(place_of(e))]
    else:
        entries = scopes.grants_in_force(now, [current_identity().user_id])
    grants = [describe(entry) for entry in entries]
    return GRANT_LIST.dump({"grants": grants, "compounds": openable()})


def openable() -> list[dict[str, str]]:
    """Return the compounds the caller may open now, by name: none for a coordinator."""
    user = current_user()
    if user.role not in ROLES:
        return []
    scope = scopes.resolve(user)
    ids = [
        compound_id
        for compound_id in scopes.neighbourhood_compounds(user.neighbourhood_id)
        if not scope.covers(Scope(frozenset({compound_id})))
    ]
    rows = db.session.scalars(select(RecordRow).where(RecordRow.id.in_(ids)))
    return sorted(
        ({"id": row.id, "name": row.fields["name"]} for row in rows), key=lambda c: c["name"]
    )


@bp.post("/<grant_id>/end")
@require_auth(Role.COORDINATOR, *ROLES)
def end(grant_id: str) -> Any:
    """End a grant in force before its time: a coordinator's who sees it, or the user's own.

    :raises ApiError: 404 ``no-such-grant`` for a grant not in force or not the caller's
        to end (whether it exists is not revealed).
    """
    now = clock.utcnow()
    entry = next((e for e in scopes.grants_in_force(now) if str(e.id) == grant_id), None)
    if entry is None or not may_end(entry):
        raise ApiError(404, "no-such-grant", "No such grant in force that you may end.")
    described = describe(entry)
    accounts.audit(
        current_identity().user_id,
        current_identity().device_id,
        scopes.END_GRANT_ACTION,
        record_type="compound",
        record_id=entry.record_id,
        detail={"grant_id": entry.id},
    )
    db.session.commit()
    announce(described, "break_glass_ended")
    reconnect(entry.user_id)
    return GRANT.dump(described)


def may_end(entry: AuditEntry) -> bool:
    """Return whether the caller may end a grant: its user, or a coordinator who sees it."""
    if entry.user_id == current_identity().user_id:
        return True
    viewer = current_actor()
    return viewer.role == Role.COORDINATOR and viewer.sees(place_of(entry))


def reconnect(user_id: int | None) -> None:
    """Disconnect a user's sockets, so that they rejoin with the audience of their scope now."""
    devices = db.session.scalars(
        select(DeviceToken.id).where(
            DeviceToken.user_id == user_id, DeviceToken.revoked_at.is_(None)
        )
    )
    for device_id in list(devices):
        live.disconnect_device(device_id)


def grant(compound_id: str, reason: str, minutes: int) -> dict[str, Any]:
    """Record the grant, tell the coordinators live, reconnect the user's sockets; describe it.

    The description is made before the sockets are disconnected: a socket's
    disconnect handler, run at once under ``weiguang serve``, ends the
    request's database session, which leaves the entry unreadable (found by
    the Chromium test: the grant answered 500 there, never in the test client).

    :raises ApiError: 422 ``not-a-compound`` for a compound not in the
        user's neighbourhood, ``already-in-scope`` for one their scope holds.
    """
    user = current_user()
    if compound_id not in scopes.neighbourhood_compounds(user.neighbourhood_id):
        raise ApiError(422, "not-a-compound", "No such compound in your neighbourhood.")
    if scopes.resolve(user).covers(Scope(frozenset({compound_id}))):
        raise ApiError(422, "already-in-scope", "This compound is already in your scope.")
    expires_at = clock.utcnow() + timedelta(minutes=minutes)
    entry = accounts.audit(
        user.id,
        current_identity().device_id,
        scopes.BREAK_GLASS_ACTION,
        record_type="compound",
        record_id=compound_id,
        detail={"reason": reason, "minutes": minutes, "expires_at": expires_at.isoformat()},
    )
    db.session.commit()
    described = describe(entry)
    announce(described)
    reconnect(user.id)
    return described


def place_of(entry: AuditEntry) -> Scope:
    """Return the scope of the compound a grant opens."""
    return Scope(frozenset({entry.record_id or ""}))


def describe(entry: AuditEntry) -> dict[str, Any]:
    """Return a grant's public form from its audit entry."""
    user = db.session.get(User, entry.user_id)
    assert user is not None
    return {
        "id": entry.id,
        "user_id": entry.user_id,
        "username": user.username,
        "role": user.role,
        "compound_id": entry.record_id,
        "reason": entry.detail["reason"],
        "granted_at": clock.aware(entry.at),
        "expires_at": scopes.grant_expiry(entry),
    }


def announce(grant: dict[str, Any], event: str = "break_glass") -> None:
    """Emit ``event`` (``grant`` as :func:`describe` gives it) to coordinators who see it."""
    payload = GRANT.dump(grant)
    place = Scope(frozenset({grant["compound_id"]}))
    for room, viewer in scopes.connected_audiences().items():
        if viewer.role == Role.COORDINATOR and viewer.sees(place):
            socketio.emit(event, payload, to=room)
