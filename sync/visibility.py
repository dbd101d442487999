"""Who receives what: closed by default, personal data only where a role needs it.

Scope decides which records a user may look at; this module decides what of
them reaches the user's device, from each type's declaration
(:class:`sync.registry.Visibility` and ``sync_policy``):

- a type nobody declared, or one whose audience does not name the role,
  reaches nobody (the seeded supply rounds once travelled to every role
  because nothing said otherwise);
- a field reaches the roles declared for it; a stored field the type does
  not declare reaches nobody;
- a role's sync policy may narrow which records of the type it receives.

:func:`view` is the one function every path that hands out records uses:
pull pages, live events, ``conflict.record`` in push results (and exports).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from sync.actors import Actor
from sync.catalog import REGISTRY
from sync.records import FieldStamp, Record, WireStamps
from sync.registry import RecordType, Registry


def view(
    record: Record,
    actor: Actor,
    registry: Registry = REGISTRY,
    now: datetime | None = None,
) -> Record | None:
    """Return ``record`` as ``actor``'s device may receive it, or ``None``.

    Scope is the caller's to check (stores filter by it); this applies the
    type's audience, the role's sync policy and field visibility.

    :param now: the time the record is sent, for time-window policies.
    """
    rtype = registry.get(record.type)
    if rtype is None or actor.role not in rtype.visibility.roles:
        return None
    policy = rtype.sync_policy.get(actor.role)
    if policy is not None and not record.deleted and not policy.admits(record, now, actor.user_id):
        return None
    return redact(record, actor, rtype)


def visible_fields(record: Record, actor: Actor, rtype: RecordType) -> Mapping[str, object]:
    """Return the fields of ``record`` that ``actor``'s role may see."""
    allowed = rtype.readable.get(actor.role, frozenset())
    if allowed.issuperset(record.fields):
        return record.fields
    return {name: value for name, value in record.fields.items() if name in allowed}


def redact(record: Record, actor: Actor, rtype: RecordType) -> Record:
    """Return ``record`` with only the fields ``actor`` may see (the same object if all).

    Stamps of hidden fields go too.
    """
    fields = visible_fields(record, actor, rtype)
    if fields is record.fields:
        return record
    stamps: Mapping[str, FieldStamp]
    if type(record.stamps) is WireStamps:  # filter without parsing
        wire = record.stamps.to_wire()
        stamps = WireStamps({name: wire[name] for name in wire if name in fields})
    else:
        stamps = {name: stamp for name, stamp in record.stamps.items() if name in fields}
    return replace(record, fields=fields, stamps=stamps)
