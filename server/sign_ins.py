"""Who a request is signed in as: what each bearer token stands for, cached per process.

Resolving a token afresh (its row, its user, the user's scope items, the
neighbourhood's compounds, the grants in force) took several queries and
most of a small pull's time (issue #16). Each server process keeps what a
token stands for as an :class:`Identity` and checks it with one read per
request (:data:`CHECK`), of :class:`~server.models.AuthState`'s generation,
which moves in the transaction of everything that may change an identity, in
any process:

- a device token revoked (logout), otherwise changed (but for a later
  ``last_seen`` stamp) or deleted; a user changed in any way
  (role, scope kind, neighbourhood, standing) or deleted; a user's scope
  item added or removed; a break-the-glass grant recorded or ended early — all noticed
  at every ORM flush (:func:`note_changes`);
- a compound record written (:func:`changed`, called by the SQL store): a
  neighbourhood's compounds are a neighbourhood-wide user's scope.

An identity also ends by time, at the earliest of: its device's next
``last_seen`` stamp (:data:`server.accounts.LAST_SEEN_RESOLUTION`, so the
stamp is written at most that often), its token's idle expiry, and the end
of the earliest break-the-glass grant in force it holds. A miss or an ended
identity is resolved as before (:func:`server.accounts.token_in_force`).

A pull's read (:data:`MARKS`) takes the committed high-water mark of the
version sequence and the exits' too (:func:`committed_marks`): it bounds its
page by the first, leaves out the tombstones of exits from a cursor at or
above the second, and so needs no statement of its own for them (issue #16).
Other requests do not read them: on PostgreSQL the marks are a function
that scans the lock table (``docs/sync.md``, "Parallel pushes on
PostgreSQL"), 0.09 ms of every push's sign-in for nothing (issue #16).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.orm import Session

from server import accounts, clock, scopes
from server.extensions import db
from server.models import (
    EXITS_HIGH_WATER,
    HIGH_WATER,
    PG_MARKS,
    AuditEntry,
    AuthState,
    DeviceToken,
    User,
    UserScopeItem,
)
from sync.actors import Actor

EXTENSION = "weiguang_sign_ins"
#: Tokens cached per process; past this the cache starts afresh.
MAX_CACHED = 10_000
GENERATION = select(AuthState.generation).where(AuthState.id == 1)
#: The one read of a signed-in request but a pull: the generation alone
#: (null before the row's first move).
CHECK = select(GENERATION.scalar_subquery())
#: The one read of a signed-in request that needs the marks (a pull): the
#: generation, the committed high-water mark and the exits' high-water
#: mark, in one snapshot.
MARKS = select(
    GENERATION.scalar_subquery(),
    HIGH_WATER.scalar_subquery(),
    EXITS_HIGH_WATER.scalar_subquery(),
)
#: :data:`CHECK` (``False``) and :data:`MARKS` (``True``) as each kind
#: of database's SQL, their ids written in (made on first use).
_CHECK_SQL: dict[tuple[str, bool], str] = {}
#: Where a request keeps the high-water marks read with its sign-in check.
MARKS_KEY = "sign_in_marks"
#: Audit entries that start or end a break-the-glass grant.
GRANT_ACTIONS = frozenset({scopes.BREAK_GLASS_ACTION, scopes.END_GRANT_ACTION})


@dataclass(frozen=True, slots=True)
class Identity:
    """What a bearer token stands for, while ``generation`` holds and until ``valid_until``."""

    device_id: int
    user_id: int
    actor: Actor
    #: The break-the-glass grants in force: (compound id, end).
    grants: tuple[tuple[str, datetime], ...]
    generation: int
    valid_until: datetime


def identify(token: str, *, marks: bool = False) -> Identity | None:
    """Return the identity of a bearer token in force, or ``None`` (unknown, revoked, idle).

    :param marks: read the high-water marks with the check too, and keep
        them for the request (:func:`committed_marks`).
    """
    known: dict[str, Identity] = current_app.extensions[EXTENSION]
    digest = accounts.token_digest(token)
    # Read first: a change committed after this read moves the generation
    # past the one the identity resolved below is kept under.
    read = check_row(marks)
    generation = read[0] or 0
    if marks:
        setattr(g, MARKS_KEY, (int(read[1] or 0), int(read[2] or 0)))
    cached = known.get(digest)
    if (
        cached is not None
        and cached.generation == generation
        and clock.utcnow() < cached.valid_until
    ):
        return cached
    known.pop(digest, None)
    device = accounts.token_in_force(token)
    if device is None:
        return None
    user = device.user
    actor = scopes.actor_for(user)
    in_force = scopes.grants_in_force(clock.utcnow(), [user.id])
    grants = tuple((entry.record_id or "", scopes.grant_expiry(entry)) for entry in in_force)
    ends = [end for _, end in grants]
    identity = Identity(device.id, user.id, actor, grants, generation, valid_until(device, ends))
    if len(known) >= MAX_CACHED:
        known.clear()
    known[digest] = identity
    return identity


def check_row(marks: bool) -> Row[Any]:
    """Run the sign-in check (:func:`check_sql`); return its one row.

    As a Core statement, which needs no ORM execution. A pull's (``marks``)
    on SQLite runs on a connection of its own, outside the request's
    session: an up-to-date device's pull then opens no session transaction,
    whose begin and teardown were a fifth of its time (1.09 against 0.90 ms
    over HTTP, issue #16). Its page, if any, is read later in the session's
    transaction: a newer snapshot, as each statement of PostgreSQL's READ
    COMMITTED sees, bounded by the marks read here (``docs/sync.md``, "Why
    no pull skips a change", step 3). On PostgreSQL a connection of its own
    cost a pull with changes two round trips more (its ``BEGIN`` and
    ``ROLLBACK``, 4.76 against 5.19 ms for the last 100): there the check
    is the session's first statement, as every other request's is.
    """
    engine = db.engine
    if marks and engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            return connection.exec_driver_sql(check_sql(engine.dialect, marks)).one()
    connection = db.session.connection()
    return connection.exec_driver_sql(check_sql(connection.dialect, marks)).one()


def check_sql(dialect: Dialect, marks: bool) -> str:
    """Return :data:`MARKS` (``marks``) or :data:`CHECK` as ``dialect``'s SQL, no parameters.

    Sent as the driver's own SQL, the read every signed-in request makes
    skips SQLAlchemy's compiled-statement look-up and parameter handling:
    6 us less CPU on SQLite, 11 on PostgreSQL (issue #16). It still passes
    the engine's events.
    """
    sql = _CHECK_SQL.get((dialect.name, marks))
    if sql is None:
        if not marks:
            compiled = CHECK.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            sql = str(compiled)
        elif dialect.name == "postgresql":
            # The marks of pushes side by side (``server.store.read_marks``).
            generation = GENERATION.scalar_subquery().compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}
            )
            sql = f"SELECT ({generation}), {PG_MARKS}"
        else:
            compiled = MARKS.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            sql = str(compiled)
        _CHECK_SQL[dialect.name, marks] = sql
    return sql


def committed_marks() -> tuple[int, int]:
    """Return the high-water marks read with this request's sign-in check.

    ``(committed high-water mark, exits' high-water mark)``, versions (0:
    none yet), read before anything else of the request
    (:func:`check_row`): every version up to the first is committed, so a
    pull may bound its later reads by it (``docs/sync.md``, "Why no pull
    skips a change", step 3), and no exit up to it lies above the second
    (:data:`~server.models.records.EXITS_HIGH_WATER`). Only in a request
    guarded by :func:`server.auth.require_auth` with ``marks``.
    """
    marks: tuple[int, int] = getattr(g, MARKS_KEY)
    return marks


def valid_until(device: DeviceToken, ends: list[datetime]) -> datetime:
    """Return when an identity of ``device`` must be resolved again, by time alone.

    :param ends: other times it ends at (its grants' ends).
    """
    seen = clock.aware(device.last_seen_at)
    idle_limit = timedelta(days=current_app.config["WEIGUANG"]["TOKEN_IDLE_DAYS"])
    return min([seen + accounts.LAST_SEEN_RESOLUTION, seen + idle_limit, *ends])


def changed(session: Session | None = None) -> None:
    """Move the generation in the current transaction: every cached identity ends at its commit.

    The row is made by the first move (a database migrated from before it
    has none: generation 0).
    """
    session = session or db.session
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    first = module.insert(AuthState).values(id=1, generation=1)
    session.execute(
        first.on_conflict_do_update(
            index_elements=[AuthState.id], set_={"generation": AuthState.generation + 1}
        )
    )


def affects_identities(session: Session) -> bool:
    """Tell whether what ``session`` is about to flush may change what some token stands for."""
    for obj in session.new:
        if isinstance(obj, UserScopeItem):
            return True
        if isinstance(obj, AuditEntry) and obj.action in GRANT_ACTIONS:
            return True
    for obj in session.deleted:
        if isinstance(obj, User | UserScopeItem | DeviceToken):
            return True
    for obj in session.dirty:
        if isinstance(obj, User) and session.is_modified(obj):
            return True
        if isinstance(obj, DeviceToken) and token_changed(obj):
            return True
    return False


def token_changed(device: DeviceToken) -> bool:
    """Tell whether a device token row changed other than by a later ``last_seen`` stamp."""
    state = inspect(device)
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        if attr.key != "last_seen_at" or not history.deleted or not history.added:
            return True
        if clock.aware(history.added[0]) < clock.aware(history.deleted[0]):
            return True  # moved back (by hand): its idle expiry came closer
    return False


def note_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """Move the generation when a flush may change an identity (a ``before_flush`` hook)."""
    if affects_identities(session):
        changed(session)


def init_app(app: Flask) -> None:
    """Give ``app`` its cache of identities; watch every session's flushes (once per process)."""
    app.extensions[EXTENSION] = {}
    if not event.contains(Session, "before_flush", note_changes):
        event.listen(Session, "before_flush", note_changes)
