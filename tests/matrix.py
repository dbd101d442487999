"""A world of one record of every declared type, made from the declarations alone.

The role-and-scope matrix (``tests/sync/test_matrix.py``,
``tests/server/test_matrix.py``) needs a record of each type in
:data:`sync.catalog.REGISTRY`, including the types other features add
later, without anybody writing a builder for them. :func:`build_world`
makes one per type from its field declarations:

- every text value carries a *marker*, a token unique to the compound, the
  type and the field (``marker("A", "resident", "phone")``), so that a scan
  of any response for the markers a role may not see finds a leak whatever
  the endpoint;
- a ``Ref`` names the world's record of that type (a type that is not
  declared yet gets a fresh id); the place fields copied from a parent are
  the world's compound and building;
- a field a role's sync policy matches on gets a value the policy admits
  (the policy's first value, the current time, the role's user), so that
  each role's audience is exercised rather than filtered out.

The records are written straight into a store (no push, no rules): the
matrix checks who *receives* what; the push matrix checks who may *write*.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sync import fields as f
from sync.actors import Actor
from sync.catalog import REGISTRY
from sync.policy import Matching, Own, Recent
from sync.records import FieldStamp, Record
from sync.registry import RecordType, Registry
from sync.times import format_datetime

#: Fields whose value the declarations cannot tell: a conflict is about the world's task.
ABOUT = {("conflict", "record_type"): "task"}
ABOUT_IDS = {("conflict", "record_id"): "task"}


def marker(letter: str, type_name: str, field_name: str) -> str:
    """Return the token that a world record of ``letter``'s compound carries in one field."""
    digest = hashlib.sha1(f"{type_name}.{field_name}".encode()).hexdigest()[:8]
    return f"mx{letter.lower()}{digest}"


def build_world(
    letter: str,
    existing: Mapping[str, str],
    users: Mapping[str, int],
    now: datetime,
    next_version: Any,
    registry: Registry = REGISTRY,
) -> dict[str, Record]:
    """Return one record of every type of ``registry`` in compound ``letter``, by type.

    :param existing: type → id of records that exist already and are used
        as they are (the seeded compound); the world holds no new one of them.
    :param users: role → the user id of that role's user (policies by owner).
    :param next_version: returns the store's next version, one per record.
    """
    ids = {name: existing.get(name, str(uuid.uuid4())) for name in registry}
    world: dict[str, Record] = {}
    for name in ordered(registry):
        if name in existing:
            continue
        rtype = registry[name]
        fields = {
            field_name: value_for(letter, rtype, field_name, declared, ids, users, now)
            for field_name, declared in rtype.fields.items()
        }
        lookup = {**{r.id: r for r in world.values()}}
        scope = rtype.scope(ids[name], fields, lookup.get)
        if scope is None and name in existing.values():
            continue
        assert scope is not None, f"the world cannot scope its {name}: declare a hint here"
        version = next_version()
        stamps = dict.fromkeys(fields, FieldStamp(version, now, users["coordinator"]))
        world[name] = Record(name, ids[name], version, False, fields, stamps, scope)
    return world


def ordered(registry: Registry) -> list[str]:
    """Return the type names so that each comes after the types it refers to."""
    done: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name in path or name not in registry:
            return
        rtype = registry[name]
        for ref in rtype.references.values():
            visit(ref.type, (*path, name))
        for type_name in (t for (owner, _), t in ABOUT_IDS.items() if owner == name):
            visit(type_name, (*path, name))
        done.append(name)

    for name in sorted(registry):
        visit(name, ())
    return done


def value_for(
    letter: str,
    rtype: RecordType,
    name: str,
    declared: f.Field,
    ids: Mapping[str, str],
    users: Mapping[str, int],
    now: datetime,
) -> object:
    """Return a valid value of one field of the world's record of ``rtype``."""
    if (rtype.name, name) in ABOUT:
        return ABOUT[rtype.name, name]
    if (rtype.name, name) in ABOUT_IDS:
        return ids[ABOUT_IDS[rtype.name, name]]
    for role, policy in sorted(rtype.sync_policy.items()):
        if isinstance(policy, Matching) and policy.field == name:
            return policy.values[0]
        if isinstance(policy, Own) and policy.field == name:
            return users[role]
        if isinstance(policy, Recent) and policy.field == name:
            return format_datetime(now)
    return example(declared, marker(letter, rtype.name, name), ids, users, now)


def example(
    declared: f.Field, token: str, ids: Mapping[str, str], users: Mapping[str, int], now: datetime
) -> object:
    """Return a value ``declared`` accepts; text carries ``token``."""
    match declared:
        case f.Nullable(inner=inner):
            return example(inner, token, ids, users, now)
        case f.Text(min_chars=low, max_chars=high):
            return token.ljust(low, "x")[: max(high, low)]
        case f.MaskedIdNumber():
            return f"{token}****".upper()
        case f.Integer(low=low, high=high):
            return max(low, min(high, 1))
        case f.Number(low=low, high=high):
            return max(low, min(high, 1.0))
        case f.TimeOfDay():
            return "08:00"
        case f.UserRef():
            return users["coordinator"]
        case f.Enum(choices=choices):
            return choices[0]
        case f.Boolean():
            return False
        case f.Date():
            return now.date().isoformat()
        case f.DateTime():
            return format_datetime(now)
        case f.Ref(type=type_name):
            return ids.get(type_name) or str(uuid.uuid4())
        case f.Uuid():
            return str(uuid.uuid4())
        case f.ListOf(item=item):
            return [example(item, token, ids, users, now)]
        case f.Object(keys=keys):
            return {key: example(each, token, ids, users, now) for key, each in keys.items()}
        case f.LangMap():
            return {"zh-CN": token, "en": token}
        case f.AnyJson():
            return token
    raise AssertionError(f"the world cannot fill a {type(declared).__name__}: teach it here")


def markers_in(record: Record, letter: str) -> dict[str, str]:
    """Return field → marker of the fields of a world record that carry one."""
    return {
        name: marker(letter, record.type, name)
        for name, value in record.fields.items()
        if marker(letter, record.type, name) in str(value).lower()
    }


def declared_view(record: Record, role: str, user_id: int, now: datetime) -> set[str] | None:
    """Return the fields of ``record`` that the declarations let ``role`` receive, or ``None``.

    Read from the declarations as published (``visibility``, ``sync_policy``),
    not from the engine: the server must agree with them. Scope is the
    caller's to check.
    """
    rtype = REGISTRY.get(record.type)
    if rtype is None or role not in rtype.visibility.roles:
        return None
    policy = rtype.sync_policy.get(role)
    if policy is not None and not policy.admits(record, now, user_id):
        return None
    restricted = rtype.visibility.fields
    return {name for name in record.fields if name not in restricted or role in restricted[name]}


def forbidden_markers(
    world: Mapping[str, Record], letter: str, viewer: Actor, now: datetime
) -> set[str]:
    """Return the markers of ``world`` that ``viewer`` may not receive: any of them is a leak."""
    hidden: set[str] = set()
    for record in world.values():
        shown = declared_view(record, viewer.role, viewer.user_id, now)
        if shown is None or not viewer.sees(record.scope):
            shown = set()
        hidden |= {
            token for name, token in markers_in(record, letter).items() if name not in shown
        }
    return hidden
