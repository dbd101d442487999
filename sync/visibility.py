"""Who sees which fields and types: personal data only where a role needs it.

Scope decides which records a user sees; this module decides what of them.
Each type may declare ``private`` fields (field → roles that see it) and
``seen_by`` (the roles that see the type at all). The engine applies this to
every record it hands out: pull pages, live views and conflict records in
push results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from sync.actors import Actor
from sync.catalog import REGISTRY
from sync.records import FieldStamp, Record, WireStamps
from sync.registry import Registry


def visible_fields(
    record: Record, actor: Actor, registry: Registry = REGISTRY
) -> Mapping[str, object]:
    """Return the fields of ``record`` that ``actor``'s role may see."""
    rtype = registry.get(record.type)
    if rtype is None or not rtype.private:
        return record.fields
    hidden = {name for name, roles in rtype.private.items() if actor.role not in roles}
    if hidden.isdisjoint(record.fields):
        return record.fields
    return {name: value for name, value in record.fields.items() if name not in hidden}


def redact(record: Record, actor: Actor, registry: Registry = REGISTRY) -> Record:
    """Return ``record`` as ``actor`` may see it (the same object if nothing is hidden).

    Stamps of hidden fields go too.
    """
    fields = visible_fields(record, actor, registry)
    if fields is record.fields:
        return record
    stamps: Mapping[str, FieldStamp]
    if isinstance(record.stamps, WireStamps):  # filter without parsing
        wire = record.stamps.to_wire()
        stamps = WireStamps({name: wire[name] for name in wire if name in fields})
    else:
        stamps = {name: stamp for name, stamp in record.stamps.items() if name in fields}
    return replace(record, fields=fields, stamps=stamps)


def sees_type(actor: Actor, type_name: str, registry: Registry = REGISTRY) -> bool:
    """Return whether ``actor``'s role sees records of ``type_name`` at all."""
    rtype = registry.get(type_name)
    return rtype is None or rtype.seen_by is None or actor.role in rtype.seen_by
