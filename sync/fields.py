"""Pure field validators.

A validator takes the value a device sent and returns the value to store
(possibly normalised, e.g. a date-time in its canonical wire form), or
raises :class:`ValueError` with a message for the client. They are built by
the small factories below and declared per record type in the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from sync.times import format_datetime, parse_datetime

#: A field validator: returns the value to store or raises ``ValueError``.
Validator = Callable[[object], object]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

#: The longest string a ``text`` field accepts unless told otherwise.
DEFAULT_MAX_CHARS = 200


def text(min_chars: int = 1, max_chars: int = DEFAULT_MAX_CHARS) -> Validator:
    """Accept a string of ``min_chars`` to ``max_chars`` characters (stripped)."""

    def validate(value: object) -> object:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        value = value.strip()
        if not min_chars <= len(value) <= max_chars:
            raise ValueError(f"must be {min_chars} to {max_chars} characters")
        return value

    return validate


def integer(low: int, high: int) -> Validator:
    """Accept an integer (not a boolean) from ``low`` to ``high`` inclusive."""

    def validate(value: object) -> object:
        if type(value) is not int:
            raise ValueError("must be an integer")
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}")
        return value

    return validate


def one_of(choices: Iterable[str]) -> Validator:
    """Accept one of ``choices``."""
    allowed = frozenset(choices)
    listed = ", ".join(sorted(allowed))

    def validate(value: object) -> object:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"must be one of: {listed}")
        return value

    return validate


def uuid_string(value: object) -> object:
    """Accept a UUID in its canonical lowercase hyphenated form."""
    if not is_uuid(value):
        raise ValueError("must be a lowercase UUID")
    return value


def is_uuid(value: object) -> bool:
    """Return whether ``value`` is a UUID string in canonical form."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def iso_datetime(value: object) -> object:
    """Accept an ISO 8601 date-time; store it in the wire form with ``Z``."""
    return format_datetime(parse_datetime(value))


def boolean(value: object) -> object:
    """Accept ``true`` or ``false``."""
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def any_json(value: object) -> object:
    """Accept any JSON value (conflict records keep whatever lost)."""
    return value


def list_of(item: Validator, max_items: int = 20) -> Validator:
    """Accept a list of at most ``max_items`` values, each checked by ``item``."""

    def validate(value: object) -> object:
        if not isinstance(value, list):
            raise ValueError("must be a list")
        if len(value) > max_items:
            raise ValueError(f"must have at most {max_items} items")
        return [item(element) for element in value]

    return validate


def nullable(inner: Validator) -> Validator:
    """Accept ``null`` (clearing an optional field) or what ``inner`` accepts."""

    def validate(value: object) -> object:
        return None if value is None else inner(value)

    return validate


_FULL_ID_NUMBER = re.compile(r"\d{17}[\dX]")
#: Where a mainland resident ID number keeps the birth date (YYYYMMDD).
BIRTH_DATE = slice(6, 14)


def masked_id_number(value: object) -> object:
    """Accept a resident ID number, storing it masked.

    A full 18-character number has its birth date starred out before it is
    stored, so that no device can put a whole ID number into the database;
    anything else must already be masked (contain ``*``).
    """
    if not isinstance(value, str):
        raise ValueError("must be a string")
    value = value.strip().upper()
    if _FULL_ID_NUMBER.fullmatch(value):
        return value[: BIRTH_DATE.start] + "*" * 8 + value[BIRTH_DATE.stop :]
    if "*" not in value or not 4 <= len(value) <= 40:
        raise ValueError("must be an ID number, full (it is masked) or already masked")
    return value
