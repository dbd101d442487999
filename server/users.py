"""Users: who am I, and coordinators creating accounts in their neighbourhood."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from server import accounts, directory
from server.auth import current_device, current_user, require_auth
from server.payloads import load_body
from server.schemas.accounts import DIRECTORY, NEW_USER, USER

bp = Blueprint("users", __name__, url_prefix="/api/v1/users")


@bp.get("/me")
@require_auth()
def me() -> Any:
    """Return the signed-in user."""
    return USER.dump(current_user())


@bp.get("/directory")
@require_auth()
def people() -> Any:
    """Return the display names of the users who share a compound with the caller.

    Coordinators also get the names of the devices their conflicts name.
    """
    return DIRECTORY.dump(
        {
            "users": directory.people_alongside(current_user()),
            "devices": directory.devices_in_conflicts(current_user()),
        }
    )


@bp.post("")
@require_auth("coordinator")
def create() -> Any:
    """Create a user with a scope within the coordinator's (403 if wider, 409 if taken)."""
    data = load_body(NEW_USER)
    user = accounts.create_user(data, created_by=current_user(), device=current_device())
    return USER.dump(user), 201
