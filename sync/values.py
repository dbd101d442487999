"""The decorator of the engine's hot value classes: frozen to the type checker, cheap to make.

A push makes about ten value objects a change (the change, its result, the
record it writes, that write's stamp, the context its rules see...). As
frozen dataclasses, each ``__init__`` set every field through
``object.__setattr__``, which made one about five times the cost of a plain
slots dataclass and, summed, the largest part of the engine's time in a
push of 250 changesets (issue #16). :func:`value_class` keeps what code relies on
(value equality, the same hash as a frozen dataclass, no assignment after
``__init__``, which mypy — strict on ``sync/`` — refuses as for a frozen
dataclass) without that cost.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, field
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def value_class(cls: type[T]) -> type[T]:
    """Make ``cls`` a slots dataclass that is frozen to the type checker.

    At run time nothing stops an assignment to a field: none is made (mypy
    refuses one), and the hash is a frozen dataclass's, computed from the
    fields, so a value may still be a dict key or a set member.
    """
    return dataclass(slots=True, unsafe_hash=True)(cls)
