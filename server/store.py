"""The SQLAlchemy store: :class:`sync.store.Store` on the ``record`` tables.

Writers hold the lock on the one row of the version sequence
(``sync_state``) from the moment they hand out their first real version to
their commit: versions therefore commit in version order, and a pull
reading up to the committed high-water mark never skips a change
(``docs/sync.md``). Every write is buffered; :meth:`SqlStore.flush` writes
them all with a few multi-row statements and moves the sequence, in the
caller's transaction, so a failure of the flush fails the whole
transaction.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import datetime
from itertools import zip_longest
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    JSON,
    Text,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.engine import Result
from sqlalchemy.exc import DBAPIError

from server import sign_ins
from server.clock import utcnow
from server.database import DatabaseBusy, allocator, execute_prepared
from server.extensions import db
from server.green import COOPERATE_EVERY, cooperate, cooperatively
from server.jsontext import stored_json
from server.models import (
    EXITS_HIGH_WATER,
    HIGH_WATER,
    PG_MARKS,
    ChangesetLog,
    PushLog,
    RecordRow,
    RecordScope,
    ScopeExit,
    SyncState,
)
from sync.actors import UserScope
from sync.catalog import REGISTRY
from sync.records import Record, Scope, StoredFields, WireStamps, read_json
from sync.store import Page, RecordedResult

# What a read selects: stamps as text, parsed only if the engine looks at them.
RECORD_COLUMNS = (
    RecordRow.id,
    RecordRow.type,
    RecordRow.version,
    RecordRow.deleted,
    # As text, parsed row by row, so that one damaged row cannot fail a read.
    RecordRow.fields_text,
    RecordRow.scope,
    cast(RecordRow.stamps, Text).label("stamps"),
)
#: What a pull page selects: :data:`RECORD_COLUMNS` but the stamps, which a
#: pull never sends (:meth:`sync.store.Store.page`). Half a kilobyte a task,
#: more than its fields: a first sync's page on PostgreSQL spent a tenth of
#: its statement's time sending them (issue #16).
PAGE_COLUMNS = RECORD_COLUMNS[:6]
# A push's fixed statements, built once on the tables (not the ORM classes):
# building them cost about half a millisecond a push (issue #16).
_SEQUENCE = SyncState.__table__
LOCK_SEQUENCE = (
    update(_SEQUENCE)
    .where(_SEQUENCE.c.id == 1)
    .values(high_water=_SEQUENCE.c.high_water)
    .returning(_SEQUENCE.c.high_water)
)
#: A reading store's marks, in one snapshot (:meth:`SqlStore.for_reading`).
READ_MARKS = select(HIGH_WATER.scalar_subquery(), EXITS_HIGH_WATER.scalar_subquery())
MOVE_HIGH_WATER = (
    update(_SEQUENCE).where(_SEQUENCE.c.id == 1).values(high_water=bindparam("high_water"))
)
#: :data:`MOVE_HIGH_WATER` of a push that wrote exits: the exits' high-water mark too.
MOVE_HIGH_WATERS = (
    update(_SEQUENCE)
    .where(_SEQUENCE.c.id == 1)
    .values(high_water=bindparam("high_water"), exits_high_water=bindparam("exits_high_water"))
)
#: :data:`MOVE_HIGH_WATER` and :data:`MOVE_HIGH_WATERS` as PostgreSQL's part
#: of a push's one statement of writes (:func:`send_together`).
PG_MOVE_HIGH_WATER = "UPDATE sync_state SET high_water = %s WHERE id = 1"
PG_MOVE_HIGH_WATERS = "UPDATE sync_state SET high_water = %s, exits_high_water = %s WHERE id = 1"
#: A pull's marks on PostgreSQL (:data:`~server.models.records.PG_MARKS`).
PG_READ_MARKS = f"SELECT {PG_MARKS}"
#: A large push's claim: a shared transaction-level advisory lock in the
#: bigint form, keyed at or below every version the push will take.
PG_CLAIM = "SELECT pg_advisory_xact_lock_shared(high_water + 1) FROM sync_state WHERE id = 1"
#: The id of a push's ``push_log`` row on PostgreSQL, taken before the row
#: is written with the push's other rows (:func:`send_together`).
PG_NEXT_PUSH_ID = "nextval('push_log_id_seq')"
#: A push's first statement on PostgreSQL, as a row to put before its read of
#: its changesets' recorded results (:func:`open_push`), by whether it runs
#: side by side: :data:`PG_CLAIM`, or the lock of the sequence (as
#: :data:`LOCK_SEQUENCE`) with the high-water mark it locked (0 for the
#: claim); and the id of its ``push_log`` row (:data:`PG_NEXT_PUSH_ID`, as
#: text): a statement of its own was a round trip of 0.43 ms (issue #16).
#: The row's id is null, which no changeset's is.
PG_OPENINGS = {
    True: "WITH claimed AS (SELECT pg_advisory_xact_lock_shared(high_water + 1)"
    f" FROM sync_state WHERE id = 1) SELECT NULL, 0, CAST({PG_NEXT_PUSH_ID} AS text)"
    " FROM claimed",
    False: "WITH locked AS (UPDATE sync_state SET high_water = high_water WHERE id = 1"
    f" RETURNING high_water) SELECT NULL, high_water, CAST({PG_NEXT_PUSH_ID} AS text)"
    " FROM locked",
}
#: The recorded results of a push's changesets on PostgreSQL (:func:`open_push`):
#: one look-up of the primary key per id (the ids one array parameter). As
#: ``id IN (...)`` the planner read a log of under some 20,000 rows (a new
#: server's, a bench's) whole, 2 ms at 7,500 rows against 0.25 ms this
#: way; the subquery's ``OFFSET 0`` keeps it apart, a look-up per id
#: (issue #16).
PG_RECORDED_RESULTS = (
    "SELECT found.* FROM unnest(%s::text[]) AS asked(id) CROSS JOIN LATERAL"
    " (SELECT changeset_log.id, push_log.user_id, CAST(changeset_log.result AS text)"
    " FROM changeset_log JOIN push_log ON push_log.id = changeset_log.push_id"
    " WHERE changeset_log.id = asked.id OFFSET 0) AS found"
)
#: A block of versions handed out, in a transaction of its own; returns its last version.
PG_TAKE_BLOCK = (
    "UPDATE sync_state SET high_water = high_water + %s WHERE id = 1 RETURNING high_water"
)
#: The exits' mark moved, in a transaction of its own, before the push commits.
PG_MOVE_EXITS = (
    "UPDATE sync_state SET exits_high_water = greatest(exits_high_water, %s) WHERE id = 1"
)
#: From how many changes a push on PostgreSQL runs side by side with others
#: (below: under the lock of the sequence, which costs it no extra commit).
PARALLEL_WRITES = 50
#: PostgreSQL's errors of pushes side by side that running the push again
#: resolves: a deadlock between row locks, a serialization failure, a key
#: (a changeset's, a new record's) written by a concurrent push, and a wait
#: for the sequence's row that timed out (``server.database.allocator``).
RACES = frozenset({"40P01", "40001", "23505", "55P03"})
#: How many times a push is run in all before a race's error is raised.
RUNS = 5
log = logging.getLogger(__name__)
# Ids per IN (...) list, well under every database's limit on bound parameters;
# rows per INSERT, so that a large push lets other requests run between them.
CHUNK = 500
#: Statements of id lists a :class:`ReadByIds` keeps (one per count of ids).
MOST_STATEMENTS = 1024
#: What joins a JSON column's values in PostgreSQL's parameter of the column
#: (:meth:`RowsWrite.parameters`; ``chr(30)`` in the statement): a control
#: character, which JSON text holds only escaped (RFC 8259), so never a
#: value's own.
JSON_SEPARATOR = "\x1e"
T = TypeVar("T")


class RowsWrite:
    """A push's multi-row write of one table (an upsert if ``conflict`` names its key).

    Sent as the driver's own SQL; statements still pass the engine's events
    (SQLite's writer lock, ``server/database.py``). Through SQLAlchemy's
    executemany of a Core upsert (insertmanyvalues, ``RETURNING``, its
    parameter handling) 250 records took 9.3 ms of CPU on SQLite and 13.6
    ms on PostgreSQL (issue #16).

    SQLite runs one prepared statement for every row (``executemany``),
    each value through its column type's bind processor (JSON encoded as
    SQLAlchemy encodes it, so the stored text is the same). PostgreSQL
    gets a :data:`CHUNK` of rows as one parameter a column (JSON text,
    :func:`~server.jsontext.stored_json`), unpacked side by side by the
    server (``ROWS FROM``): psycopg2 quoted each value of a multi-row
    ``VALUES`` in turn, 2.6 ms of CPU for 250 records' 1,750 values, and
    each JSON value was encoded apart. One array of row arrays, read with
    ``->``/``->>``, cost the server 9 ms more a 250-record push than an
    array a column (issue #16). A JSON column's values go as their JSON
    texts joined by :data:`JSON_SEPARATOR` (:func:`_joined_column`), split
    by the server and each cast to the column's type: as a JSON array the
    server parsed each value two or three times (the parameter's check,
    the array's elements, a ``jsonb`` value's own), 0.3 ms of its 8 ms
    write of a 250-change push (issue #16). The stored text of an
    ``encoded`` column goes as is, not encoded again as JSON strings; a
    value another column's rows all share is encoded once
    (:func:`_encoded_column`).

    :param table: the table written.
    :param columns: the names of the columns of each row's tuple, in order.
    :param conflict: the key columns of an upsert; the other columns are
        overwritten on a conflict. Empty: a plain insert.
    :param encoded: JSON columns whose values come as their stored JSON
        text (:func:`~server.jsontext.stored_json`).
    :param fixed: columns an upsert writes on insert only: their value never
        changes (a record's type), and SQLite rewrites the entries of every
        index on a column an ``UPDATE`` sets, same value or not.
    """

    def __init__(
        self,
        table: Any,
        columns: tuple[str, ...],
        conflict: tuple[str, ...] = (),
        encoded: tuple[str, ...] = (),
        fixed: tuple[str, ...] = (),
    ):
        self.table = table
        self.columns = tuple(table.c[name] for name in columns)
        self.conflict = conflict
        self.fixed = fixed
        self.encoded = encoded
        self._spliced = tuple(c.name in encoded for c in self.columns)
        #: Columns sent as JSON texts joined (:meth:`parameters`): the JSON ones.
        self._joined = tuple(
            spliced or isinstance(c.type, JSON)
            for spliced, c in zip(self._spliced, self.columns, strict=True)
        )
        # Made on first use, per database kind: each column's bind processor
        # (SQLite; ``None``: sent as is) and the statement.
        self._processors: dict[str, tuple[Any, ...]] = {}
        self._statements: dict[str, str] = {}

    def send(self, rows: list[tuple[Any, ...]]) -> None:
        """Write ``rows`` (tuples of :attr:`columns`' values) on SQLite, a :data:`CHUNK` a time.

        PostgreSQL's writes go out together (:func:`send_together`). After a
        statement of at least :data:`~server.green.COOPERATE_EVERY` rows the
        push lets the process's other requests run.
        """
        connection = db.session.connection()
        dialect = connection.dialect
        sql = self.statement(dialect)
        for chunk in chunks(rows):
            connection.exec_driver_sql(sql, self._processed(dialect, chunk))
            if len(chunk) >= COOPERATE_EVERY:
                # After a statement that took a while only: a give-way is a
                # round of the hub (an epoll call), three of them on every
                # push of one edit, each under SQLite's writer lock (issue #16).
                cooperate()

    def insert_one(self, row: tuple[Any, ...]) -> int:
        """Insert one row on SQLite; return the id the database gave it (its rowid)."""
        connection = db.session.connection()
        dialect = connection.dialect
        sql = self.statement(dialect)
        return int(connection.exec_driver_sql(sql, self._processed(dialect, [row])[0]).lastrowid)

    def parameters(self, chunk: list[tuple[Any, ...]]) -> tuple[str, ...]:
        """Return PostgreSQL's parameters of a chunk of rows, one a column.

        A JSON column's: its values' JSON texts joined by :data:`JSON_SEPARATOR`;
        another's: a JSON array of its values.
        """
        columns = zip(*chunk, strict=True)
        return tuple(
            JSON_SEPARATOR.join(column)
            if spliced
            else _joined_column(column)
            if joined
            else _encoded_column(column)
            for spliced, joined, column in zip(self._spliced, self._joined, columns, strict=True)
        )

    def _processed(self, dialect: Any, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Return ``rows`` with each value through its column's bind processor."""
        processors = self._processors.get(dialect.name)
        if processors is None:
            processors = self._processors[dialect.name] = tuple(
                None
                if c.name in self.encoded
                else stored_json
                if isinstance(c.type, JSON)
                else c.type.dialect_impl(dialect).bind_processor(dialect)
                for c in self.columns
            )
        # Column by column (map, zip): a tenth less time than a loop over each value.
        columns = [
            column if process is None else _processed_column(process, column)
            for process, column in zip(processors, zip(*rows, strict=True), strict=True)
        ]
        return list(zip(*columns, strict=True))

    def statement(self, dialect: Any) -> str:
        """Return the SQL writing a chunk of rows on ``dialect`` (made once per kind).

        SQLite: one row's ``VALUES (?, ...)``, for ``executemany``.
        PostgreSQL: one parameter a column (:meth:`parameters`), read in
        step as text (a JSON column's split at :data:`JSON_SEPARATOR`, the
        others' a JSON array's elements) and cast to the columns' types.
        """
        sql = self._statements.get(dialect.name)
        if sql is None:
            names = ", ".join(c.name for c in self.columns)
            if dialect.name == "sqlite":
                marks = ", ".join("?" * len(self.columns))
                sql = f"INSERT INTO {self.table.name} ({names}) VALUES ({marks})"
            else:
                elements = ", ".join(
                    "unnest(string_to_array(%s, chr(30)))"
                    if joined
                    else "json_array_elements_text(%s::json)"
                    for joined in self._joined
                )
                values = ", ".join(
                    f"c{n}::{c.type.compile(dialect)}" for n, c in enumerate(self.columns)
                )
                aliases = ", ".join(f"c{n}" for n in range(len(self.columns)))
                sql = (
                    f"INSERT INTO {self.table.name} ({names}) SELECT {values}"
                    f" FROM ROWS FROM ({elements}) AS chunk({aliases})"
                )
            if self.conflict:
                kept = self.conflict + self.fixed
                updated = [c.name for c in self.columns if c.name not in kept]
                assignments = ", ".join(f"{name} = excluded.{name}" for name in updated)
                sql += f" ON CONFLICT ({', '.join(self.conflict)}) DO UPDATE SET {assignments}"
            self._statements[dialect.name] = sql
        return sql


def _processed_column(process: Any, values: tuple[Any, ...]) -> Iterable[Any]:
    """Return each of a column's ``values`` through the bind processor ``process``.

    A value the whole column shares (one object: a push's receipt time, in
    every result's row) is processed once: SQLite's formatting of a time
    250 times was a fortieth of a push's CPU (issue #16).
    """
    first = values[0]
    if all(value is first for value in values):
        return (process(first),) * len(values)
    return map(process, values)


def _encoded_column(values: tuple[Any, ...]) -> str:
    """Return a column's ``values`` as one JSON array (PostgreSQL's parameter of the column).

    A value the whole column shares (a push's receipt time, in every
    result's row) is encoded once, as :func:`_processed_column` processes
    it once: each time went through :func:`_row_value`, 250 times a push
    (issue #16). The text is the same as the array's encoded whole.
    """
    first = values[0]
    if all(value is first for value in values):
        return "[" + ",".join([stored_json(first, _row_value)] * len(values)) + "]"
    return stored_json(values, _row_value)


def _joined_column(values: tuple[Any, ...]) -> str:
    """Return a JSON column's ``values`` as their JSON texts joined by :data:`JSON_SEPARATOR`."""
    return JSON_SEPARATOR.join([stored_json(value) for value in values])


def _row_value(value: Any) -> str:
    """Return a row's value that JSON has no type for as text: a time, ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value a push writes")


def send_together(
    writes: list[tuple[RowsWrite, list[tuple[Any, ...]]]], move: tuple[Any, ...] = ()
) -> None:
    """Write each table's rows, and move the sequence, in one statement a chunk (PostgreSQL).

    The writes of a push's flush go out together, as the data-modifying
    parts of one statement (``WITH w0 AS (INSERT ...), ... INSERT ...``),
    and ``move`` (:data:`PG_MOVE_HIGH_WATER`'s or :data:`PG_MOVE_HIGH_WATERS`'
    parameters, empty: none) with their first chunk: each statement was a
    round trip and an execution of its own, four of them on every push,
    however small (issue #16). The parts run in one snapshot: no two of
    them write the same row (new records and rewritten ones are apart, a
    record's replaced scope rows are keyed by a version it no longer has),
    so their order does not matter; an error in any part fails the
    statement, as it failed the transaction before. Each shape of statement
    is prepared once a connection (:func:`server.database.execute_prepared`).
    """
    connection = db.session.connection()
    dialect = connection.dialect
    chunked = [(write, list(chunks(rows))) for write, rows in writes if rows]
    steps = max((len(parts) for _, parts in chunked), default=0)
    for step in range(max(steps, 1 if move else 0)):
        sent = [(write, parts[step]) for write, parts in chunked if step < len(parts)]
        sqls = [write.statement(dialect) for write, _ in sent]
        params = [value for write, chunk in sent for value in write.parameters(chunk)]
        if move and step == 0:
            sqls.append(PG_MOVE_HIGH_WATERS if len(move) > 1 else PG_MOVE_HIGH_WATER)
            params += move
        execute_prepared(connection, _together(tuple(sqls)), tuple(params))
        if sum(len(chunk) for _, chunk in sent) >= COOPERATE_EVERY:
            # After a statement that took a while only (see RowsWrite.send).
            cooperate()


@functools.lru_cache(maxsize=64)
def _together(sqls: tuple[str, ...]) -> str:
    """Return one statement running each of ``sqls`` (parameters in their order)."""
    if len(sqls) == 1:
        return sqls[0]
    parts = ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(sqls[:-1]))
    return f"WITH {parts} {sqls[-1]}"


#: A push's writes: records, their scope rows (the change index), exits, results.
_RECORD_ROW = ("id", "type", "version", "deleted", "fields", "stamps", "scope")
#: A record's type never changes (``sync.writer``), so an edit leaves the
#: type index alone: on SQLite setting it again rewrote that index's entry of
#: every edited record, 8.4 against 5.1 ms for 250 edits of 60,000 records.
WRITE_RECORDS = RowsWrite(
    RecordRow.__table__, _RECORD_ROW, conflict=("id",), encoded=("stamps",), fixed=("type",)
)
#: :data:`WRITE_RECORDS` of the records a push on PostgreSQL found absent: a
#: plain insert, so that one created meanwhile by a concurrent push is a
#: unique violation (a race, :data:`RACES`), not overwritten unjudged.
WRITE_NEW_RECORDS = RowsWrite(RecordRow.__table__, _RECORD_ROW, encoded=("stamps",))
_SCOPE_ROW = ("record_id", "compound_id", "building_id", "record_type", "version")
#: A record's scope rows at its new version: a plain insert, keyed by place
#: and version (a new key at every write, :class:`~server.models.RecordScope`).
WRITE_SCOPES = RowsWrite(RecordScope.__table__, _SCOPE_ROW)


class ReplacedScopes(RowsWrite):
    """The delete of the scope rows that a push's records' new versions replace.

    Rows are ``(compound_id, version)`` keys, as :meth:`SqlStore.flush`
    knows them. SQLite deletes each key (``executemany``). PostgreSQL finds
    each key's row by the key's index (a subquery a key, which the planner
    cannot turn into a join) and deletes the rows found by their address
    (``ctid``). The keys as a table joined with ``record_scope`` (``USING``,
    ``IN``, ``LATERAL``) were planned as a hash join over the whole table;
    ``= ANY`` of the places and of the versions, as a scan of the keys'
    places: 2 and 5 ms for 75 keys among 12,000 and 18,000 rows, against
    0.4 ms (issue #16).
    """

    def __init__(self) -> None:
        super().__init__(RecordScope.__table__, ("compound_id", "version"))

    def statement(self, dialect: Any) -> str:
        """Return the SQL deleting a chunk of keys on ``dialect``."""
        if dialect.name == "sqlite":
            return "DELETE FROM record_scope WHERE compound_id = ? AND version = ?"
        return (
            "DELETE FROM record_scope WHERE ctid = ANY(ARRAY("
            "SELECT (SELECT ctid FROM record_scope"
            " WHERE compound_id = k.c0 AND version = k.c1::bigint) FROM ROWS FROM"
            " (json_array_elements_text(%s::json), json_array_elements_text(%s::json))"
            " AS k(c0, c1)))"
        )


#: The scope rows of the versions a push's records had: replaced by those of
#: their new versions (:meth:`SqlStore.flush`).
DELETE_SCOPES = ReplacedScopes()
WRITE_EXITS = RowsWrite(
    ScopeExit.__table__, ("record_id", "record_type", "compound_id", "building_id", "version")
)
_PUSH_ROW = ("user_id", "device_token_id", "client_id", "received_at")
#: A push's ``push_log`` row on SQLite, its id given by the database
#: (:meth:`RowsWrite.insert_one`).
WRITE_PUSH = RowsWrite(PushLog.__table__, _PUSH_ROW)
#: A push's ``push_log`` row on PostgreSQL, its id taken first (:data:`PG_NEXT_PUSH_ID`)
#: so that it goes out with the push's other rows.
WRITE_PUSHES = RowsWrite(PushLog.__table__, ("id", *_PUSH_ROW))
WRITE_RESULTS = RowsWrite(ChangesetLog.__table__, ("id", "push_id", "result"), encoded=("result",))


class ReadByIds:
    """A push's read of the rows of one table whose ids are in a list.

    Sent as the driver's own SQL: ``query`` as SQLAlchemy compiles it for
    the database, then ``WHERE <id> IN (?, ...)``, one statement per count
    of ids (at most a :data:`CHUNK`), made on first use. Through the ORM
    session, whose expanding ``IN`` is rendered afresh at every execution,
    a read of 250 ids cost about 1 ms of CPU, this way a quarter of that
    (issue #16). Rows come as the driver gives them, without SQLAlchemy's
    result types: select text and convert what needs it (SQLite's booleans
    are 0 and 1). Statements still pass the engine's events.

    :param query: the ``SELECT`` of the columns read, with no condition.
    :param key: the id column the list is matched against.
    """

    def __init__(self, query: Any, key: Any):
        self.query = query
        self.key = key
        self._statements: dict[tuple[object, ...], str] = {}
        # ``query`` compiled, per database kind: a push's count of ids to
        # read locked and named makes a new statement often (a 250-change
        # push's count of records it edits varies), and compiling the query
        # for each cost 0.4 ms of CPU (issue #16).
        self._selects: dict[str, str] = {}

    def rows(self, ids: list[str]) -> list[Any]:
        """Return the rows whose id is in ``ids``, a :data:`CHUNK` of ids a statement."""
        connection = db.session.connection()
        found: list[Any] = []
        for chunk in chunks(ids):
            sql = self.statement(connection.dialect, len(chunk))
            found += connection.exec_driver_sql(sql, tuple(chunk)).all()
        return found

    def locked_rows(self, writes: list[str], reads: list[str]) -> list[Any]:
        """Return the rows of ``writes`` locked for writing, of ``reads`` for reading (PostgreSQL).

        Locked until the transaction ends (``FOR UPDATE``, ``FOR SHARE``),
        each kind in id order, so that two pushes lock their common rows in
        the same order; both in one statement, a :data:`CHUNK` of each.
        """
        connection = db.session.connection()
        found: list[Any] = []
        pairs = zip_longest(chunks(sorted(writes)), chunks(sorted(reads)), fillvalue=[])
        for mine, named in pairs:
            sql = self.locked_statement(connection.dialect, len(mine), len(named))
            found += connection.exec_driver_sql(sql, (*mine, *named)).all()
        return found

    def statement(self, dialect: Any, count: int) -> str:
        """Return the SQL reading ``count`` ids on ``dialect``."""
        key = (dialect.name, count)
        if key not in self._statements:
            self._keep_few()
            self._statements[key] = self._where(dialect, count)
        return self._statements[key]

    def locked_statement(self, dialect: Any, writes: int, reads: int) -> str:
        """Return the SQL of :meth:`locked_rows` for ``writes`` and ``reads`` ids."""
        key = ("locked", writes, reads)
        if key not in self._statements:
            self._keep_few()
            key_sql = f"{self.key.table.name}.{self.key.name}"
            parts = [
                f"SELECT * FROM ({self._where(dialect, count)} ORDER BY {key_sql} FOR {lock})"
                f" AS {lock.lower()}"
                for count, lock in ((writes, "UPDATE"), (reads, "SHARE"))
                if count
            ]
            self._statements[key] = " UNION ALL ".join(parts)
        return self._statements[key]

    def _keep_few(self) -> None:
        """Forget the statements made if there are many (counts up to a :data:`CHUNK` each)."""
        if len(self._statements) >= MOST_STATEMENTS:
            self._statements.clear()

    def _where(self, dialect: Any, count: int) -> str:
        """Return ``query`` for ``count`` ids on ``dialect``."""
        mark = "?" if dialect.name == "sqlite" else "%s"
        select_sql = self._selects.get(dialect.name)
        if select_sql is None:
            select_sql = self._selects[dialect.name] = str(self.query.compile(dialect=dialect))
        key_sql = f"{self.key.table.name}.{self.key.name}"
        return f"{select_sql} WHERE {key_sql} IN ({', '.join([mark] * count)})"


#: A push's reads: the records it touches, and the changesets it replays.
READ_RECORDS = ReadByIds(select(*RECORD_COLUMNS), RecordRow.id)
READ_RESULTS = ReadByIds(
    select(ChangesetLog.id, PushLog.user_id, cast(ChangesetLog.result, Text)).join_from(
        ChangesetLog, PushLog, PushLog.id == ChangesetLog.push_id
    ),
    ChangesetLog.id,
)

#: Every type a record can have (pushes of other types are invalid).
REGISTERED_TYPES = frozenset(REGISTRY)


class SqlStore:
    """Records, versions and recorded results in the SQL database."""

    def __init__(
        self,
        high_water: int,
        *,
        writing: bool,
        audit: Mapping[str, Any] | None = None,
        exits_high_water: int | None = None,
        locking: bool = False,
        block: int = 0,
    ):
        self._high_water = high_water
        # No exit up to ``high_water`` lies above it (``None``: not known).
        self._exits_high_water = exits_high_water
        self._started_at = high_water
        self._writing = writing
        self._audit = dict(audit or {})
        self._next = high_water
        #: Each record in the database read or written by this store: the
        #: version and scope of its stored row, the keys of its scope rows.
        self._stored: dict[str, tuple[int, Scope]] = {}
        #: The ids looked for and not found: records a write creates.
        self._absent: set[str] = set()
        self._records: dict[str, Record] = {}
        self._exits: list[tuple[Record, Scope]] = []
        self._results: dict[str, RecordedResult] = {}
        #: Changeset id → the JSON text its result was recorded as (flushed results).
        self.recorded_texts: dict[str, str] = {}
        #: User id → the id of the ``push_log`` row of the results recorded as
        #: that user's (one: the push's actor); the id :func:`open_push` took
        #: for the first, if it did (PostgreSQL).
        self._push_ids: dict[int, int] = {}
        self._next_push_id: int | None = None
        self._puts = 0
        #: Records read locked, new ones inserted plainly (PostgreSQL).
        self._locking = writing and (locking or block > 0)
        #: Side by side with other pushes (PostgreSQL): versions come in
        #: blocks of :meth:`_take_block`, the first of ``block`` versions.
        self._parallel = writing and block > 0
        self._block = block
        self._block_end = high_water
        self._claimed = False
        #: The ids whose recorded results :meth:`for_writing` read, and those
        #: it found (``None``: none read, or written since).
        self._prefetched: tuple[set[str], dict[str, RecordedResult]] | None = None

    @classmethod
    def for_reading(cls, marks: tuple[int, int] | None = None) -> SqlStore:
        """Open a store for pulls: no lock, the committed high-water marks.

        :param marks: the committed high-water mark and the exits' if
            already read in this transaction
            (:func:`server.sign_ins.committed_marks`); else they are read
            here, in one statement.
        """
        if marks is None:
            marks = read_marks()
        return cls(marks[0], writing=False, exits_high_water=marks[1])

    @classmethod
    def for_writing(
        cls,
        *,
        device_token_id: int | None = None,
        client_id: str | None = None,
        received_at: datetime | None = None,
        expected_writes: int = 0,
        changeset_ids: Collection[str] = (),
    ) -> SqlStore:
        """Open a store for one push.

        SQLite: lock the version sequence until the transaction ends.
        PostgreSQL: records are read locked; a push of at least
        :data:`PARALLEL_WRITES` changes takes no lock of the sequence but
        claims its versions and takes them in blocks, the first right away
        (``docs/sync.md``, "Parallel pushes on PostgreSQL"). The device,
        install and receipt time go into the log row of every changeset
        recorded (its push's ``push_log`` row): with the field stamps, the
        audit trail of records.

        :param expected_writes: about how many versions the push will take
            (its changes): on PostgreSQL, its mode and first block.
        :param changeset_ids: the push's changesets: on PostgreSQL their
            recorded results are read with the lock or the claim, in one
            statement (:func:`open_push`), for :meth:`recorded_results`.
        """
        audit = {
            "device_token_id": device_token_id,
            "client_id": client_id,
            "received_at": received_at or utcnow(),
        }
        postgresql = db.session.get_bind().dialect.name == "postgresql"
        parallel = postgresql and expected_writes >= PARALLEL_WRITES
        ids = list(dict.fromkeys(changeset_ids))
        high_water, prefetched, push_id = 0, None, None
        if postgresql and 0 < len(ids) <= CHUNK:
            high_water, push_id, recorded = open_push(parallel, ids)
            prefetched = (set(ids), recorded)
        elif not parallel:
            high_water = lock_sequence()
        if parallel:
            store = cls(0, writing=True, audit=audit, block=expected_writes)
            store._claimed = prefetched is not None
            # Before any row lock: a block taken later may wait for a push
            # that holds the sequence and waits for this one's rows.
            store._take_block()
        else:
            store = cls(high_water, writing=True, audit=audit, locking=postgresql)
        store._prefetched = prefetched
        store._next_push_id = push_id
        return store

    @property
    def started_at_version(self) -> int:
        """Return the mark above which every version up to this store's last is its own (``prev``).

        SQLite: the high-water mark locked. PostgreSQL: the version before
        its last block (contract "Live updates": a client at it has missed
        nothing the announcement does not carry).
        """
        return self._started_at

    # -- reads ---------------------------------------------------------------

    def get(self, record_id: str) -> Record | None:
        """Return the record with ``record_id`` (deleted ones too), or ``None``."""
        return self.get_many([record_id]).get(record_id)

    def get_many(
        self, record_ids: Collection[str], read_only: Collection[str] = ()
    ) -> dict[str, Record]:
        """Return the existing records among ``record_ids``, buffered writes first.

        On PostgreSQL a writing store locks them until it commits: those in
        ``read_only`` for reading (``FOR SHARE``: pushes that only check a
        compound all go on), the others for writing (``FOR UPDATE``).
        """
        found = {rid: self._records[rid] for rid in record_ids if rid in self._records}
        wanted = [rid for rid in record_ids if rid not in found]
        if not self._locking:
            rows = READ_RECORDS.rows(wanted)
        else:
            named = set(read_only)
            mine = [rid for rid in wanted if rid not in named]
            rows = READ_RECORDS.locked_rows(mine, [rid for rid in wanted if rid in named])
        self._remember(rows)
        for row in rows:
            record = read_record(row)
            if record is not None:
                found[record.id] = record
        self._absent.update(rid for rid in wanted if rid not in self._stored)
        return found

    def _remember(self, rows: list[Any]) -> None:
        """Keep the version and scope of each record row read (:attr:`_stored`).

        Kept for an unreadable row too: a create that repairs it then
        replaces its scope rows rather than adding more.
        """
        self._stored.update((row[0], (int(row[2]), scope_from_text(row[5]))) for row in rows)

    def high_water(self) -> int:
        """Return the highest version taken so far."""
        return self._next

    def recorded_results(self, changeset_ids: Collection[str]) -> dict[str, RecordedResult]:
        """Return the recorded results of those of ``changeset_ids`` seen before."""
        found = {cid: self._results[cid] for cid in changeset_ids if cid in self._results}
        wanted = [cid for cid in changeset_ids if cid not in found]
        if self._prefetched is not None:
            asked, recorded = self._prefetched
            found.update({cid: recorded[cid] for cid in wanted if cid in recorded})
            wanted = [cid for cid in wanted if cid not in asked]
        for cid, user_id, result in READ_RESULTS.rows(wanted):
            found[cid] = RecordedResult(user_id, read_json(result))
        return found

    def page(
        self,
        scope: UserScope,
        cursor: int,
        limit: int,
        exclude_types: frozenset[str],
        only_types: frozenset[str] | None = None,
    ) -> Page:
        """Return one pull page (see :meth:`sync.store.Store.page`), filtered in SQL.

        Buffered writes are flushed first, so a writing store reads its own writes.
        """
        self.flush()
        if only_types is not None and only_types >= REGISTERED_TYPES:
            # A role that receives every type (a coordinator: 22) wants the
            # same rows with no type list, which a push cannot write outside
            # (an unknown type is invalid). Left out, PostgreSQL plans the
            # page a tenth to a quarter faster: the list stood in each
            # place's branch and the exits' (issue #16).
            only_types = None
        if cursor >= self._high_water:
            # Every row the statements could return has cursor < version <=
            # high water: none. A device that is up to date (most pulls, and
            # every pull a live event does not answer) costs no statement
            # (issue #16).
            return Page((), self._high_water, False)
        filters = PageFilters(
            len(exclude_types),
            None if only_types is None else len(only_types),
            not scope.everything,
        )
        params = page_params(scope, cursor, self._high_water, limit, exclude_types, only_types)
        # On the session's connection: the ORM's handling of the result
        # cost a first sync's page more than the database's (issue #16).
        connection = db.session.connection()
        dialect = connection.dialect.name
        places = page_places(scope)
        # Above the exits' high-water mark no exit can be in the page: the
        # statement leaves its exits' part out, which PostgreSQL took 0.15
        # ms to plan at 250,000 records (issue #16).
        exits = filters.scoped and (
            self._exits_high_water is None or cursor < self._exits_high_water
        )
        query = (scoped_page_query if exits else page_query)(filters, dialect, places)
        found = read_page_rows(connection.execute(query, params))
        if exits:
            found.sort(key=itemgetter(0))
        more = len(found) > limit
        found = found[:limit]
        next_cursor = found[-1][0] if more else self._high_water
        return Page(tuple(record for _, record in found if record is not None), next_cursor, more)

    # -- writes --------------------------------------------------------------

    def next_version(self) -> int:
        """Take the next version: above the high-water mark locked, or from the push's blocks."""
        if not self._writing:
            raise RuntimeError("a reading store hands out no versions")
        if self._parallel and self._next >= self._block_end:
            self._take_block()
        self._next += 1
        return self._next

    def _take_block(self) -> None:
        """Take the next block of versions, claimed first if it is the push's first.

        The claim (:data:`PG_CLAIM`) is the transaction's own; the block is
        handed out in a transaction of its own (:func:`take_versions`), so
        other pushes take theirs meanwhile. Each block is twice the last;
        versions after the last one used are never used (gaps).
        """
        if not self._claimed:  # the first block: the claim before it
            db.session.connection().exec_driver_sql(PG_CLAIM)
            self._claimed = True
        size, self._block = self._block, self._block * 2
        last = take_versions(size)
        self._started_at = self._next = last - size
        self._block_end = last

    def put(self, record: Record, previous_scope: Scope | None) -> None:
        """Buffer a write of ``record``; remember the scope it left.

        Every :data:`~server.green.COOPERATE_EVERY` writes, the push applying
        them lets the process's other requests run.
        """
        self._puts += 1
        if self._puts % COOPERATE_EVERY == 0:
            cooperate()
        self._records[record.id] = record
        if previous_scope is not None and previous_scope != record.scope:
            self._exits.append((record, previous_scope))

    def record_result(self, changeset_id: str, result: RecordedResult) -> None:
        """Buffer the result of a changeset; it is written with its effects."""
        self._results[changeset_id] = result

    def flush(self) -> None:
        """Write every buffered record, scope change, exit and result; move the sequence.

        On PostgreSQL in one statement (:func:`send_together`), but for a
        parallel push's move of the exits' mark; on SQLite a statement a
        table. A record's scope rows are replaced: those of its stored
        version deleted, its new version's inserted.
        """
        if not self._writing:
            return
        records = list(self._records.values())
        writes: list[tuple[RowsWrite, list[tuple[Any, ...]]]] = []
        if records:
            stored, absent = self._stored, self._absent
            unknown = [r.id for r in records if r.id not in stored and r.id not in absent]
            if unknown:  # written without a read first (none of a push's)
                self._remember(READ_RECORDS.rows(unknown))
            if self._locking:
                new = [r for r in records if r.id not in self._stored]
                old = [r for r in records if r.id in self._stored]
                writes.append((WRITE_NEW_RECORDS, [row_of(r) for r in new]))
                writes.append((WRITE_RECORDS, [row_of(r) for r in old]))
            else:
                writes.append((WRITE_RECORDS, [row_of(r) for r in records]))
            writes.append((DELETE_SCOPES, self._replaced_scope_rows(records)))
            writes.append((WRITE_SCOPES, self._scope_rows(records)))
            if any(record.type == "compound" for record in records):
                # A neighbourhood's compounds are its users' scope.
                sign_ins.changed()
        exits_high_water = None
        if self._exits:
            exits = [
                (record.id, record.type, compound, left.building_id, record.version)
                for record, left in self._exits
                for compound in left.compound_ids
            ]
            writes.append((WRITE_EXITS, exits))
            # Above every earlier exit: versions only grow under the lock.
            exits_high_water = max(record.version for record, _ in self._exits)
        if self._results:
            pushes: list[tuple[Any, ...]] = []
            results = self._result_rows(pushes)
            writes.append((WRITE_PUSHES, pushes))
            writes.append((WRITE_RESULTS, results))
        # The move of the sequence (a parallel push's versions are handed out
        # moved): the high-water mark, and the exits' if it wrote exits.
        move: tuple[int, ...] = ()
        if not self._parallel and exits_high_water is not None:
            move = (self._next, exits_high_water)
        elif not self._parallel and self._next != self._high_water:
            move = (self._next,)
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            send_together(writes, move)
        else:
            for write, rows in writes:
                write.send(rows)
            if len(move) > 1:
                connection.execute(
                    MOVE_HIGH_WATERS, {"high_water": move[0], "exits_high_water": move[1]}
                )
            elif move:
                connection.execute(MOVE_HIGH_WATER, {"high_water": move[0]})
        if self._parallel and exits_high_water is not None:
            in_own_transaction(PG_MOVE_EXITS, exits_high_water)
        self._stored.update({r.id: (r.version, r.scope) for r in records})
        self._records, self._exits, self._results = {}, [], {}
        self._prefetched = None  # the results written are read from the table now
        self._high_water = self._next

    def _result_rows(self, pushes: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Return the rows of the buffered results; keep their text in :attr:`recorded_texts`.

        The push's answer splices in that text (:func:`server.jsontext.push_body`):
        each result is built and encoded once for the log and the answer (issue #16).

        :param pushes: gets the ``push_log`` rows (:data:`WRITE_PUSHES`) the
            results name that PostgreSQL has yet to write (:meth:`_push_id`).
        """
        # Whose the results are: the push's actor's, one user.
        users = {entry.user_id for entry in self._results.values()}
        push_ids = {user_id: self._push_id(user_id, pushes) for user_id in users}
        rows = [
            (cid, push_ids[entry.user_id], stored_json(entry.result))
            for cid, entry in self._results.items()
        ]
        self.recorded_texts.update([(row[0], row[2]) for row in rows])
        return rows

    def _push_id(self, user_id: int, pushes: list[tuple[Any, ...]]) -> int:
        """Return the id of the ``push_log`` row of ``user_id``'s results, made on first use.

        The row holds the store's device, install and receipt time. SQLite
        inserts it here and gives its id; on PostgreSQL the id is
        :func:`open_push`'s, else taken from the sequence, and the row goes
        into ``pushes``, written with the results (:func:`send_together`).
        """
        push_id = self._push_ids.get(user_id)
        if push_id is not None:
            return push_id
        audit = self._audit
        row = (
            user_id,
            audit.get("device_token_id"),
            audit.get("client_id"),
            audit.get("received_at"),
        )
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            push_id = self._next_push_id
            if push_id is None:
                push_id = int(connection.exec_driver_sql(f"SELECT {PG_NEXT_PUSH_ID}").scalar_one())
            self._next_push_id = None
            pushes.append((push_id, *row))
        else:
            push_id = WRITE_PUSH.insert_one(row)
        self._push_ids[user_id] = push_id
        return push_id

    def _scope_rows(self, records: list[Record]) -> list[tuple[Any, ...]]:
        """Return the scope rows of every written record: its places, type and new version."""
        return [
            (r.id, compound, r.scope.building_id, r.type, r.version)
            for r in records
            for compound in r.scope.compound_ids
        ]

    def _replaced_scope_rows(self, records: list[Record]) -> list[tuple[Any, ...]]:
        """Return the keys of the scope rows that ``records``' new versions replace.

        Each stored record's rows at its stored version and places: deleted
        as the new ones are added (:data:`DELETE_SCOPES`), so that the change
        index (``record_scope``) always holds each record at its latest
        version, in the places it is in now. A version is handed out once
        (on PostgreSQL not always above the record's last: ``docs/sync.md``,
        "Parallel pushes on PostgreSQL"), so no row deleted is one added.
        """
        stored = [self._stored[r.id] for r in records if r.id in self._stored]
        return [(place, version) for version, scope in stored for place in scope.compound_ids]


def open_push(
    parallel: bool, changeset_ids: list[str]
) -> tuple[int, int, dict[str, RecordedResult]]:
    """Send a push's first statement on PostgreSQL; return the mark locked, a push id, the results.

    The claim (``parallel``) or the lock of the sequence, and the read of
    the recorded results of ``changeset_ids`` (at most a :data:`CHUNK`),
    in one statement (:data:`PG_OPENINGS`, :data:`PG_RECORDED_RESULTS`):
    each was a round trip of every push (issue #16). A lock that waited
    for another push reads results as they were before it waited (the
    statement's snapshot), so a changeset that push recorded meanwhile is
    applied again and its log row is a unique violation, run again
    (:func:`rerun_races`): then found.

    :returns: the high-water mark locked (0 for a claim), the id of the
        push's ``push_log`` row if it records results (:meth:`SqlStore._push_id`),
        and the recorded results found by changeset id.
    """
    connection = db.session.connection()
    sql = f"{PG_OPENINGS[parallel]} UNION ALL {PG_RECORDED_RESULTS}"
    high_water, push_id, recorded = 0, 0, {}
    for cid, user_id, result in connection.exec_driver_sql(sql, (changeset_ids,)).all():
        if cid is None:
            high_water, push_id = int(user_id), int(result)
        else:
            recorded[cid] = RecordedResult(user_id, read_json(result))
    return high_water, push_id, recorded


def read_marks() -> tuple[int, int]:
    """Return the committed high-water mark and the exits' mark, read together.

    SQLite: ``sync_state``'s row. PostgreSQL: ``weiguang_marks()``, the mark
    below the lowest claim of a push in flight (``docs/sync.md``, "Parallel
    pushes on PostgreSQL").
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        high_water, exits_high_water = connection.exec_driver_sql(PG_READ_MARKS).one()
    else:
        high_water, exits_high_water = connection.execute(READ_MARKS).one()
    return int(high_water or 0), int(exits_high_water or 0)


def take_versions(count: int) -> int:
    """Hand out ``count`` versions in a transaction of their own; return the last (PostgreSQL).

    Committed durably before any pull can read the mark it moved, so that
    a version a pull has passed is never handed out again, even after a
    crash (``docs/sync.md``, "Parallel pushes on PostgreSQL").
    """
    return int(in_own_transaction(PG_TAKE_BLOCK, count))


def in_own_transaction(sql: str, value: int) -> Any:
    """Run ``sql`` with ``value`` in a transaction of its own, committed at once (PostgreSQL).

    On the allocator's engine (:func:`server.database.allocator`).

    :returns: the one value it returns (``RETURNING``), else ``None``.
    """
    with allocator(db.engine).connect() as connection:
        result = connection.exec_driver_sql(sql, (value,))
        return result.scalar_one() if result.returns_rows else None


def rerun_races(work: Callable[[], T]) -> T:
    """Return ``work()``, run again after a rollback if it failed on a race (:data:`RACES`).

    ``work`` is a whole write transaction, commit included: on PostgreSQL
    pushes run side by side, and one that deadlocked on another's rows, or
    wrote a changeset or a new record a concurrent push committed first, is
    run again and then finds what that push wrote (a replay, a conflict).

    :raises DatabaseBusy: the last of :data:`RUNS` runs raced too (a
        retryable 503, as SQLite's writer lock held too long).
    """
    run = 1
    while True:
        try:
            return work()
        except DBAPIError as error:
            code = getattr(error.orig, "pgcode", None)
            if code not in RACES:
                raise
            if run == RUNS:
                db.session.rollback()
                raise DatabaseBusy(f"{RUNS} runs of a write raced others ({code})") from error
        db.session.rollback()
        run += 1
        log.info("a push raced another (%s): run %d of %d", code, run, RUNS)


def lock_sequence() -> int:
    """Lock the version sequence's row until the transaction ends; return the high-water mark.

    On the session's connection, as the move of the mark (:meth:`SqlStore.flush`):
    a Core statement needs none of the ORM session's execution, a tenth of
    the statement's CPU, paid by every push however small (issue #16).
    """
    return int(db.session.connection().execute(LOCK_SEQUENCE).scalar_one())


def to_record(row: Any, *, stamped: bool = True) -> Record:
    """Build an engine record from a row whose first columns are :data:`RECORD_COLUMNS`.

    Read by position: a row's columns by name cost a first sync a sixth of
    its time (issue #16).

    :param stamped: ``False`` for a row of :data:`PAGE_COLUMNS`: the record
        has no stamps (``{}``).
    :raises ValueError: if the row's fields are not a JSON object.
    """
    return Record(
        row[1],
        row[0],
        row[2],
        # ``bool``: a push's read (:class:`ReadByIds`) has SQLite's 0 or 1.
        bool(row[3]),
        StoredFields.parse(row[4]),
        WireStamps(row[6]) if stamped else {},
        scope_from_text(row[5]),
    )


def read_record(row: Any, *, stamped: bool = True) -> Record | None:
    """Return :func:`to_record` of ``row``, or ``None`` (logged) if it cannot be read.

    A row damaged outside the push path (by hand, by an old version) must
    not fail every pull page that reaches it: it is left out and logged for
    an operator, and a device that creates its id again writes over it.
    """
    try:
        return to_record(row, stamped=stamped)
    except ValueError as error:
        log.error("record %s (version %s) cannot be read, left out: %s", row[0], row[2], error)
        return None


def read_page_rows(rows: Result[Any]) -> list[tuple[int, Record | None]]:
    """Return ``(version, record)`` of each row of :func:`page_query` or :func:`scoped_page_query`.

    Rows of :data:`PAGE_COLUMNS`, so records without stamps. A row of
    :func:`scoped_page_query` that ``left`` (its seventh column) is the
    record's tombstone, at its exit's version (the row's). A row that
    cannot be read (:func:`read_record`) keeps its place, and so the
    cursor's arithmetic, as ``None``, and is left out of the page.
    """
    found: list[tuple[int, Record | None]] = []
    # Fetched at once (a page is at most a thousand rows and one more):
    # row by row, the driver and SQLAlchemy cost a tenth of a page's time.
    for row in cooperatively(rows.all()):
        record = read_record(row, stamped=False)
        if record is not None and len(row) > 6 and row[6]:
            record = record.tombstone()
        found.append((row[2], record))
    return found


# Scopes are few and immutable: each is read and written once a process.
@functools.lru_cache(maxsize=4096)
def scope_to_text(scope: Scope) -> str:
    """Return the stored form of a record's scope: ``"compound compound|building"``."""
    return " ".join(sorted(scope.compound_ids)) + "|" + (scope.building_id or "")


@functools.lru_cache(maxsize=4096)
def scope_from_text(text: str) -> Scope:
    """Read a scope written by :func:`scope_to_text`."""
    compounds, _, building = text.partition("|")
    return Scope(frozenset(compounds.split()), building or None)


def row_of(record: Record) -> tuple[Any, ...]:
    """Return the ``record`` table row of an engine record, in :data:`WRITE_RECORDS`' order."""
    return (
        record.id,
        record.type,
        record.version,
        record.deleted,
        dict(record.fields),
        stored_json(record.stamps_to_wire()),
        scope_to_text(record.scope),
    )


def unindexed(column: Any) -> Any:
    """Return ``column`` as an expression no index serves (``column || ''``).

    For conditions that must filter the rows a better index found, never pick
    the index themselves (SQLite's planner has no statistics to weigh them).
    """
    return column.concat("")


def covers(table: Any, scope: UserScope | None, places: tuple[int, int] = (0, 0)) -> Any:
    """Return the SQL condition that a scope row of ``table`` lies in ``scope``.

    ``None``: in the scope bound at execution as ``compound_ids`` and
    ``building_ids`` (lists), so that one statement serves every scope; or,
    given ``places`` (:func:`page_places`), place by place as ``compound_0``,
    ... and ``building_0``, ... (:func:`page_params`), one statement per
    count of places, which SQLAlchemy need not render afresh each time.
    """
    if scope is None and places != (0, 0):
        return or_(
            one_of(table.compound_id, "compound", places[0]),
            one_of(table.building_id, "building", places[1]),
        )
    compounds: Any = bindparam("compound_ids", expanding=True)
    buildings: Any = bindparam("building_ids", expanding=True)
    if scope is not None:
        compounds, buildings = scope.compound_ids, scope.building_ids
    return or_(table.compound_id.in_(compounds), table.building_id.in_(buildings))


def in_scope(
    version: Any,
    scope: UserScope | None,
    *,
    row_by_row: bool = False,
) -> Any:
    """Return the SQL condition that the record at ``version`` lies in ``scope`` (:func:`covers`).

    A record's scope rows carry its version, which is its alone: they are
    found by place and version, the key of ``record_scope``, one look-up a
    place of the scope.

    :param version: the record's version column (``record.version``).
    :param row_by_row: test each row the outer query reads, in its order, so
        that a query read along an index with a ``LIMIT`` stops at its page.
        ``OFFSET 0`` keeps PostgreSQL from turning the test into a semi-join,
        which hashed every scope row of a coordinator's neighbourhood for a
        pull of a few changes (issue #16); SQLite tests row by row anyway.
    """
    if not row_by_row:
        return exists().where(RecordScope.version == version, covers(RecordScope, scope))
    found = select(literal(1)).where(RecordScope.version == version, covers(RecordScope, scope))
    return found.offset(0).exists()


class PageFilters(NamedTuple):
    """Which conditions a pull page's statements carry (the rest is bound at execution).

    The type lists are bound one type at a time (``exclude_type_0``, ...,
    ``only_type_0``, ...: :func:`page_params`), so their lengths are part of
    a statement's shape: a list bound whole (an "expanding" parameter) has
    SQLAlchemy render the statement's text afresh at every execution, a
    tenth of an empty pull's time (issue #16).
    """

    #: How many types are left out (0: none).
    exclude_types: int
    #: How many types are the only ones wanted (``None``: any type).
    only_types: int | None
    scoped: bool


def page_params(
    scope: UserScope,
    cursor: int,
    high_water: int,
    limit: int,
    exclude_types: frozenset[str],
    only_types: frozenset[str] | None,
) -> dict[str, Any]:
    """Return the parameters of :func:`page_query` and :func:`tombstone_query` (limit + 1 rows)."""
    compound_ids, building_ids = sorted(scope.compound_ids), sorted(scope.building_ids)
    return {
        "cursor": cursor,
        "high_water": high_water,
        **{f"exclude_type_{n}": name for n, name in enumerate(sorted(exclude_types))},
        **{f"only_type_{n}": name for n, name in enumerate(sorted(only_types or ()))},
        "compound_ids": compound_ids,
        "building_ids": building_ids,
        **{f"compound_{n}": place for n, place in enumerate(compound_ids)},
        **{f"building_{n}": place for n, place in enumerate(building_ids)},
        "limit": limit + 1,
    }


def type_conditions(column: Any, filters: PageFilters) -> list[Any]:
    """Return the bound type conditions ``filters`` asks for, on ``column``."""
    conditions = []
    if filters.exclude_types:
        conditions.append(~one_of(column, "exclude_type", filters.exclude_types))
    if filters.only_types is not None:
        conditions.append(one_of(column, "only_type", filters.only_types))
    return conditions


def one_of(column: Any, name: str, count: int) -> Any:
    """Return ``column IN (:name_0, ..., :name_<count - 1>)``, false if ``count`` is 0.

    Never an expanding parameter (not even SQLAlchemy's own for an empty
    list), so that the statement is rendered once.
    """
    return column.in_([bindparam(f"{name}_{n}") for n in range(count)]) if count else false()


#: The most places (compounds and buildings) a scoped page reads one by one
#: from the change index; a scope of more walks every record's version
#: instead (and SQLite allows at most 500 terms in a UNION).
MOST_PLACES = 64


def page_places(scope: UserScope) -> tuple[int, int]:
    """Return how many compounds and buildings :func:`page_query` reads one by one.

    ``(0, 0)`` when the page walks every record's version instead: for a
    user who sees everything, or a scope of more than :data:`MOST_PLACES`.
    """
    compounds, buildings = len(scope.compound_ids), len(scope.building_ids)
    if scope.everything or compounds + buildings > MOST_PLACES:
        return 0, 0
    return compounds, buildings


@functools.cache
def page_query(filters: PageFilters, dialect: str, places: tuple[int, int] = (0, 0)) -> Any:
    """Return the statement of a pull page's records, built once per shape and database kind.

    Built once, it skips SQLAlchemy's per-call construction and reuses its
    compiled form: on a small pull that was most of the request's time.

    :param places: :func:`page_places`: for a scope of a few places, the
        page reads each place's changes from the change index
        (``record_scope`` by place and version, at most a page each) and
        keeps the first page of them, so that its cost follows the page and
        the number of places, not the records in the scope or the database
        (issue #16); else it walks every record's version.
    """
    if filters.scoped and places != (0, 0):
        return _places_page_query(filters, *places)
    # On SQLite the type is tested as an expression, not the column: its
    # planner, without statistics, drove the page from ``ix_record_type``
    # (every record of the role's types, then a sort) instead of the
    # version range, so a pull's cost followed the data, not the page
    # (issue #16). PostgreSQL weighs the column by its statistics, and an
    # expression it cannot estimate made it hash the whole scope instead.
    page_type = unindexed(RecordRow.type) if dialect == "sqlite" else RecordRow.type
    conditions = [
        RecordRow.version > bindparam("cursor"),
        RecordRow.version <= bindparam("high_water"),
        *type_conditions(page_type, filters),
    ]
    if filters.scoped:
        conditions.append(in_scope(RecordRow.version, None, row_by_row=True))
    return (
        select(*PAGE_COLUMNS)
        .where(*conditions)
        .order_by(RecordRow.version)
        .limit(bindparam("limit"))
    )


def _places_page_query(filters: PageFilters, compounds: int, buildings: int) -> Any:
    """Return :func:`page_query`'s statement for a scope of ``compounds`` and ``buildings``.

    The places are bound one by one as ``compound_0``, ... and
    ``building_0``, ... (:func:`page_params`). A record of several places
    the caller sees is kept once (its rows all carry its version).
    """
    scope = RecordScope.__table__.c
    keyed = [(scope.compound_id, f"compound_{n}") for n in range(compounds)]
    keyed += [(scope.building_id, f"building_{n}") for n in range(buildings)]
    each = [
        select(scope.version)
        .where(
            column == bindparam(name),
            scope.version > bindparam("cursor"),
            scope.version <= bindparam("high_water"),
            *type_conditions(scope.record_type, filters),
        )
        .order_by(scope.version)
        .limit(bindparam("limit"))
        .subquery()
        for column, name in keyed
    ]
    union = union_all(*(select(place.c.version) for place in each)).subquery()
    # The page's versions, then its records by their unique version: SQLite
    # reads them in the IN list's order, with no sort of the records (a join
    # on the id read the same rows a third slower, for the sort after it).
    versions = select(union.c.version).distinct().order_by(union.c.version)
    return (
        select(*PAGE_COLUMNS)
        .where(RecordRow.version.in_(versions.limit(bindparam("limit")).scalar_subquery()))
        .order_by(RecordRow.version)
    )


@functools.cache
def scoped_page_query(filters: PageFilters, dialect: str, places: tuple[int, int]) -> Any:
    """Return one statement for a scoped pull page: its records and its exits' tombstones.

    The rows of :func:`page_query` (``left`` false), then, with ``left``
    true, the records of :func:`tombstone_query`'s exits at their exit's
    version, each part at most a page, in no order. One statement is one
    round trip and one snapshot: a record is either in the scope (a page
    row) or not (an exit row), never both (rule 21), also on PostgreSQL,
    where each statement of a ``READ COMMITTED`` transaction sees its own.
    Built once per shape and database kind.
    """
    page = page_query(filters, dialect, places).subquery()
    exits = tombstone_query(filters, dialect, places).subquery()
    left = select(
        RecordRow.id,
        RecordRow.type,
        exits.c.version,
        RecordRow.deleted,
        *PAGE_COLUMNS[4:],
        true().label("left"),
    ).join_from(exits, RecordRow, RecordRow.id == exits.c.record_id)
    return union_all(select(*page.c, false().label("left")), left)


@functools.cache
def tombstone_query(filters: PageFilters, dialect: str, places: tuple[int, int] = (0, 0)) -> Any:
    """Return the statement of a page's exits: records that left the bound scope, latest exit.

    :param places: :func:`page_places`: the scope's places are bound one by one.
    """
    # Whether an exit's record is back in the scope: a look at its scope
    # rows by place and its version now (the key of ``record_scope``).
    now = (
        select(RecordRow.version)
        .where(RecordRow.id == ScopeExit.record_id)
        .correlate_except(RecordRow)
        .scalar_subquery()
    )
    back = exists().where(RecordScope.version == now, covers(RecordScope, None, places))
    latest = func.max(ScopeExit.version)
    conditions = [
        ScopeExit.version > bindparam("cursor"),
        ScopeExit.version <= bindparam("high_water"),
        covers(ScopeExit, None, places),
        ~back,
        *type_conditions(ScopeExit.record_type, filters),
    ]
    return (
        select(ScopeExit.record_id, latest.label("version"))
        .where(*conditions)
        .group_by(ScopeExit.record_id)
        .order_by(latest)
        .limit(bindparam("limit"))
    )


def chunks(items: list[T]) -> Iterator[list[T]]:
    """Split ``items`` into lists of at most :data:`CHUNK`."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
