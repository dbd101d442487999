"""Load a push body into :mod:`sync.changes` dataclasses.

Only a malformed top level is refused whole (:class:`MalformedPush`, a 400).
Anything wrong inside a changeset is kept on the dataclass as ``problem`` so
that the engine rejects that changeset alone, ``invalid``, as the contract
requires. The server may validate the top level with marshmallow and call
:func:`changeset_from_wire` per item, or call :func:`push_from_wire` whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.changes import Change, Changeset, Push
from sync.fields import check_text
from sync.records import MAX_CLIENT_ID_CHARS
from sync.times import parse_datetime


class MalformedPush(ValueError):
    """The push body's top level is malformed; refuse the request whole (400)."""


def push_from_wire(body: object) -> Push:
    """Load a decoded JSON push body.

    :raises MalformedPush: if ``body`` is not an object with a
        ``changesets`` list (``client_id``, when present, must be text of
        at most :data:`~sync.records.MAX_CLIENT_ID_CHARS` characters: it is
        kept in every field stamp the push writes and in conflict records).
    """
    if not isinstance(body, Mapping):
        raise MalformedPush("the body must be a JSON object")
    changesets = body.get("changesets")
    if not isinstance(changesets, list):
        raise MalformedPush("'changesets' must be a list")
    return Push(_client_id(body), tuple(changeset_from_wire(item) for item in changesets))


def _client_id(body: Mapping[str, Any]) -> str:
    """Return the push's install id (``""`` when absent).

    :raises MalformedPush: if it is not text the server can store and serve.
    """
    client_id = body.get("client_id", "")
    problem = f"'client_id' must be text of at most {MAX_CLIENT_ID_CHARS} characters"
    if not isinstance(client_id, str) or len(client_id) > MAX_CLIENT_ID_CHARS:
        raise MalformedPush(problem)
    try:
        check_text(client_id, multiline=False)
    except ValueError:
        raise MalformedPush(problem) from None
    return client_id


def changeset_from_wire(item: object) -> Changeset:
    """Load one changeset, recording rather than raising what is wrong with it."""
    if not isinstance(item, Mapping):
        return Changeset("", None, (), problem="a changeset must be an object")
    raw_id = item.get("id")
    changeset_id = raw_id if isinstance(raw_id, str) else ""
    raw_changes = item.get("changes")
    if not isinstance(raw_changes, list):
        return Changeset(changeset_id, None, (), problem="'changes' must be a list")
    changes = tuple(change_from_wire(raw) for raw in raw_changes)
    if not changeset_id:
        return Changeset("", None, changes, problem="'id' must be a non-empty string")
    try:
        made_at = parse_datetime(item.get("made_at"))
    except ValueError as error:
        return Changeset(changeset_id, None, changes, problem=f"made_at: {error}")
    return Changeset(changeset_id, made_at, changes)


def change_from_wire(raw: object) -> Change:
    """Load one change, recording rather than raising what is wrong with it."""
    if not isinstance(raw, Mapping):
        return Change("", "", "", problem="a change must be an object")
    type_, record_id, op = (_text(raw.get(key)) for key in ("type", "id", "op"))
    base = raw.get("base_version")
    fields = raw.get("fields")
    if fields is None:  # a delete need not send any
        fields = {}
    problem = _change_problem(type_, record_id, op, base, fields)
    if problem is not None:
        return Change(type_, record_id, op, problem=problem)
    assert isinstance(fields, dict)  # checked by _change_problem
    return Change(type_, record_id, op, base or 0, fields)


def _change_problem(type_: str, record_id: str, op: str, base: Any, fields: Any) -> str | None:
    """Return what is malformed about a change's envelope, or ``None``."""
    if not (type_ and record_id and op):
        return "'type', 'id' and 'op' must be non-empty strings"
    if base is not None and (type(base) is not int or base < 0):
        return "'base_version' must be a non-negative integer"
    if not isinstance(fields, dict):
        return "'fields' must be an object"
    return None


def _text(value: object) -> str:
    """Return ``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""
