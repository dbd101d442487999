"""Sign-in and sign-out, and the bearer-token guard for every other view."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, request

from server import accounts, live, login_throttle
from server.errors import ApiError
from server.payloads import load_body
from server.schemas.accounts import LOGIN, LOGIN_ALERTS, LOGIN_REPLY

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def bearer_token() -> str | None:
    """Return the bearer token of the current request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_auth(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a view: a valid token (401) and, if given, one of ``roles`` (403).

    The guarded view carries ``required_roles`` (empty: any signed-in role), so
    that the role-and-scope matrix reads every endpoint's rule from the views.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            device = accounts.token_in_force(token) if token else None
            if device is None:
                raise ApiError(
                    401,
                    "unauthenticated",
                    "Sign in again: the token is missing, expired or revoked.",
                    headers={"WWW-Authenticate": 'Bearer realm="weiguang"'},
                )
            if roles and device.user.role not in roles:
                raise ApiError(403, "forbidden-role", "Your role may not do this.")
            g.device = device
            g.user = device.user
            return view(*args, **kwargs)

        guarded.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return guarded

    return decorate


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
    return LOGIN_ALERTS.dump({"alerts": login_throttle.alerts_for(g.user)})


@bp.post("/logout")
@require_auth()
def logout() -> Any:
    """Revoke this device's token, and only it, at once."""
    accounts.revoke(g.device)
    live.disconnect_device(g.device.id)
    return "", 204
