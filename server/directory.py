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
from server.models import RecordRow, User
from server.scopes import live_ids, resolve


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
