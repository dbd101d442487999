"""Scope rules: how a record type derives its :class:`~sync.records.Scope`.

Each rule takes the record id, its (merged) fields and a lookup, and returns
``None`` when the scope cannot be told yet (a missing or malformed
reference); the engine then lets validation name the fault.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from sync import fields as f
from sync.records import Record, Scope
from sync.registry import Lookup, Parent, ScopeRule

#: A record kept per household (a resident, a visit, an order); the server
#: copies the household's place onto it.
HOUSEHOLD = Parent("household_id", "household", ("compound_id", "building_id"))
#: The copied place's fields.
PLACE_FIELDS = {
    "compound_id": f.Nullable(f.Ref("compound")),
    "building_id": f.Nullable(f.Ref("building")),
}


# Scopes are immutable and few (one a compound and building): a push makes
# one or two a change, and sharing them costs less than making them.
@functools.lru_cache(maxsize=4096)
def place(compound_id: str, building_id: str | None = None) -> Scope:
    """Return the scope of one compound, and maybe one of its buildings."""
    return Scope(frozenset((compound_id,)), building_id)


def own_compound(record_id: str, fields: Mapping[str, object], lookup: Lookup) -> Scope | None:
    """Scope a compound to itself."""
    return place(record_id)


def compound_field(record_id: str, fields: Mapping[str, object], lookup: Lookup) -> Scope | None:
    """Scope by the ``compound_id`` field and the optional ``building_id`` field."""
    compound_id = fields.get("compound_id")
    building_id = fields.get("building_id")
    if not isinstance(compound_id, str):
        return None
    return place(compound_id, building_id if isinstance(building_id, str) else None)


def building_itself(record_id: str, fields: Mapping[str, object], lookup: Lookup) -> Scope | None:
    """Scope a building to its compound and to itself."""
    compound_id = fields.get("compound_id")
    if not isinstance(compound_id, str):
        return None
    return place(compound_id, record_id)


def parent_record(parent: Parent, fields: Mapping[str, object], lookup: Lookup) -> Record | None:
    """Return the live parent record ``fields`` points to, or ``None``."""
    parent_id = fields.get(parent.field)
    if not isinstance(parent_id, str):
        return None
    found = lookup(parent_id)
    if found is None or found.deleted or found.type != parent.type:
        return None
    return found


def from_parent(parent: Parent) -> ScopeRule:
    """Scope a record as its parent (a resident or visit as its household)."""

    def rule(record_id: str, fields: Mapping[str, object], lookup: Lookup) -> Scope | None:
        found = parent_record(parent, fields, lookup)
        return None if found is None else found.scope

    return rule


def referenced_compounds(
    record_id: str, fields: Mapping[str, object], lookup: Lookup
) -> Scope | None:
    """Scope a conflict to the compounds of the record it is about."""
    about = fields.get("record_id")
    found = lookup(about) if isinstance(about, str) else None
    return None if found is None else Scope(found.scope.compound_ids)


def compound_list(record_id: str, fields: Mapping[str, object], lookup: Lookup) -> Scope | None:
    """Scope by the ``compound_ids`` list field (a supply round, a notice)."""
    compound_ids = fields.get("compound_ids")
    if not isinstance(compound_ids, list) or not compound_ids:
        return None
    if not all(isinstance(each, str) for each in compound_ids):
        return None
    return Scope(frozenset(compound_ids))
