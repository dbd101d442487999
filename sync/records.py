"""Records as the engine sees them: fields, per-field stamps and a scope."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, final

import orjson

from sync.times import format_datetime, parse_datetime
from sync.values import value_class

#: ``FieldStamp.by`` of values written by the server itself (conflict records).
SERVER_USER_ID = 0
#: The longest install id (a push's ``client_id``) the server keeps.
MAX_CLIENT_ID_CHARS = 64


def read_json(text: str | bytes) -> Any:
    """Parse the JSON text of a stored value (a record's fields or stamps, a result).

    By orjson, about three times the standard library's speed: a first
    sync parses thousands of records' fields, a push the fields and stamps
    of each record it edits (issue #16). Text orjson refuses, which rows
    written by earlier versions may hold (an unpaired surrogate's escape,
    ``NaN``), is read by :func:`json.loads` as before. Stored values hold
    no integer beyond 64 bits (fields are bounded), which orjson would read
    as a float (a request body is searched for one first,
    ``server.jsontext.JSONProvider.loads``).

    :raises ValueError: if ``text`` is not JSON (:class:`json.JSONDecodeError`).
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


@value_class
class FieldStamp:
    """The write that set a field's current value.

    :param version: the version of that write.
    :param made_at: the author's device time, clamped to the server's receipt.
    :param by: the author's user id (:data:`SERVER_USER_ID` for the server).
    :param client_id: the install that pushed it (the push's ``client_id``);
        ``None`` for the server's own writes, for pushes that named no
        install, and for stamps stored before installs were recorded.
    """

    version: int
    made_at: datetime
    by: int
    client_id: str | None = None

    def written_by(self, by: int, client_id: str | None) -> bool:
        """Return whether this value was written by install ``client_id`` of user ``by``.

        An unknown install matches nothing: an edit is judged against a value
        of unknown origin as against anyone's (contract, "Conflict rules").
        """
        return client_id is not None and self.client_id == client_id and self.by == by

    def to_wire(self) -> list[Any]:
        """Return ``[version, made_at ISO string, by, client_id]``, the stored JSON form.

        The install is left out when unknown, which is also the form stamps
        were stored in before installs were recorded.
        """
        wire = [self.version, format_datetime(self.made_at), self.by]
        return wire if self.client_id is None else [*wire, self.client_id]

    @classmethod
    def from_wire(cls, value: list[Any] | tuple[Any, ...]) -> FieldStamp:
        """Load a stamp from :meth:`to_wire`'s form (with or without the install)."""
        version, made_at, by, *install = value
        client_id = install[0] if install and isinstance(install[0], str) else None
        return cls(int(version), parse_datetime(made_at), int(by), client_id)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a record belongs: the compounds it is part of and, maybe, a building.

    A user sees a record when their scope shares a compound with it or names
    its building (see :meth:`sync.actors.UserScope.covers`).
    """

    compound_ids: frozenset[str]
    building_id: str | None = None


@value_class
class Record:
    """One synced record, in its latest state.

    ``fields`` holds JSON values only (date-times as wire strings), so a store
    can save it as is. Records are never mutated: a write makes a new one.
    A deleted record keeps its fields in the store (for the audit trail and
    conflict review) but always travels with ``fields: {}``.
    """

    type: str
    id: str
    version: int
    deleted: bool
    fields: Mapping[str, object]
    stamps: Mapping[str, FieldStamp]
    scope: Scope

    def envelope(self) -> dict[str, object]:
        """Return the contract's wire envelope of this record."""
        return {
            "type": self.type,
            "id": self.id,
            "version": self.version,
            "deleted": self.deleted,
            "fields": {} if self.deleted else _json_fields(self.fields),
        }

    def tombstone(self) -> Record:
        """Return this record as a tombstone: deleted, with no fields or stamps."""
        return replace(self, deleted=True, fields={}, stamps={})

    def stamps_to_wire(self) -> dict[str, list[Any]]:
        """Return the stamps in their stored JSON form (field → ``[v, iso, by, client]``)."""
        if type(self.stamps) is WireStamps:
            return self.stamps.to_wire()
        # The fields of one write share one stamp object: format each once
        # (by identity, which costs less than hashing the stamp).
        formatted: dict[int, list[Any]] = {}
        return {
            name: formatted.get(id(stamp)) or formatted.setdefault(id(stamp), stamp.to_wire())
            for name, stamp in self.stamps.items()
        }


@final
class WireStamps(Mapping[str, FieldStamp]):
    """Stamps kept in their stored form, each read on first use.

    A store hands these out so that a pull, which never looks at stamps,
    does not pay for parsing every time stamp of a first sync, and a push
    parses only the stamps of the fields it changes (:func:`restamped`).

    Final, and told by ``type(stamps) is WireStamps``: as a ``Mapping`` its
    ``isinstance`` check goes through the ABC machinery, ~350 ns for plain
    dict stamps, paid by every update and every new record's row (issue #16).
    """

    __slots__ = ("_parsed", "_text", "_wire")

    def __init__(self, wire: Mapping[str, Any] | str) -> None:
        self._text = wire if isinstance(wire, str) else None
        self._wire = None if isinstance(wire, str) else wire
        self._parsed: dict[str, FieldStamp] = {}

    def _stored(self) -> Mapping[str, Any]:
        if self._wire is None:
            assert self._text is not None
            self._wire = read_json(self._text)
        return self._wire

    def __getitem__(self, name: str) -> FieldStamp:
        stamp = self.get(name)
        if stamp is None:
            raise KeyError(name)
        return stamp

    def get(self, name: str, default: FieldStamp | None = None) -> FieldStamp | None:  # type: ignore[override]
        """Return the stamp of field ``name``, or ``default`` if it has none.

        Without the mixin's ``get`` (``self[name]`` in a ``try``): a push
        asks for the stamp of every field it sets, often one never set yet.
        """
        stamp = self._parsed.get(name)
        if stamp is None:
            stored = self._stored()
            if name not in stored:
                return default
            stamp = self._parsed[name] = FieldStamp.from_wire(stored[name])
        return stamp

    def __iter__(self) -> Iterator[str]:
        return iter(self._stored())

    def __len__(self) -> int:
        return len(self._stored())

    def to_wire(self) -> dict[str, list[Any]]:
        """Return the stored form."""
        return dict(self._stored())

    def restamped(self, names: Iterable[str], stamp: FieldStamp) -> WireStamps:
        """Return these stamps with ``names`` stamped ``stamp``, the others still stored."""
        changed = dict.fromkeys(names, stamp)
        updated = WireStamps({**self._stored(), **dict.fromkeys(changed, stamp.to_wire())})
        updated._parsed = {**self._parsed, **changed}
        return updated


class StoredFields(dict[str, object]):
    """A record's fields as a store read them, with the JSON ``text`` they were parsed from.

    ``text`` parses to exactly these fields, so a pull page may send it as
    stored instead of encoding the fields again (``server/jsontext.py``).
    Every other way of making fields (a redaction, an edit, a tombstone)
    makes a plain dict, so the text never stands for fields it does not
    hold; like every record's fields, these are never changed in place.
    Only :meth:`parse` makes them.
    """

    __slots__ = ("text",)
    text: str

    @classmethod
    def parse(cls, text: str) -> StoredFields:
        """Parse stored JSON ``text`` (:func:`read_json`), which must be an object.

        :raises ValueError: if ``text`` is not JSON or not an object.
        """
        fields = read_json(text)
        if not isinstance(fields, dict):
            raise ValueError("its fields are not a JSON object")
        # Made by dict's own constructor, the text set after: a Python
        # ``__init__`` cost a first sync a fifth of its parsing (issue #16).
        stored = cls(fields)
        stored.text = text
        return stored


def restamped(
    stamps: Mapping[str, FieldStamp], names: Iterable[str], stamp: FieldStamp
) -> Mapping[str, FieldStamp]:
    """Return ``stamps`` with each of ``names`` stamped ``stamp`` (a write's new stamps)."""
    if type(stamps) is WireStamps:
        return stamps.restamped(names, stamp)
    return {**stamps, **dict.fromkeys(names, stamp)}


def _json_fields(fields: Mapping[str, object]) -> dict[str, object]:
    """Copy ``fields``, writing any stray datetime in its wire form."""
    return {
        name: format_datetime(value) if isinstance(value, datetime) else value
        for name, value in fields.items()
    }


def stamps_from_wire(stored: Mapping[str, Any]) -> dict[str, FieldStamp]:
    """Load stamps from :meth:`Record.stamps_to_wire`'s form."""
    return {name: FieldStamp.from_wire(value) for name, value in stored.items()}
