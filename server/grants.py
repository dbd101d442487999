"""Who may give an account which scope: never wider than their own.

Only coordinators manage accounts (the views say so with ``require_auth``),
and a coordinator may give any role, since no role reaches further than a
coordinator's; what bounds them is their scope. A scope is *within* the
granter's when every record it shows is one the granter sees:

===================  =============================================
granter's scope      may give
===================  =============================================
the neighbourhood    any scope in the neighbourhood
compounds            some of those compounds, or buildings in them
buildings            some of those buildings
===================  =============================================

A neighbourhood scope grows with the neighbourhood (a compound added later
is in it), so only a neighbourhood-wide coordinator may give one, even if a
coordinator's compounds happen to be all there are today.
"""

from __future__ import annotations

from collections.abc import Collection

from server import scopes
from server.errors import ApiError
from server.models import User


def check_scope(granter: User, scope_kind: str, scope_ids: Collection[str]) -> None:
    """Raise 403 ``forbidden-scope`` unless the scope is within ``granter``'s.

    :param scope_kind: ``neighbourhood``, ``compounds`` or ``buildings``.
    :param scope_ids: the compound or building ids the scope names.
    """
    if not within(granter, scope_kind, scope_ids):
        raise ApiError(
            403,
            "forbidden-scope",
            "You may only give a scope inside your own.",
        )


def within(granter: User, scope_kind: str, scope_ids: Collection[str]) -> bool:
    """Return whether a scope of ``scope_kind`` naming ``scope_ids`` is within ``granter``'s."""
    if granter.scope_kind == "neighbourhood":
        return True
    if scope_kind == "neighbourhood":
        return False
    own = scopes.resolve(granter)
    if scope_kind == "compounds":
        return set(scope_ids) <= own.compound_ids
    return set(scope_ids) <= own.building_ids | scopes.buildings_of(own.compound_ids)
