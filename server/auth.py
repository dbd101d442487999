"""Sign-in and sign-out, and the bearer-token guard for every other view."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, request
from flask.ctx import _AppCtxGlobals

from server import accounts, live, login_throttle, sign_ins
from server.errors import ApiError
from server.extensions import db
from server.models import DeviceToken, User
from server.payloads import load_body
from server.schemas.accounts import LOGIN, LOGIN_ALERTS, LOGIN_REPLY
from sync.actors import Actor

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def bearer_token() -> str | None:
    """Return the bearer token of the current request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_auth(
    *roles: str, marks: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a view: a valid token (401) and, if given, one of ``roles`` (403).

    The guarded view carries ``required_roles`` (empty: any signed-in role), so
    that the role-and-scope matrix reads every endpoint's rule from the views.

    :param marks: read the committed high-water marks with the token's check
        (:func:`server.sign_ins.committed_marks`), as a pull needs.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            identity = sign_ins.identify(token, marks=marks) if token else None
            if identity is None:
                raise ApiError(
                    401,
                    "unauthenticated",
                    "Sign in again: the token is missing, expired or revoked.",
                    headers={"WWW-Authenticate": 'Bearer realm="weiguang"'},
                )
            if roles and identity.actor.role not in roles:
                raise ApiError(403, "forbidden-role", "Your role may not do this.")
            g.identity = identity
            return view(*args, **kwargs)

        guarded.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return guarded

    return decorate


def current_identity() -> sign_ins.Identity:
    """Return who the request is signed in as (in a view guarded by :func:`require_auth`)."""
    identity: sign_ins.Identity = g.identity
    return identity


def current_actor() -> Actor:
    """Return the sync engine's view of the signed-in user: role and scope, grants included."""
    return current_identity().actor


def current_user() -> User:
    """Return the signed-in user's row (loaded on first use in the request)."""
    user: User = g.user
    return user


def current_device() -> DeviceToken:
    """Return the request's device token row (loaded on first use in the request)."""
    device: DeviceToken = g.device
    return device


class RequestGlobals(_AppCtxGlobals):
    """Flask's ``g``, where ``g.user`` and ``g.device`` load the signed-in rows on first use.

    A guarded request carries only ``g.identity`` (:mod:`server.sign_ins`);
    most views need no row, and those that do (or read ``g.user``) get it here.
    """

    def __getattr__(self, name: str) -> Any:
        identity = self.__dict__.get("identity")
        if identity is None or name not in ("user", "device"):
            return super().__getattr__(name)
        row = (
            db.session.get_one(User, identity.user_id)
            if name == "user"
            else db.session.get_one(DeviceToken, identity.device_id)
        )
        setattr(self, name, row)
        return row


@bp.post("/login")
def login() -> Any:
    """Sign in; every sign-in makes a token of its own for its device."""
    data = load_body(LOGIN)
    token, user = accounts.log_in(
        data["username"], data["password"], data["device_name"], request.remote_addr or "-"
    )
    return LOGIN_REPLY.dump({"token": token, "user": user, "sync": accounts.sync_mark(user.id)})


@bp.get("/alerts")
@require_auth("coordinator")
def alerts() -> Any:
    """Return the recent sign-in alerts about accounts within the coordinator's scope."""
    return LOGIN_ALERTS.dump({"alerts": login_throttle.alerts_for(current_user())})


@bp.post("/logout")
@require_auth()
def logout() -> Any:
    """Revoke this device's token, and only it, at once."""
    device = current_device()
    accounts.revoke(device)
    live.disconnect_device(device.id)
    return "", 204
