"""SQL expressions on a record's JSON columns that SQLite and PostgreSQL can index.

An expression index is used only by a query that repeats the indexed
expression exactly: the same function, the same literal path. So the
indexes in :mod:`server.models.records` and the queries in
:mod:`server.queries` build these expressions from the same constructs, and
the field name is written into the SQL as a literal (a bound path would not
match the index on SQLite). Field names are therefore checked against
:data:`FIELD_NAME`. They compile to:

- :class:`FieldText`: ``CAST(json_extract(fields, '$.name') AS TEXT)`` on
  SQLite, ``(fields ->> 'name')`` on PostgreSQL (where ``fields`` is
  ``jsonb``);
- :class:`StampTime`: ``CAST(json_extract(stamps, '$.name[1]') AS TEXT)``
  on SQLite, ``((stamps -> 'name') ->> 1)`` on PostgreSQL, with the
  parentheses PostgreSQL reflects, so that Alembic finds the model's index
  equal to the migration's.

On SQLite the value is cast to ``TEXT`` because ``json_extract`` has no
type affinity: compared with a ``TEXT`` column (``visit.household_id =
household.id``) it would take the column's affinity, and SQLite would not
use the index. Cast, both sides are text and the index serves.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Text, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

#: What a field name may look like to be written into SQL as a literal.
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


class _FieldExpression(FunctionElement[str]):
    """An expression on one named field of a JSON column (``column``, ``name``).

    Subclasses give the SQL per database as templates of ``{column}`` and
    ``{name}``.
    """

    type = Text()
    inherit_cache = True
    sqlite: str
    postgresql: str

    def __init__(self, column: Any, name: str) -> None:
        if not FIELD_NAME.fullmatch(name):
            raise ValueError(f"not a field name: {name!r}")
        # The name travels as a literal clause so that it is part of the cache key.
        super().__init__(column, literal_column(name))


class FieldText(_FieldExpression):
    """The value of the field ``name`` of a record's ``fields``, as SQL text.

    ``NULL`` when the field is absent or JSON ``null``. Strings come out
    unquoted; compare only string fields (ids, enum values) with it.
    """

    name = "field_text"
    inherit_cache = True
    sqlite = "CAST(json_extract({column}, '$.{name}') AS TEXT)"
    postgresql = "({column} ->> '{name}')"


class StampTime(_FieldExpression):
    """The device time (``made_at``) of the write that set the field ``name``.

    Read from the field's stamp ``[version, made_at, by, ...]`` in
    ``stamps``: the wire form ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (``sync.times``),
    fixed-width UTC with its punctuation always in the same places, so that
    text order is time order in any collation.
    """

    name = "stamp_time"
    inherit_cache = True
    sqlite = "CAST(json_extract({column}, '$.{name}[1]') AS TEXT)"
    postgresql = "(({column} -> '{name}') ->> 1)"


def _compile(element: _FieldExpression, compiler: Any, **kw: Any) -> str:
    column, name = element.clauses
    template: str = getattr(element, compiler.dialect.name)
    return template.format(column=compiler.process(column, **kw), name=name.name)


for _expression in (FieldText, StampTime):
    for _dialect in ("sqlite", "postgresql"):
        compiles(_expression, _dialect)(_compile)
