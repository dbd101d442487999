"""Load a push body into :mod:`sync.changes` dataclasses.

Only a malformed top level is refused whole (:class:`MalformedPush`, a 400;
:class:`PushTooLarge`, a 413, for more than :data:`MAX_CHANGESETS`).
Anything wrong inside a changeset is kept on the dataclass as ``problem`` so
that the engine rejects that changeset alone, ``invalid``, as the contract
requires. The server may validate the top level with marshmallow and call
:func:`changeset_from_wire` per item, or call :func:`push_from_wire` whole.

Everything the loader lets through can be stored and served again: text is
valid Unicode without U+0000 (:func:`unstorable_text`), a changeset id fits
its column, a version fits a PostgreSQL ``BIGINT``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sync.changes import Change, Changeset, Push
from sync.fields import check_text
from sync.records import MAX_CLIENT_ID_CHARS
from sync.times import parse_datetime

#: The most changesets one push may hold; a larger push is refused whole.
#: The app sends at most 50 (``web/app/sync.js``, ``PUSH_BATCH_SIZE``).
MAX_CHANGESETS = 500
#: The most changes one changeset may hold; a larger one is ``invalid``.
MAX_CHANGES = 1000
#: The longest changeset id: the contract's UUID, and the column's size.
MAX_CHANGESET_ID_CHARS = 36
#: The highest version there can be: versions are PostgreSQL ``BIGINT``.
MAX_VERSION = 2**63 - 1
#: What text on the wire must be (see :func:`unstorable_text`).
TEXT_RULE = "text must be valid Unicode (no unpaired surrogate) without U+0000"

# An unpaired surrogate (JSON may write one as "\ud83d"; Python decodes it
# into a str that no UTF-8 encoder accepts) or NUL (PostgreSQL text holds none).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Where in a JSON text such a character can come from: an escape of NUL or of
# a surrogate, or a surrogate's UTF-8 bytes (JSON decoders pass them through).
# Two searches, each led by a literal (``\u``, the byte ED) that the regular
# expression engine looks for at C speed, the second only if the byte is
# there at all: one pattern of both, tried at every byte, took 300 µs of a
# 250-changeset push's 90 KB body, these 60, and decoding the body 400
# (issue #16).
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_SURROGATE_BYTES = re.compile(rb"\xed[\xa0-\xbf]")


# A value met in a walk: (its parent's entry, its key or index, the value).
_Entry = tuple[Any, object, object]


class MalformedPush(ValueError):
    """The push body's top level is malformed; refuse the request whole (400)."""


class PushTooLarge(ValueError):
    """The push holds more than :data:`MAX_CHANGESETS`; refuse it whole (413)."""


def unstorable_text(value: object, where: str = "") -> str | None:
    """Return the path of the first string in ``value`` that cannot be stored.

    Keys count as text too. A string cannot be stored when it holds an
    unpaired surrogate (it has no UTF-8 form, so neither a database nor a
    response can carry it) or U+0000 (PostgreSQL text cannot hold it).
    The walk is iterative, so no nesting that JSON decoding allows can
    exhaust the stack.

    :param where: the path of ``value`` itself, for the answer.
    :return: a dotted path (``"changes.0.fields.notes"``; a bad key shows as
        ``"(key)"``), ``"(value)"`` for ``value`` itself, or ``None``.
    """
    # Each entry links to its parent's, so a path is spelled only when found.
    pending: list[_Entry] = [(None, where or None, value)]
    while pending:
        entry = pending.pop()
        item = entry[2]
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return _path(entry)
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    return _path((entry, "(key)", None))
                pending.append((entry, key, inner))
        elif isinstance(item, list):
            pending.extend((entry, index, inner) for index, inner in enumerate(item))
    return None


def storable_source(raw: bytes) -> bool:
    """Tell whether the JSON text ``raw`` can decode to no unstorable string.

    True when it holds no NUL byte (so it is not UTF-16 or UTF-32, whose
    characters the search below would not see), no ``\\u0000`` or surrogate
    escape and no surrogate's UTF-8 bytes: then no text decoded from it needs
    :func:`unstorable_text`'s walk. False means "maybe" (a surrogate pair's
    escapes, say), never "no".
    """
    return (
        b"\x00" not in raw
        and _UNSTORABLE_ESCAPE.search(raw) is None
        and (b"\xed" not in raw or _SURROGATE_BYTES.search(raw) is None)
    )


def push_from_wire(body: object, *, storable: bool = False) -> Push:
    """Load a decoded JSON push body.

    :param storable: the body's JSON text passed :func:`storable_source`, so
        no string of it needs checking (the walk costs more than the rest of
        loading a large push).

    :raises MalformedPush: if ``body`` is not an object with a
        ``changesets`` list, its ``client_id`` (when present) is not text of
        at most :data:`~sync.records.MAX_CLIENT_ID_CHARS` characters (it is
        kept in every field stamp the push writes and in conflict records),
        or other text outside the changesets cannot be stored.
    :raises PushTooLarge: if it holds more than :data:`MAX_CHANGESETS`.
    """
    if not isinstance(body, Mapping):
        raise MalformedPush("the body must be a JSON object")
    changesets = body.get("changesets")
    if not isinstance(changesets, list):
        raise MalformedPush("'changesets' must be a list")
    client_id = _client_id(body)
    if not storable:
        rest = {key: value for key, value in body.items() if key != "changesets"}
        outside = unstorable_text(rest)
        if outside is not None:
            raise MalformedPush(f"{outside}: {TEXT_RULE}")
    if len(changesets) > MAX_CHANGESETS:
        raise PushTooLarge(
            f"a push holds at most {MAX_CHANGESETS} changesets; send the rest in another push"
        )
    return Push(client_id, tuple([changeset_from_wire(item, storable) for item in changesets]))


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


def changeset_from_wire(item: object, storable: bool = False) -> Changeset:
    """Load one changeset, recording rather than raising what is wrong with it.

    :param storable: its text is known to be storable (see :func:`push_from_wire`).
    """
    # ``type(...) is dict`` first: decoded JSON is always a dict, and an ABC's
    # isinstance check costs a push of 250 changesets about half a millisecond.
    if type(item) is not dict and not isinstance(item, Mapping):
        return Changeset("", None, (), problem="a changeset must be an object")
    changeset_id = _changeset_id(item.get("id"), storable)
    raw_changes = item.get("changes")
    if not isinstance(raw_changes, list):
        return Changeset(changeset_id, None, (), problem="'changes' must be a list")
    bad_text = None if storable else unstorable_text(item)
    if bad_text is not None:
        # Nothing of it is loaded: only its storable ids are echoed in the result.
        stubs = tuple(_stub(raw) for raw in raw_changes)
        return Changeset(changeset_id, None, stubs, problem=f"{bad_text}: {TEXT_RULE}")
    changes = tuple(map(change_from_wire, raw_changes))
    if len(changes) > MAX_CHANGES:
        problem = f"a changeset holds at most {MAX_CHANGES} changes"
        return Changeset(changeset_id, None, changes, problem=problem)
    if not changeset_id:
        problem = f"'id' must be a string of 1 to {MAX_CHANGESET_ID_CHARS} characters"
        return Changeset("", None, changes, problem=problem)
    try:
        made_at = parse_datetime(item.get("made_at"))
    except ValueError as error:
        return Changeset(changeset_id, None, changes, problem=f"made_at: {error}")
    return Changeset(changeset_id, made_at, changes)


def change_from_wire(raw: object) -> Change:
    """Load one change, recording rather than raising what is wrong with it."""
    if type(raw) is not dict and not isinstance(raw, Mapping):  # dict first, as above
        return Change("", "", "", problem="a change must be an object")
    type_, record_id, op = _text(raw.get("type")), _text(raw.get("id")), _text(raw.get("op"))
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
    if base is not None and (type(base) is not int or not 0 <= base <= MAX_VERSION):
        return f"'base_version' must be an integer from 0 to {MAX_VERSION}"
    if not isinstance(fields, dict):
        return "'fields' must be an object"
    return None


def _changeset_id(value: object, storable: bool) -> str:
    """Return a changeset's id if it is storable text that fits its column, else ``""``.

    :param storable: all text of the push is known to be storable.
    """
    if not isinstance(value, str) or len(value) > MAX_CHANGESET_ID_CHARS:
        return ""
    return value if storable else _storable(value)


def _stub(raw: object) -> Change:
    """Return the envelope of a change of a changeset refused whole, for its result."""
    if not isinstance(raw, Mapping):
        return Change("", "", "")
    return Change(_storable(raw.get("type")), _storable(raw.get("id")), _storable(raw.get("op")))


def _storable(value: object) -> str:
    """Return ``value`` if it is a string that can be stored, else ``""``."""
    return value if isinstance(value, str) and not _UNSTORABLE.search(value) else ""


def _text(value: object) -> str:
    """Return ``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def _path(entry: _Entry) -> str:
    """Spell the path of ``entry`` from its chain of parents."""
    keys: list[str] = []
    link: _Entry | None = entry
    while link is not None:
        parent, key, _ = link
        if key is not None:
            keys.append(str(key))
        link = parent
    return ".".join(reversed(keys)) or "(value)"
