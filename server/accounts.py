"""Accounts: password hashing, signing in, device tokens, the audit trail."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select

from server import grants, login_throttle, scopes
from server.clock import aware, utcnow
from server.errors import ApiError
from server.extensions import db
from server.models import AuditEntry, ChangesetLog, DeviceToken, PushLog, User, UserScopeItem

# A token's last-seen time is written at most this often, to spare the database.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)
# Verified against when the username is unknown, so timing doesn't reveal accounts.
_DUMMY_HASH_INPUT = "not a real password"


def hasher() -> PasswordHasher:
    """Return the Argon2id hasher with the configured cost."""
    settings = current_app.config["WEIGUANG"]
    return hasher_of_cost(settings["ARGON2_TIME_COST"], settings["ARGON2_MEMORY_KIB"])


@functools.cache
def hasher_of_cost(time_cost: int, memory_kib: int) -> PasswordHasher:
    """Return the Argon2id hasher of one cost (one per cost, for :func:`dummy_hash`)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


@functools.cache
def dummy_hash(of: PasswordHasher) -> str:
    """Return a hash of no one's password at ``of``'s cost, made once."""
    return of.hash(_DUMMY_HASH_INPUT)


def hash_password(password: str) -> str:
    """Hash ``password`` with Argon2id."""
    return hasher().hash(password)


def password_matches(user: User | None, password: str) -> bool:
    """Check ``password`` against ``user``'s hash.

    With no user it is checked against :func:`dummy_hash` instead, one
    Argon2 verification either way, so that an unknown username costs what
    a wrong password costs and timing does not tell which names exist.
    """
    stored = user.password_hash if user else dummy_hash(hasher())
    try:
        return hasher().verify(stored, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """Return the stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def log_in(username: str, password: str, device_name: str, address: str) -> tuple[str, User]:
    """Check the credentials and issue a new device token.

    Guessing is slowed down and audited by :mod:`server.login_throttle`.

    :raises ApiError: 401 for wrong credentials, 429 while this username is
        locked at this address.
    """
    attempt = login_throttle.Attempt(username, address)
    login_throttle.hold(attempt)
    user = db.session.scalar(select(User).where(User.username == username))
    if not password_matches(user, password) or user is None or not user.active:
        for detail in login_throttle.record_failure(attempt):
            about = user.id if user and "username" in detail else None
            audit(about, None, login_throttle.ALERT, detail=detail)
        db.session.commit()
        raise ApiError(401, "bad-credentials", "Wrong username or password.")
    login_throttle.forget_pair(attempt)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    device = DeviceToken(
        user=user,
        token_hash=token_digest(token),
        device_name=device_name,
        created_at=now,
        last_seen_at=now,
    )
    db.session.add(device)
    db.session.flush()
    audit(user.id, device.id, "login", detail={"device_name": device_name, "address": address})
    db.session.commit()
    return token, user


def sync_mark(user_id: int) -> dict[str, Any]:
    """Return the user's last changeset the server accepted, and when.

    One of the changesets of the user's last push (:class:`~server.models.PushLog`).
    """
    last = db.session.execute(
        select(ChangesetLog.id, PushLog.received_at)
        .join_from(PushLog, ChangesetLog, ChangesetLog.push_id == PushLog.id)
        .where(PushLog.user_id == user_id)
        .order_by(PushLog.received_at.desc())
        .limit(1)
    ).first()
    return {
        "last_changeset_id": last.id if last else None,
        "last_changeset_at": aware(last.received_at) if last else None,
    }


def token_in_force(token: str) -> DeviceToken | None:
    """Return the device token for a bearer token if it still works."""
    device = db.session.scalar(
        select(DeviceToken).where(DeviceToken.token_hash == token_digest(token))
    )
    if device is None or device.revoked_at is not None or not device.user.active:
        return None
    idle_limit = timedelta(days=current_app.config["WEIGUANG"]["TOKEN_IDLE_DAYS"])
    now = utcnow()
    last_seen = aware(device.last_seen_at)
    if now - last_seen > idle_limit:
        return None
    if now - last_seen > LAST_SEEN_RESOLUTION:
        device.last_seen_at = now
        db.session.commit()
    return device


def revoke(device: DeviceToken) -> None:
    """Revoke one device token at once."""
    device.revoked_at = utcnow()
    audit(device.user_id, device.id, "logout")
    db.session.commit()


def audit(
    user_id: int | None,
    device_token_id: int | None,
    action: str,
    *,
    record_type: str | None = None,
    record_id: str | None = None,
    version: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry to the audit log (in the caller's transaction); return it."""
    entry = AuditEntry(
        at=utcnow(),
        user_id=user_id,
        device_token_id=device_token_id,
        action=action,
        record_type=record_type,
        record_id=record_id,
        version=version,
        detail=detail or {},
    )
    db.session.add(entry)
    return entry


def create_user(data: dict[str, Any], created_by: User, device: DeviceToken | None = None) -> User:
    """Create a user in ``created_by``'s neighbourhood, with a scope within theirs.

    :raises ApiError: 403 if the scope is wider than ``created_by``'s (see
        :mod:`server.grants`), 422 if it names ids that are not compounds or
        buildings of the neighbourhood, 409 if the username is taken.
    """
    grants.check_scope(created_by, data["scope_kind"], data["scope_ids"])
    neighbourhood_id = created_by.neighbourhood_id
    if db.session.scalar(select(User.id).where(User.username == data["username"])):
        raise ApiError(409, "username-taken", f"The username {data['username']!r} is taken.")
    unknown = set(data["scope_ids"]) - known_scope_ids(data["scope_kind"], neighbourhood_id)
    if unknown:
        raise ApiError(
            422,
            "validation",
            "Some scope ids are not compounds or buildings of this neighbourhood.",
            errors={"scope_ids": [f"unknown: {', '.join(sorted(unknown))}"]},
        )
    user = User(
        username=data["username"],
        display_name=data["display_name"],
        password_hash=hash_password(data["password"]),
        role=data["role"],
        neighbourhood_id=neighbourhood_id,
        scope_kind=data["scope_kind"],
        created_at=utcnow(),
        scope_items=[UserScopeItem(ref_id=ref) for ref in data["scope_ids"]],
    )
    db.session.add(user)
    db.session.flush()
    audit(
        created_by.id,
        device.id if device else None,
        "create_user",
        detail={"user_id": user.id, "username": user.username, "role": user.role},
    )
    db.session.commit()
    return user


def known_scope_ids(scope_kind: str, neighbourhood_id: str) -> set[str]:
    """Return the ids a scope of ``scope_kind`` may name in a neighbourhood."""
    compounds = scopes.neighbourhood_compounds(neighbourhood_id)
    if scope_kind == "compounds":
        return set(compounds)
    if scope_kind == "buildings":
        return set(scopes.buildings_of(compounds))
    return set()
