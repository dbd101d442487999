"""Declarative fields: what a record type's field accepts, as data.

Each field is a small frozen object that can :meth:`Field.validate` a value a
device sent (returning the value to store, possibly normalised, or raising
:class:`ValueError` with a message for the client) and describe itself as
JSON Schema (:meth:`Field.json_schema`, draft 2020-12 keywords plus a few
``x-`` extensions) for the API description and the published declarations.
Record types declare their fields with them (:mod:`sync.catalog`).

Text is valid Unicode by construction: no unpaired surrogates (they cannot
be written as UTF-8, so a stored one would break every response carrying
it), no NUL or other control characters except newline and tab in fields
declared ``multiline``.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sync.times import format_datetime, parse_datetime

#: A JSON Schema object.
Schema = dict[str, Any]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Unpaired surrogates and C0/C1 controls; newline and tab are allowed in
# multiline text only.
_NEVER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NEVER_ON_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
# BCP 47 tags as the app uses them: a language, then optional subtags.
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}")
_FULL_ID_NUMBER = re.compile(r"\d{17}[\dX]")
#: Where a mainland resident ID number keeps the birth date (YYYYMMDD).
BIRTH_DATE = slice(6, 14)
#: The largest user id (PostgreSQL ``bigint``).
MAX_USER_ID = 2**63 - 1


class Field(ABC):
    """A field's declaration: validation and self-description."""

    @abstractmethod
    def validate(self, value: object) -> object:
        """Return the value to store for ``value``.

        :raises ValueError: with a message for the client if it is refused.
        """

    @abstractmethod
    def json_schema(self) -> Schema:
        """Describe the accepted values as JSON Schema."""


def is_uuid(value: object) -> bool:
    """Return whether ``value`` is a UUID string in canonical lowercase form."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def check_text(value: str, multiline: bool) -> None:
    """Refuse text that is not valid Unicode or holds control characters.

    :raises ValueError: naming the fault.
    """
    if (_NEVER if multiline else _NEVER_ON_ONE_LINE).search(value):
        raise ValueError("must be text without control characters or broken characters")


@dataclass(frozen=True, slots=True)
class Text(Field):
    """A string of ``min_chars`` to ``max_chars`` characters, stored stripped.

    :param multiline: newline and tab are allowed (notes); other control
        characters never are.
    """

    min_chars: int = 1
    max_chars: int = 200
    multiline: bool = False

    def validate(self, value: object) -> object:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        check_text(value, self.multiline)
        value = value.strip()
        if not self.min_chars <= len(value) <= self.max_chars:
            raise ValueError(f"must be {self.min_chars} to {self.max_chars} characters")
        return value

    def json_schema(self) -> Schema:
        schema: Schema = {
            "type": "string",
            "minLength": self.min_chars,
            "maxLength": self.max_chars,
        }
        if self.multiline:
            schema["x-multiline"] = True
        return schema


@dataclass(frozen=True, slots=True)
class Integer(Field):
    """An integer (not a boolean) from ``low`` to ``high`` inclusive."""

    low: int
    high: int

    def validate(self, value: object) -> object:
        if type(value) is not int:
            raise ValueError("must be an integer")
        if not self.low <= value <= self.high:
            raise ValueError(f"must be from {self.low} to {self.high}")
        return value

    def json_schema(self) -> Schema:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True, slots=True)
class Number(Field):
    """A finite number from ``low`` to ``high``, stored rounded to ``places`` decimals.

    For measurements (a temperature in °C: ``Number(30, 45, 1)``); a boolean
    is not a number.
    """

    low: float
    high: float
    places: int = 1

    def validate(self, value: object) -> object:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError("must be a number")
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        if not self.low <= value <= self.high:
            raise ValueError(f"must be from {self.low} to {self.high}")
        return round(float(value), self.places)

    def json_schema(self) -> Schema:
        return {"type": "number", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True, slots=True)
class TimeOfDay(Field):
    """A wall-clock time ``HH:MM`` (24 hours), in a zone the record names."""

    def validate(self, value: object) -> object:
        if not isinstance(value, str) or not _TIME_OF_DAY.fullmatch(value):
            raise ValueError("must be a time of day HH:MM")
        return value

    def json_schema(self) -> Schema:
        return {"type": "string", "pattern": f"^{_TIME_OF_DAY.pattern}$"}


#: What a user id is (:class:`UserRef`).
_USER_ID = Integer(1, MAX_USER_ID)


@dataclass(frozen=True, slots=True)
class UserRef(Field):
    """The id of a user (``user.id``): a positive integer.

    Users are accounts, not records: the engine cannot look them up, so only
    the form is checked.
    """

    def validate(self, value: object) -> object:
        return _USER_ID.validate(value)

    def json_schema(self) -> Schema:
        return {"type": "integer", "minimum": 1, "maximum": MAX_USER_ID, "x-ref": "user"}


@dataclass(frozen=True, slots=True)
class Enum(Field):
    """One of ``choices`` (strings)."""

    choices: tuple[str, ...]

    def validate(self, value: object) -> object:
        if not isinstance(value, str) or value not in self.choices:
            raise ValueError(f"must be one of: {', '.join(sorted(self.choices))}")
        return value

    def json_schema(self) -> Schema:
        return {"type": "string", "enum": list(self.choices)}


@dataclass(frozen=True, slots=True)
class Boolean(Field):
    """``true`` or ``false``."""

    def validate(self, value: object) -> object:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    def json_schema(self) -> Schema:
        return {"type": "boolean"}


@dataclass(frozen=True, slots=True)
class Date(Field):
    """A calendar day, ``YYYY-MM-DD`` (ISO 8601)."""

    def validate(self, value: object) -> object:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValueError("must be a date, YYYY-MM-DD")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date, YYYY-MM-DD") from None
        return value

    def json_schema(self) -> Schema:
        return {"type": "string", "format": "date"}


@dataclass(frozen=True, slots=True)
class DateTime(Field):
    """An ISO 8601 date-time with a zone (``Z`` or an offset).

    Stored in the wire form, UTC with milliseconds (:mod:`sync.times`). A
    time without a zone is refused: a device's local time is ambiguous
    (contract, Push).
    """

    def validate(self, value: object) -> object:
        return format_datetime(parse_datetime(value))

    def json_schema(self) -> Schema:
        return {"type": "string", "format": "date-time"}


@dataclass(frozen=True, slots=True)
class Uuid(Field):
    """A UUID in its canonical lowercase hyphenated form."""

    def validate(self, value: object) -> object:
        if not is_uuid(value):
            raise ValueError("must be a lowercase UUID")
        return value

    def json_schema(self) -> Schema:
        return {"type": "string", "format": "uuid"}


#: What a record id is (:class:`Ref`).
_UUID_FIELD = Uuid()


@dataclass(frozen=True, slots=True)
class Ref(Field):
    """The id of a record of type ``type``.

    The value must be a UUID here; the engine checks at the validation step
    that it names a live record of that type the caller may use, and that
    the named record agrees with this one on the fields in ``same`` (a
    household's building must be in the household's compound: ``same =
    ("compound_id",)``) wherever this record's value of them is not null.
    """

    type: str
    same: tuple[str, ...] = ()

    def validate(self, value: object) -> object:
        return _UUID_FIELD.validate(value)

    def json_schema(self) -> Schema:
        schema: Schema = {"type": "string", "format": "uuid", "x-ref": self.type}
        if self.same:
            schema["x-same"] = list(self.same)
        return schema


@dataclass(frozen=True, slots=True)
class ListOf(Field):
    """A list of at most ``max_items`` values, each accepted by ``item``."""

    item: Field
    max_items: int = 20

    def validate(self, value: object) -> object:
        if not isinstance(value, list):
            raise ValueError("must be a list")
        if len(value) > self.max_items:
            raise ValueError(f"must have at most {self.max_items} items")
        return [self.item.validate(element) for element in value]

    def json_schema(self) -> Schema:
        return {"type": "array", "items": self.item.json_schema(), "maxItems": self.max_items}


@dataclass(frozen=True, slots=True)
class Object(Field):
    """A JSON object with exactly the declared keys, each accepted by its field.

    For small structured values (an order line ``{"package_id", "qty"}``).
    """

    keys: Mapping[str, Field]

    def validate(self, value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError("must be an object")
        if value.keys() != self.keys.keys():
            raise ValueError(f"must have exactly the keys {', '.join(sorted(self.keys))}")
        out: dict[str, object] = {}
        for name, declared in self.keys.items():
            try:
                out[name] = declared.validate(value[name])
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
        return out

    def json_schema(self) -> Schema:
        return {
            "type": "object",
            "properties": {name: field.json_schema() for name, field in self.keys.items()},
            "required": sorted(self.keys),
            "additionalProperties": False,
        }


@dataclass(frozen=True, slots=True)
class LangMap(Field):
    """Text in several languages: an object keyed by language tag.

    ``zh-CN`` is required; other tags (``en``, ``ja``, ``ko``, ...) are
    optional (contract, ``notice``). Each value is ``text``.
    """

    text: Text = Text(1, 200)
    required: str = "zh-CN"
    max_languages: int = 8

    def validate(self, value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError("must be an object keyed by language tag")
        if self.required not in value:
            raise ValueError(f"must have a {self.required} text")
        if len(value) > self.max_languages:
            raise ValueError(f"must have at most {self.max_languages} languages")
        out: dict[str, object] = {}
        for tag, text in value.items():
            if not _LANGUAGE_TAG.fullmatch(tag):
                raise ValueError(f"{tag[:20]!r} is not a language tag")
            out[tag] = self.text.validate(text)
        return out

    def json_schema(self) -> Schema:
        return {
            "type": "object",
            "propertyNames": {"pattern": f"^{_LANGUAGE_TAG.pattern}$"},
            "additionalProperties": self.text.json_schema(),
            "required": [self.required],
            "maxProperties": self.max_languages,
        }


@dataclass(frozen=True, slots=True)
class Nullable(Field):
    """``null`` (an optional field left empty or cleared) or what ``inner`` accepts."""

    inner: Field

    def validate(self, value: object) -> object:
        return None if value is None else self.inner.validate(value)

    def json_schema(self) -> Schema:
        schema = dict(self.inner.json_schema())
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        return schema


@dataclass(frozen=True, slots=True)
class AnyJson(Field):
    """Any JSON value (a conflict record keeps whatever lost)."""

    def validate(self, value: object) -> object:
        return value

    def json_schema(self) -> Schema:
        return {}


@dataclass(frozen=True, slots=True)
class MaskedIdNumber(Field):
    """A resident ID number, stored masked.

    A full 18-character number has its birth date starred out before it is
    stored, so that no device can put a whole ID number into the database;
    anything else must already be masked (contain ``*``).
    """

    def validate(self, value: object) -> object:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        value = value.strip().upper()
        if _FULL_ID_NUMBER.fullmatch(value):
            return value[: BIRTH_DATE.start] + "*" * 8 + value[BIRTH_DATE.stop :]
        if "*" not in value or not 4 <= len(value) <= 40 or not value.isascii():
            raise ValueError("must be an ID number, full (it is masked) or already masked")
        check_text(value, multiline=False)
        return value

    def json_schema(self) -> Schema:
        return {"type": "string", "minLength": 4, "maxLength": 40, "x-masked": True}


#: A type's fields by name.
Fields = Mapping[str, Field]


def refs(fields: Fields) -> dict[str, Ref]:
    """Return the fields that name other records (plain, nullable or lists of ids)."""
    out: dict[str, Ref] = {}
    for name, declared in fields.items():
        inner = declared.inner if isinstance(declared, Nullable) else declared
        inner = inner.item if isinstance(inner, ListOf) else inner
        if isinstance(inner, Ref):
            out[name] = inner
    return out
