"""Who is who within a user's scope: display names for the app's screens.

A task screen names its holder, and a coordinator hands tasks to people, so
a device needs the display names of the users it works alongside — and no
one else's (contract "Privacy": personal data only where a role needs it).
Two users work alongside each other when their scopes share a compound; a
building-scoped user counts in the compounds of their buildings.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from server.extensions import db
from server.models import DeviceToken, PushLog, RecordRow, User
from server.scopes import live_ids, resolve
from server.store import chunks, in_scope
from sync.actors import Role
from sync.conflicts import DEVICE_FIELDS


def compounds_of(user: User, building_compound: dict[str, str]) -> frozenset[str]:
    """Return the compounds ``user`` works in (those of their buildings, for a building scope)."""
    scope = resolve(user)
    in_buildings = {building_compound[b] for b in scope.building_ids if b in building_compound}
    return scope.compound_ids | in_buildings


def building_compounds(neighbourhood_id: str) -> dict[str, str]:
    """Return building id → compound id for the buildings of one neighbourhood."""
    compounds = live_ids("compound", "neighbourhood_id", [neighbourhood_id])
    rows = db.session.execute(
        select(RecordRow.id, RecordRow.fields["compound_id"].as_string()).where(
            RecordRow.type == "building",
            RecordRow.deleted.is_(False),
            RecordRow.fields["compound_id"].as_string().in_(list(compounds)),
        )
    )
    return {building_id: compound_id for building_id, compound_id in rows}


def people_alongside(user: User) -> list[User]:
    """Return the active users of ``user``'s neighbourhood who share a compound with them.

    ``user`` is included. Ordered by id.
    """
    others: Iterable[User] = db.session.scalars(
        select(User)
        .where(User.neighbourhood_id == user.neighbourhood_id, User.active.is_(True))
        .order_by(User.id)
    )
    buildings = building_compounds(user.neighbourhood_id)
    mine = compounds_of(user, buildings)
    return [
        other for other in others if other.id == user.id or mine & compounds_of(other, buildings)
    ]


def devices_in_conflicts(user: User) -> list[dict[str, str]]:
    """Return the names of the installs that unresolved conflicts in ``user``'s scope name.

    A coordinator's conflict inbox says on which device each value was made;
    a conflict record names an install by its ``client_id`` (contract,
    "Conflict rules"), and the push log (``push_log``) links an install to the device
    token it pushed with, whose name the user gave when signing in. Only
    coordinators receive conflicts, so only they get device names, and only
    of installs their conflicts name; for an install that signed in more than
    once, the newest token's name.

    :returns: ``[{"client_id", "name"}]`` ordered by ``client_id``; empty for
        other roles.
    """
    if user.role != Role.COORDINATOR:
        return []
    scope = resolve(user)
    conditions = [RecordRow.type == "conflict", RecordRow.deleted.is_(False)]
    if not scope.everything:
        conditions.append(in_scope(RecordRow.version, scope))
    client_ids: set[str] = set()
    for (fields,) in db.session.execute(select(RecordRow.fields).where(*conditions)):
        if not fields.get("resolved"):
            client_ids.update(fields.get(name) for name in DEVICE_FIELDS if fields.get(name))
    names = install_names(client_ids)
    return [{"client_id": client_id, "name": names[client_id]} for client_id in sorted(names)]


def install_names(client_ids: Iterable[str]) -> dict[str, str]:
    """Return client_id → the name of the newest device token that install pushed with.

    Installs that never pushed (or pushed without a token) are left out. Read
    through the push log's ``ix_push_log_client_id``.
    """
    names: dict[str, str] = {}
    for chunk in chunks(sorted(set(client_ids))):
        rows = db.session.execute(
            select(PushLog.client_id, DeviceToken.device_name)
            .join(DeviceToken, DeviceToken.id == PushLog.device_token_id)
            .where(PushLog.client_id.in_(chunk))
            .order_by(DeviceToken.id)
        )
        names.update({client_id: name for client_id, name in rows})
    return names
