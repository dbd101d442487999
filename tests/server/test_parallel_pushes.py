"""Pushes side by side on PostgreSQL (``PARALLEL.md``), and one at a time on SQLite.

Every case is real concurrency: each push runs on a thread of its own, with
its own test client and so its own app context and database session, and is
held where the test says (before or after its writes, before its n-th
version) by a hook on :class:`~server.store.SqlStore` that waits on an
event. Every wait is bounded (:data:`WAIT_S`): where pushes queue on one
lock (SQLite, and PostgreSQL before parallel pushes) a test fails in seconds
instead of hanging. On PostgreSQL pushes are made large enough to run side
by side (:data:`SIDE_BY_SIDE`).

- a pull while a push holding earlier versions is open stops below them,
  and gets the later push's changes once it commits (a record it moved out
  too, as a tombstone); a puller among pushers held open side by side sees
  every change once, its cursor never going back;
- pushes of one compound (which every record names) run side by side;
- a changeset pushed twice at once is applied once and answered alike;
- two pushes writing one record lose no update, and one field's conflict is
  judged as if they came one after the other (``docs/sync.md``, "Conflict
  records"; the reference is the same pushes, one after the other, on
  SQLite); two restocks of one package (written by a rule) add up;
- two creations of one id at once: the second is judged against the first;
- a push that fails after taking versions holds no pull back;
- a purge during a push: both complete, nothing lost;
- a live event's ``prev``: every version in ``(prev, cursor]`` is the push's own;
- a small push and a large one on one record both complete; a push that
  runs out of reruns behind the sequence is a retryable 503;
- SQLite: a second push still waits for the first, versions contiguous.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg2
import pytest
from flask import Flask
from sqlalchemy import func, select

from server import database, live, seed
from server import store as sql_store
from server.clock import utcnow
from server.extensions import db
from server.models import ChangesetLog, RecordRow, SyncState
from server.purge import purge_personal_data
from server.store import SqlStore
from tests.conftest import app_on
from tests.helpers import bearer, sign_in
from tests.server.test_sync_api import PULL, PUSH, a_changeset, a_task, create, update

#: How long a test waits for what must happen (a push held open meanwhile).
WAIT_S = 5.0
#: How long a held push waits for the test before it gives up (and fails).
HELD_S = 30.0
#: How long a push that must wait (SQLite) is watched still waiting.
STILL_WAITING_S = 1.0
#: A cursor above any version: a pull from it answers the high-water mark.
ABOVE_ALL = 999_999_999
#: The coordinator's devices, signed in before any push is held (a sign-in
#: writes: on SQLite it would wait for a held push).
DEVICES = ("maker", "P", "Q", "R")
#: How many changes a push needs on PostgreSQL to run beside other pushes
#: (``server.store.PARALLEL_WRITES`` on ``pgpar``; a smaller one still takes
#: the sequence's lock). 1 where there is no such bound.
SIDE_BY_SIDE: int = getattr(sql_store, "PARALLEL_WRITES", 1)
#: Every :class:`Call` started by the current test.
RUNNING: list[Call] = []


# -- holding a push where the test says --------------------------------------


@dataclass
class Hold:
    """A point where a push on one thread stops until the test lets it go.

    :param fail: raised by the push once let go (a push failing there).
    """

    reached: threading.Event = field(default_factory=threading.Event)
    go: threading.Event = field(default_factory=threading.Event)
    fail: BaseException | None = None
    #: The push's database backend (PostgreSQL), read when the hold was reached.
    pid: int | None = None
    fired: bool = False

    def wait_reached(self, what: str) -> None:
        """Fail unless the push reached the hold within :data:`WAIT_S`."""
        assert self.reached.wait(WAIT_S), f"{what} never reached its hold"


class Holds:
    """The holds and hooks of a test, by thread name and point.

    Points: ``"before writes"`` and ``"after writes"`` (either side of
    :meth:`SqlStore.flush`, so ``"after writes"`` is between a push's writes
    and its commit) and ``"version n"`` (before the thread's n-th
    :meth:`SqlStore.next_version`). A hold fires once: a push run again
    (after a unique violation or a deadlock) passes it.
    """

    def __init__(self) -> None:
        self._holds: dict[tuple[str, str], Hold] = {}
        self._hooks: list[tuple[str, Callable[[str], None]]] = []
        #: Thread name → its push's backend pid, as it opened its writing store.
        self.pids: dict[str, int] = {}
        self._versions_taken: Counter[str] = Counter()

    def hold(self, thread: str, point: str, fail: BaseException | None = None) -> Hold:
        """Hold the push on ``thread`` at ``point`` until :attr:`Hold.go` is set."""
        held = self._holds[(thread, point)] = Hold(fail=fail)
        return held

    def on(self, point: str, hook: Callable[[str], None]) -> None:
        """Call ``hook(thread name)`` whenever any push passes ``point``."""
        self._hooks.append((point, hook))

    def release_all(self) -> None:
        """Let every held push go (a test's cleanup, so that no thread is left waiting)."""
        for held in self._holds.values():
            held.go.set()

    def at(self, point: str) -> None:
        """Stop here if the current thread is held at ``point`` (called by the hooks)."""
        thread = threading.current_thread().name
        for name, hook in self._hooks:
            if name == point:
                hook(thread)
        held = self._holds.get((thread, point))
        if held is None or held.fired:
            return
        held.fired = True
        held.pid = backend_pid()
        held.reached.set()
        if not held.go.wait(HELD_S):
            raise TimeoutError(f"{thread} was held at {point!r} and never let go")
        if held.fail is not None:
            raise held.fail

    def opened(self) -> None:
        """Note the backend of the current thread's push, as it opens its writing store."""
        pid = backend_pid()
        if pid is not None:
            self.pids[threading.current_thread().name] = pid

    def pid_of(self, thread: str) -> int:
        """Return the backend of the push on ``thread``, waiting for it to open its store."""
        deadline = time.monotonic() + WAIT_S
        while thread not in self.pids:
            assert time.monotonic() < deadline, f"{thread} never opened a writing store"
            time.sleep(0.01)
        return self.pids[thread]

    def taking_version(self) -> None:
        """Count the current thread's versions; stop before the n-th if held at ``version n``."""
        thread = threading.current_thread().name
        self._versions_taken[thread] += 1
        self.at(f"version {self._versions_taken[thread]}")


def backend_pid() -> int | None:
    """Return the PostgreSQL backend of the session's connection (``None`` on SQLite)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return None
    return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


@pytest.fixture
def holds(monkeypatch: pytest.MonkeyPatch) -> Iterator[Holds]:
    """Install the hooks of :class:`Holds` on :class:`SqlStore`; let every push go after."""
    points = Holds()
    flush, next_version = SqlStore.flush, SqlStore.next_version
    for_writing = SqlStore.for_writing.__func__  # type: ignore[attr-defined]

    def held_flush(self: SqlStore) -> None:
        points.at("before writes")
        flush(self)
        points.at("after writes")

    def held_next_version(self: SqlStore) -> int:
        points.taking_version()
        return next_version(self)

    def noted_for_writing(cls: type[SqlStore], **kwargs: Any) -> SqlStore:
        points.opened()
        return for_writing(cls, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(SqlStore, "flush", held_flush)
    monkeypatch.setattr(SqlStore, "next_version", held_next_version)
    monkeypatch.setattr(SqlStore, "for_writing", classmethod(noted_for_writing))
    yield points
    points.release_all()
    # Before the database goes: a push left running would fail on its removal.
    for call in list(RUNNING):
        call.wait(HELD_S)
    RUNNING.clear()


@dataclass
class Announced:
    """A push's live announcement: what :func:`server.live.announce_soon` was given."""

    thread: str
    prev: int
    cursor: int
    versions: frozenset[int]


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[Announced]:
    """Collect every push's announcement (``outcome``, ``prev``) instead of sending it."""
    found: list[Announced] = []
    lock = threading.Lock()

    def note(outcome: Any, prev: int) -> None:
        if outcome.cursor is None:
            return
        versions = frozenset(record.version for record in outcome.written)
        with lock:
            found.append(
                Announced(threading.current_thread().name, prev, outcome.cursor, versions)
            )

    monkeypatch.setattr(live, "announce_soon", note)
    return found


# -- requests on threads of their own ------------------------------------------


class Call:
    """A request made on a thread of its own (so with its own app context and session).

    Every call is waited for when the test ends (:func:`holds`).
    """

    def __init__(self, name: str, action: Callable[[], Any]):
        self.name = name
        self._action = action
        self.finished = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        RUNNING.append(self)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.value = self._action()
        except BaseException as error:  # reported by result(), in the test's thread
            self.error = error
        finally:
            self.finished.set()

    def wait(self, seconds: float = WAIT_S) -> bool:
        """Return whether the call finished within ``seconds``."""
        return self.finished.wait(seconds)

    def result(self, seconds: float = WAIT_S) -> Any:
        """Return the call's value; fail if it raised or did not finish within ``seconds``."""
        assert self.wait(seconds), f"{self.name} did not finish within {seconds:g} s"
        if self.error is not None:
            raise self.error
        return self.value


@dataclass
class Reply:
    """A push's answer."""

    status: int
    body: Any

    def ok(self) -> Any:
        """Return the body of a 200 answer; fail on another."""
        assert self.status == 200, (self.status, self.body)
        return self.body


class Neighbourhood:
    """The seeded demo behind one app, pushed to and pulled from by the coordinator's devices."""

    def __init__(self, app: Flask):
        self.app = app
        self.client = app.test_client()
        self.reader = sign_in(self.client, "coord", device_name="reader")
        self._tokens: dict[str, str] = {}
        for device in DEVICES:
            self.token(device)

    def token(self, device: str) -> str:
        """Return the coordinator's token on ``device`` (one sign-in, and so token row, each)."""
        if device not in self._tokens:
            self._tokens[device] = sign_in(self.client, "coord", device_name=device)
        return self._tokens[device]

    def push(self, device: str, *changesets: dict[str, Any]) -> Reply:
        """Push ``changesets`` from ``device`` here, in the test's thread."""
        return self.post(self.client, device, changesets)

    def push_on(self, name: str, *changesets: dict[str, Any], device: str | None = None) -> Call:
        """Push ``changesets`` on a thread named ``name`` (the device too, unless given)."""
        device = device or name
        assert device in self._tokens, f"{device} signs in before any push is held"
        client = self.app.test_client()
        return Call(name, lambda: self.post(client, device, changesets))

    def post(self, client: Any, device: str, changesets: Any) -> Reply:
        reply = client.post(
            PUSH,
            json={"client_id": device, "changesets": list(changesets)},
            headers=bearer(self.token(device)),
        )
        return Reply(reply.status_code, reply.get_json())

    def pull(
        self, cursor: int, limit: int = 1000, client: Any = None, token: str | None = None
    ) -> dict[str, Any]:
        """Return one pull page from ``cursor``, as the reader (or the holder of ``token``)."""
        page = (client or self.client).get(
            f"{PULL}?cursor={cursor}&limit={limit}", headers=bearer(token or self.reader)
        )
        assert page.status_code == 200, page.get_json()
        body: dict[str, Any] = page.get_json()
        return body

    def pull_within(self, cursor: int, token: str | None = None) -> dict[str, Any]:
        """Return :meth:`pull`, made on a thread: fail if it takes over :data:`WAIT_S`."""
        client = self.app.test_client()
        answer: dict[str, Any] = Call(
            "puller", lambda: self.pull(cursor, client=client, token=token)
        ).result()
        return answer

    def pull_all(self, cursor: int, token: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """Return every change after ``cursor`` and the cursor at the end."""
        records: list[dict[str, Any]] = []
        while True:
            page = self.pull(cursor, token=token)
            records += page["changes"]
            cursor = page["cursor"]
            if not page["more"]:
                return records, cursor

    def activity(self) -> str:
        """Return what this database's backends are doing (PostgreSQL), for a failure's message."""
        with self.app.app_context():
            url = db.engine.url
        if url.get_backend_name() != "postgresql":
            return ""
        connection = psycopg2.connect(url.set(drivername="postgresql").render_as_string(False))
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid, state, wait_event_type, wait_event, left(query, 160)"
                    " FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND state <> 'idle'"
                )
                rows = cursor.fetchall()
        finally:
            connection.close()
        return "".join(f"\n  backend {row}" for row in rows)

    def high_water(self) -> int:
        """Return ``sync_state.high_water`` (the highest version handed out, on PostgreSQL)."""
        with self.app.app_context():
            mark = int(db.session.scalar(select(SyncState.high_water)) or 0)
            db.session.rollback()
        return mark

    def record(self, record_id: str) -> dict[str, Any] | None:
        """Return the stored row of a record (``id``, ``version``, ``deleted``, ``fields``)."""
        with self.app.app_context():
            row = db.session.get(RecordRow, record_id)
            found = (
                None
                if row is None
                else {
                    "id": row.id,
                    "version": row.version,
                    "deleted": row.deleted,
                    "fields": row.fields,
                }
            )
            db.session.rollback()
        return found

    def outcome_of(self, record_id: str) -> dict[str, Any]:
        """Return a record's fields and its conflict records' fields by id (no versions)."""
        record = self.record(record_id)
        assert record is not None, record_id
        with self.app.app_context():
            rows = db.session.execute(
                select(RecordRow.id, RecordRow.fields).where(RecordRow.type == "conflict")
            ).all()
            db.session.rollback()
        conflicts = {rid: fields for rid, fields in rows if fields["record_id"] == record_id}
        return {"fields": record["fields"], "conflicts": conflicts}

    def logged(self, changeset_id: str) -> int:
        """Return how many ``changeset_log`` rows the changeset has."""
        with self.app.app_context():
            count = int(
                db.session.scalar(select(func.count()).where(ChangesetLog.id == changeset_id)) or 0
            )
            db.session.rollback()
        return count


@pytest.fixture
def pg_app(pg_url: str) -> Iterator[Flask]:
    yield from app_on(pg_url)


@pytest.fixture
def sqlite_app(sqlite_url: str) -> Iterator[Flask]:
    yield from app_on(sqlite_url)


@pytest.fixture
def hood(pg_app: Flask) -> Neighbourhood:
    return Neighbourhood(pg_app)


def ids_of(records: list[dict[str, Any]]) -> Counter[str]:
    return Counter(record["id"] for record in records)


def a_new_task(compound: str = "A", **fields: Any) -> dict[str, Any]:
    """Return a changeset creating a task in ``compound`` (its letter; the only change)."""
    return a_changeset(create("task", a_task(seed.stable_id("compound", compound), **fields)))


def created_id(changeset: dict[str, Any]) -> str:
    return str(changeset["changes"][0]["id"])


def waiting_statement(pg_url: str, pid: int) -> str:
    """Return the statement backend ``pid`` waits on a lock in; fail if it waits on none.

    Polled for :data:`WAIT_S`: a push blocked by another push's open
    transaction is seen waiting on a ``Lock``.
    """
    connection = psycopg2.connect(pg_url)
    connection.autocommit = True
    try:
        seen = None
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT wait_event_type, state, query FROM pg_stat_activity WHERE pid = %s",
                    (pid,),
                )
                seen = cursor.fetchone()
            if seen is not None and seen[0] == "Lock":
                return str(seen[2])
            time.sleep(0.02)
        raise AssertionError(f"backend {pid} never waited on a lock: {seen}")
    finally:
        connection.close()


def assert_waits_past_the_sequence(pg_url: str, holds: Holds, thread: str) -> None:
    """Assert the push on ``thread`` waits on a lock, not the sequence's (it is past its claim)."""
    statement = waiting_statement(pg_url, holds.pid_of(thread))
    assert "sync_state" not in statement, (
        f"{thread} waits on the version sequence behind the open push: {statement}"
    )


def side_by_side(*changesets: dict[str, Any], compound: str = "A") -> list[dict[str, Any]]:
    """Return ``changesets`` and after them enough task creations for a push to run side by side.

    On PostgreSQL only a push of :data:`SIDE_BY_SIDE` changes or more runs
    beside others; a smaller one still takes the sequence's lock. The
    tasks are made in ``compound``.
    """
    count = sum(len(changeset["changes"]) for changeset in changesets)
    fillers = (a_new_task(compound, title="filler") for _ in range(SIDE_BY_SIDE - count))
    return [*changesets, *fillers]


def created_ids(changesets: list[dict[str, Any]]) -> list[str]:
    """Return the ids of the records the changesets create."""
    return [
        c["id"] for changeset in changesets for c in changeset["changes"] if c["op"] == "create"
    ]


def versions_in(reply: dict[str, Any]) -> list[int]:
    """Return the versions a push's answer gives its changes."""
    return [
        change["version"]
        for result in reply["results"]
        for change in result["changes"]
        if change["version"] is not None
    ]


def each_once(seen: Counter[str], ids: list[str]) -> dict[str, int]:
    """Return how often each of ``ids`` was seen, for comparison with :func:`once`."""
    return {rid: seen[rid] for rid in ids}


def once(ids: list[str]) -> dict[str, int]:
    return dict.fromkeys(ids, 1)


def q_while_p_is_open(
    hood: Neighbourhood,
    holds: Holds,
    by_p: list[dict[str, Any]],
    by_q: list[dict[str, Any]],
    why: str,
) -> tuple[Call, Call, Hold]:
    """Push ``by_p`` and hold it open after its writes; push ``by_q`` and wait for its commit.

    :returns: P's push (held: set the hold's ``go``), Q's, and the hold.
    """
    held = holds.hold("P", "after writes")
    p = hood.push_on("P", *by_p)
    held.wait_reached("P")
    q = hood.push_on("Q", *by_q)
    assert q.wait(), f"Q could not commit while P, {why}, was open" + hood.activity()
    return p, q, held


# -- 1. a pull while pushes commit against their versions' order ---------------


@pytest.mark.postgres
def test_a_pull_while_a_push_of_earlier_versions_is_open_stops_below_them(hood, holds):
    start = hood.pull(ABOVE_ALL)["cursor"]
    by_p = side_by_side(a_new_task("A", title="P"), compound="A")
    by_q = side_by_side(a_new_task("B", title="Q"), compound="B")
    p, q, p_held = q_while_p_is_open(hood, holds, by_p, by_q, "holding earlier versions")
    q_versions = versions_in(q.result().ok())
    during = hood.pull_within(start)
    p_held.go.set()
    p_versions = versions_in(p.result().ok())

    assert max(p_versions) < min(q_versions)  # P took its versions first, Q committed first
    assert start <= during["cursor"] < min(p_versions)
    pushed = created_ids(by_p) + created_ids(by_q)
    assert not ids_of(during["changes"]).keys() & set(pushed), "a pull passed P's versions"
    rest, end = hood.pull_all(during["cursor"])
    assert each_once(ids_of(during["changes"]) + ids_of(rest), pushed) == once(pushed)
    assert end >= max(q_versions)


@pytest.mark.postgres
def test_a_record_moved_out_by_a_push_committed_out_of_order_reaches_its_old_compound(hood, holds):
    # The exits' mark: a pull from at or above it reads no exits, so a push
    # that moves a record out must have moved the mark before a pull can pass
    # its versions, though it commits after a push of later versions.
    volunteer = sign_in(hood.client, "vol-a")  # sees compound A only
    moving = create("task", a_task(seed.stable_id("compound", "A")))
    base = hood.push("maker", a_changeset(moving)).ok()["cursor"]
    _, start = hood.pull_all(0, token=volunteer)
    moved = update("task", moving["id"], base, compound_id=seed.stable_id("compound", "B"))
    held = holds.hold("P", "after writes")
    p = hood.push_on("P", *side_by_side(a_changeset(moved), compound="B"))
    held.wait_reached("P")
    q = hood.push_on("Q", *side_by_side(compound="C"))
    assert q.wait(), "Q could not commit while P was open" + hood.activity()
    q.result().ok()
    during = hood.pull_within(start, token=volunteer)
    held.go.set()
    exit_version = p.result().ok()["results"][0]["changes"][0]["version"]

    assert start <= during["cursor"] < exit_version
    assert moving["id"] not in ids_of(during["changes"])
    rest, end = hood.pull_all(during["cursor"], token=volunteer)
    tombstones = [r for r in rest if r["id"] == moving["id"]]
    assert [(r["deleted"], r["version"]) for r in tombstones] == [(True, exit_version)], (
        "the old compound did not get the tombstone once"
    )
    assert moving["id"] not in ids_of(hood.pull_all(end, token=volunteer)[0])


@pytest.mark.postgres
def test_pushes_making_records_of_one_compound_run_side_by_side(hood, holds):
    # Nearly every record names its compound (and often a building and a
    # household): pushes that only read the same compound must not queue on it.
    by_p = side_by_side(a_new_task("A", title="P"), compound="A")
    by_q = side_by_side(a_new_task("A", title="Q"), compound="A")
    p, q, held = q_while_p_is_open(hood, holds, by_p, by_q, "of the same compound")
    held.go.set()
    p.result().ok()
    q.result().ok()


@dataclass
class SideBySide:
    """What :func:`push_side_by_side` saw."""

    created: list[str]
    seen: Counter[str]
    #: Problems the puller saw on its way (a cursor going back, a version outside a page).
    puller_problems: list[str]
    failed: list[Any]
    most_open: int


#: The seeded demo's compounds: a pusher each (pushes in one compound are
#: :func:`test_pushes_making_records_of_one_compound_run_side_by_side`).
COMPOUNDS = ("A", "B", "C")
PUSHERS, PUSHES_EACH = len(COMPOUNDS), 4


def push_side_by_side(
    hood: Neighbourhood, holds: Holds, seed: int, small_too: bool = False
) -> SideBySide:
    """Have :data:`PUSHERS` push tasks, held open after their writes side by side, while one pulls.

    Each pusher's first push waits (up to :data:`WAIT_S`) after its writes
    for every other's to be there too; every push then waits a random few
    milliseconds between its writes and its commit, so that pushes commit
    in shuffled order. A puller walks its cursor all the while, a few
    changes a page.

    :param small_too: every other push after the first is of one change
        (below :data:`SIDE_BY_SIDE`: one that holds the sequence).
    """
    names = [f"pusher-{n}" for n in range(PUSHERS)]
    compound_of = dict(zip(names, COMPOUNDS, strict=True))
    everyone_open = threading.Barrier(PUSHERS, timeout=WAIT_S)
    state = {"open": 0, "most": 0}
    lock = threading.Lock()
    first_pushes: set[str] = set()
    randomness = random.Random(seed)
    delays = {name: random.Random(randomness.random()) for name in names}

    def keep_open(thread: str) -> None:
        if thread not in delays:
            return
        with lock:
            state["open"] += 1
            state["most"] = max(state["most"], state["open"])
            first = thread not in first_pushes
            first_pushes.add(thread)
        try:
            if first:
                with contextlib.suppress(threading.BrokenBarrierError):
                    everyone_open.wait()  # a broken barrier shows in most_open
            time.sleep(delays[thread].uniform(0, 0.015))
        finally:
            with lock:
                state["open"] -= 1

    holds.on("after writes", keep_open)
    start = hood.pull(ABOVE_ALL)["cursor"]
    created: list[str] = []
    failed: list[Any] = []
    done = threading.Event()
    clients = {name: hood.app.test_client() for name in names}
    for name in names:
        hood.token(name)

    def pusher(name: str) -> None:
        for n in range(PUSHES_EACH):
            changesets = side_by_side(a_new_task(compound_of[name]), compound=compound_of[name])
            if small_too and n % 2:
                changesets = changesets[:1]
            reply = hood.post(clients[name], name, changesets)
            if reply.status != 200 or any(r["status"] != "applied" for r in reply.body["results"]):
                failed.append(reply)
                continue
            created.extend(created_ids(changesets))

    problems: list[str] = []
    seen: Counter[str] = Counter()
    reader = hood.app.test_client()

    def puller() -> None:
        cursor = start
        while True:
            finished = done.is_set()
            page = hood.pull(cursor, limit=17, client=reader)
            if page["cursor"] < cursor:
                problems.append(f"cursor went back from {cursor} to {page['cursor']}")
            for record in page["changes"]:
                if not cursor < record["version"] <= page["cursor"]:
                    problems.append(f"{record['version']} outside ({cursor}, {page['cursor']}]")
            seen.update(record["id"] for record in page["changes"])
            cursor = max(cursor, page["cursor"])
            if finished and not page["more"]:
                return

    calls = [Call(name, lambda name=name: pusher(name)) for name in names]
    pulling = Call("puller", puller)
    for call in calls:
        call.result(WAIT_S * 6)
    done.set()
    pulling.result(WAIT_S * 6)
    return SideBySide(created, seen, problems, failed, state["most"])


@pytest.mark.postgres
@pytest.mark.parametrize(("seed", "small_too"), [(1, False), (2, False), (3, True), (4, True)])
def test_a_puller_among_pushes_open_side_by_side_sees_every_change_once(
    hood, holds, seed, small_too
):
    run = push_side_by_side(hood, holds, seed, small_too)
    assert run.most_open == PUSHERS, f"at most {run.most_open} pushes were ever open at once"
    assert not run.failed, run.failed[:3]
    assert not run.puller_problems, run.puller_problems[:5]
    pushes_large = PUSHES_EACH // 2 if small_too else PUSHES_EACH
    pushes_small = PUSHES_EACH - pushes_large  # of one change each
    assert len(run.created) == PUSHERS * (pushes_large * SIDE_BY_SIDE + pushes_small)
    assert each_once(run.seen, run.created) == once(run.created)


# -- 2. one changeset pushed twice at once -------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("point", ["before writes", "after writes"])
def test_one_changeset_pushed_twice_at_once_is_applied_once_and_answered_alike(
    hood, holds, pg_url, point
):
    start = hood.pull(ABOVE_ALL)["cursor"]
    changeset = a_new_task(title="twice")
    held = holds.hold("P", point)
    p = hood.push_on("P", *side_by_side(changeset))
    held.wait_reached("P")
    q = hood.push_on("Q", *side_by_side(changeset))
    if point == "before writes":
        # P has read and judged, taken its versions, written nothing: Q commits first.
        assert q.wait(), "Q could not commit while P was open" + hood.activity()
    else:
        # Q waits on P's uncommitted rows of the same ids, past its own claim.
        assert_waits_past_the_sequence(pg_url, holds, "Q")
    held.go.set()
    by_p, by_q = p.result().ok(), q.result().ok()

    assert all(r["status"] == "applied" for r in by_p["results"] + by_q["results"])
    applied = by_p if point == "after writes" else by_q
    assert_applied_once(hood, changeset, start, (by_p, by_q), applied)


@pytest.mark.postgres
@pytest.mark.parametrize("change", ["a create", "an update"])
def test_one_small_changeset_pushed_twice_at_once_is_applied_once_and_answered_alike(
    hood, holds, pg_url, change
):
    # A push of a few changes reads its changesets' recorded results in its
    # first statement, with its lock of the sequence (server.store.open_push).
    # Q waits there for P's commit and reads them as they were before: it
    # applies the changeset again (an update: judged against P's write), its
    # log row is a unique violation, and its rerun replays P's result.
    start = hood.pull(ABOVE_ALL)["cursor"]
    changeset = a_new_task(title="twice")
    if change == "an update":
        made = hood.push("maker", changeset).ok()
        base = made["results"][0]["changes"][0]["version"]
        changeset = a_changeset(update("task", created_id(changeset), base, notes="twice"))
    held = holds.hold("P", "after writes")
    p = hood.push_on("P", changeset)
    held.wait_reached("P")
    q = hood.push_on("Q", changeset)
    assert "sync_state" in waiting_statement(pg_url, holds.pid_of("Q"))
    held.go.set()
    by_p, by_q = p.result().ok(), q.result().ok()

    assert_applied_once(hood, changeset, start, (by_p, by_q), by_p)


def assert_applied_once(
    hood: Neighbourhood,
    changeset: dict[str, Any],
    start: int,
    answers: tuple[dict[str, Any], dict[str, Any]],
    applied: dict[str, Any],
) -> None:
    """Assert both pushes of ``changeset`` were answered alike, ``applied``'s write stored once."""
    first, second = answers
    assert first["results"][0] == second["results"][0]
    assert first["results"][0]["changes"][0]["status"] == "applied"
    assert hood.logged(changeset["id"]) == 1
    stored = hood.record(created_id(changeset))
    assert stored is not None
    assert stored["version"] == applied["results"][0]["changes"][0]["version"]
    records, _ = hood.pull_all(start)
    assert ids_of(records)[created_id(changeset)] == 1


# -- 3 and 4. two pushes writing one record ------------------------------------


def run_serially(
    app: Flask, steps: list[Callable[[Neighbourhood], Any]]
) -> tuple[Neighbourhood, list[Any]]:
    """Run ``steps`` one after the other on ``app``'s seeded demo (the reference); their values."""
    hood = Neighbourhood(app)
    return hood, [step(hood) for step in steps]


def results_without_versions(reply: dict[str, Any]) -> list[list[tuple[Any, ...]]]:
    """Return each changeset's changes' ``(status, lost_fields)``."""
    return [
        [(change["status"], change["lost_fields"]) for change in result["changes"]]
        for result in reply["results"]
    ]


#: (fields P sets, P's made_at), (fields Q sets, Q's made_at).
EDITS = {
    "different fields": (({"notes": "P"}, "10:00"), ({"priority": 1}, "10:05")),
    "one field, P later": (({"notes": "P"}, "11:00"), ({"notes": "Q"}, "10:30")),
    "one field, Q later": (({"notes": "P"}, "10:30"), ({"notes": "Q"}, "11:00")),
}


def edit(task_id: str, base: int, fields: dict[str, Any], at: str, cid: str) -> dict[str, Any]:
    made_at = f"2022-04-02T{at}:00.000Z"
    return a_changeset(update("task", task_id, base, **fields), made_at=made_at, changeset_id=cid)


@pytest.mark.postgres
@pytest.mark.parametrize("edits", list(EDITS))
def test_two_pushes_updating_one_record_at_once_lose_no_update(
    hood, holds, pg_url, sqlite_app, edits
):
    (p_fields, p_at), (q_fields, q_at) = EDITS[edits]
    task_id, p_id, q_id = (str(uuid.uuid4()) for _ in range(3))
    made = a_changeset(create("task", a_task(), record_id=task_id))
    fillers = {device: side_by_side(made)[1:] for device in ("P", "Q")}

    def pushes(base: int) -> dict[str, list[dict[str, Any]]]:
        return {
            "P": [edit(task_id, base, p_fields, p_at, p_id), *fillers["P"]],
            "Q": [edit(task_id, base, q_fields, q_at, q_id), *fillers["Q"]],
        }

    mine = pushes(hood.push("maker", made).ok()["cursor"])
    held = holds.hold("P", "after writes")
    p = hood.push_on("P", *mine["P"])
    held.wait_reached("P")
    q = hood.push_on("Q", *mine["Q"])
    # Serialised on the record (read FOR UPDATE), past its claim of versions.
    assert_waits_past_the_sequence(pg_url, holds, "Q")
    held.go.set()
    replies = {"P": p.result().ok(), "Q": q.result().ok()}

    serial: dict[str, Any] = {}

    def serially(h: Neighbourhood) -> None:
        theirs = pushes(h.push("maker", made).ok()["cursor"])
        serial.update({device: h.push(device, *theirs[device]).ok() for device in ("P", "Q")})

    reference, _ = run_serially(sqlite_app, [serially])
    assert hood.outcome_of(task_id) == reference.outcome_of(task_id)
    for device in ("P", "Q"):
        assert results_without_versions(replies[device]) == results_without_versions(
            serial[device]
        ), device
    stored = hood.outcome_of(task_id)
    if edits == "different fields":
        assert (p_fields | q_fields).items() <= stored["fields"].items(), "an update was lost"
    else:
        (conflict,) = stored["conflicts"].values()
        assert {conflict["kept_value"], conflict["lost_value"]} == {"P", "Q"}


@pytest.mark.postgres
@pytest.mark.parametrize("point", ["before writes", "after writes"])
def test_two_restocks_of_one_package_at_once_add_up(hood, holds, pg_url, point):
    # A restock names its package (read, not written, by the push's own
    # changes) and its rule writes the package's stock: no lost update.
    package = seed.stable_id("package", 0)
    stored = hood.record(package)
    assert stored is not None
    before = stored["fields"]["stock"]

    def restock(qty: int) -> dict[str, Any]:
        return a_changeset(create("restock", {"package_id": package, "qty": qty}))

    held = holds.hold("P", point)
    p = hood.push_on("P", *side_by_side(restock(3)))
    held.wait_reached("P")
    q = hood.push_on("Q", *side_by_side(restock(5)))
    assert_waits_past_the_sequence(pg_url, holds, "Q")
    held.go.set()
    replies = [p.result(WAIT_S * 2).ok(), q.result(WAIT_S * 2).ok()]

    assert [r["results"][0]["status"] for r in replies] == ["applied", "applied"]
    after = hood.record(package)
    assert after is not None and after["fields"]["stock"] == before + 3 + 5


@pytest.mark.postgres
@pytest.mark.parametrize("point", ["before writes", "after writes"])
def test_two_pushes_creating_one_id_at_once_judge_the_second_against_the_first(
    hood, holds, pg_url, sqlite_app, point
):
    task_id, p_id, q_id = (str(uuid.uuid4()) for _ in range(3))

    def creation(title: str, notes: str, at: str, cid: str) -> dict[str, Any]:
        made_at = f"2022-04-02T{at}:00.000Z"
        change = create("task", a_task(title=title, notes=notes), record_id=task_id)
        return a_changeset(change, made_at=made_at, changeset_id=cid)

    by_p = side_by_side(creation("P", "from P", "10:00", p_id))
    by_q = side_by_side(creation("Q", "from Q", "10:10", q_id))
    held = holds.hold("P", point)
    p = hood.push_on("P", *by_p)
    held.wait_reached("P")
    q = hood.push_on("Q", *by_q)
    if point == "before writes":
        assert q.wait(), "Q could not commit while P was open" + hood.activity()
        order = [("Q", by_q), ("P", by_p)]
    else:
        assert_waits_past_the_sequence(pg_url, holds, "Q")
        order = [("P", by_p), ("Q", by_q)]
    held.go.set()
    replies = {"P": p.result().ok(), "Q": q.result().ok()}

    reference, serial = run_serially(
        sqlite_app, [lambda h, d=d, c=c: h.push(d, *c).ok() for d, c in order]
    )
    answers = {device: reply for (device, _), reply in zip(order, serial, strict=True)}
    assert hood.outcome_of(task_id) == reference.outcome_of(task_id)
    for device in ("P", "Q"):
        assert results_without_versions(replies[device]) == results_without_versions(
            answers[device]
        ), device
    assert replies[order[0][0]]["results"][0]["changes"][0]["status"] == "applied"
    stored = hood.outcome_of(task_id)
    assert stored["conflicts"], "the second creation overwrote the first silently"


# -- 5. a push that fails after taking versions --------------------------------


def kill_backend(pg_url: str, pid: int) -> None:
    connection = psycopg2.connect(pg_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
            assert cursor.fetchone() == (True,)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.parametrize("ending", ["raises", "connection killed"])
def test_a_push_that_fails_after_taking_versions_holds_no_pull_back(hood, holds, pg_url, ending):
    start = hood.pull(ABOVE_ALL)["cursor"]
    doomed = side_by_side(a_new_task("A", title="P"), compound="A")
    other = side_by_side(a_new_task("B", title="Q"), compound="B")
    fail = RuntimeError("the push fails after its writes") if ending == "raises" else None
    held = holds.hold("P", "after writes", fail=fail)
    p = hood.push_on("P", *doomed)
    held.wait_reached("P")
    q = hood.push_on("Q", *other)
    assert q.wait(), "Q could not commit while P was open" + hood.activity()
    q_versions = versions_in(q.result().ok())
    if ending == "connection killed":
        assert held.pid is not None
        kill_backend(pg_url, held.pid)
    held.go.set()
    assert p.wait(), "P did not end"
    assert p.error is not None or p.value.status != 200, p.value

    records, cursor = hood.pull_all(start)
    assert cursor == hood.high_water(), "a pull is held back below the high water"
    assert cursor >= max(q_versions)
    seen = ids_of(records)
    assert each_once(seen, created_ids(other)) == once(created_ids(other))
    assert not seen.keys() & set(created_ids(doomed))
    assert all(hood.record(rid) is None for rid in created_ids(doomed))
    pushed_after = side_by_side(a_new_task("C", title="R"), compound="C")
    after = max(versions_in(hood.push("R", *pushed_after).ok()))
    assert hood.pull(cursor)["cursor"] == after == hood.high_water()


# -- 6. a purge during a push ---------------------------------------------------


def purge_on(app: Flask) -> Call:
    """Purge everything made before tomorrow, on a thread named ``purge``."""
    tomorrow = (utcnow() + timedelta(days=1)).date()

    def purge() -> Any:
        with app.app_context():
            return purge_personal_data(tomorrow)

    return Call("purge", purge)


#: How long a purge is held open while a push waits for it: longer than a
#: push's wait for the sequence's row before it is run again (2 s on ``pgpar``).
PURGE_OPEN_S = 3.0


@pytest.mark.postgres
@pytest.mark.parametrize("held_one", ["push", "purge"])
def test_a_purge_during_a_push_both_complete_and_lose_nothing(hood, holds, held_one):
    start = hood.pull(ABOVE_ALL)["cursor"]
    task = a_new_task(title="during the purge", notes="made while purging")
    pushed = side_by_side(task)
    if held_one == "push":
        held = holds.hold("P", "after writes")
        pushing = hood.push_on("P", *pushed)
        held.wait_reached("P")
        purging = purge_on(hood.app)
        assert purging.wait(), (
            "the purge could not complete while the push was open" + hood.activity()
        )
    else:
        # The purge may hold the sequence: the push must wait for it, not fail.
        held = holds.hold("purge", "after writes")
        purging = purge_on(hood.app)
        held.wait_reached("the purge")
        pushing = hood.push_on("P", *pushed)
        pushing.wait(PURGE_OPEN_S)
    held.go.set()
    counts = purging.result()
    reply = pushing.result(WAIT_S * 3).ok()

    assert counts["resident"] > 0, counts
    stored = hood.record(created_id(task))
    assert stored is not None and stored["version"] == reply["results"][0]["changes"][0]["version"]
    # Made while the purge ran, unseen by it or after it: kept whole.
    assert stored["fields"]["notes"] == "made while purging"
    records, _ = hood.pull_all(start)
    assert each_once(ids_of(records), created_ids(pushed)) == once(created_ids(pushed))
    purged = [r for r in records if r["type"] == "resident"]
    assert len(purged) == counts["resident"]
    assert all(r["fields"]["phone"] in (None, "—") for r in purged)


# -- 7. a live event's prev -----------------------------------------------------


def assert_each_span_is_its_own(announcements: list[Announced]) -> None:
    """Assert every version in each announcement's ``(prev, cursor]`` is of its own push."""
    assert announcements
    for one in announcements:
        assert one.prev < one.cursor, one
        for other in announcements:
            if other is one:
                continue
            inside = sorted(v for v in other.versions if one.prev < v <= one.cursor)
            assert not inside, (
                f"{one.thread}'s event spans ({one.prev}, {one.cursor}],"
                f" holding {other.thread}'s versions {inside}"
            )


@pytest.mark.postgres
def test_a_live_events_prev_leaves_out_a_push_committed_inside_its_versions(
    hood, holds, announced
):
    held = holds.hold("P", "after writes")
    p = hood.push_on("P", *side_by_side(a_new_task("A"), a_new_task("A"), compound="A"))
    held.wait_reached("P")
    q = hood.push_on("Q", *side_by_side(a_new_task("B"), compound="B"))
    assert q.wait(), "Q could not commit while P was open" + hood.activity()
    held.go.set()
    p.result().ok()
    q.result().ok()
    assert {a.thread for a in announced} == {"P", "Q"}
    assert_each_span_is_its_own(announced)


@pytest.mark.postgres
def test_a_live_events_prev_starts_at_the_pushs_last_block_of_versions(hood, holds, announced):
    # P's first change writes the record and loses a field to an earlier
    # edit: with its conflict record P needs one version more than it has
    # changes, taken after Q took and committed its own.
    task_id = str(uuid.uuid4())
    base = hood.push("maker", a_changeset(create("task", a_task(), record_id=task_id))).ok()
    first_edit = edit(task_id, base["cursor"], {"notes": "first"}, "11:00", str(uuid.uuid4()))
    hood.push("maker", first_edit).ok()
    fields = {"notes": "late", "priority": 1}  # loses the notes, sets the priority
    late = side_by_side(edit(task_id, base["cursor"], fields, "10:00", str(uuid.uuid4())))
    held = holds.hold("P", f"version {SIDE_BY_SIDE + 1}")
    p = hood.push_on("P", *late)
    held.wait_reached("P")
    q = hood.push_on("Q", *side_by_side(a_new_task("B"), compound="B"))
    assert q.wait(), "Q could not commit while P was open" + hood.activity()
    held.go.set()
    p_reply = p.result().ok()
    q.result().ok()
    assert p_reply["results"][0]["changes"][0]["status"] == "merged"
    mine = [a for a in announced if a.thread in {"P", "Q"}]
    assert {a.thread for a in mine} == {"P", "Q"}
    assert_each_span_is_its_own(mine)


@pytest.mark.postgres
@pytest.mark.parametrize("small_too", [False, True])
def test_every_live_events_span_among_pushes_open_side_by_side_is_its_own(
    hood, holds, announced, small_too
):
    run = push_side_by_side(hood, holds, seed=5, small_too=small_too)
    assert run.most_open == PUSHERS, f"at most {run.most_open} pushes were ever open at once"
    assert not run.failed, run.failed[:3]
    assert len(announced) == PUSHERS * PUSHES_EACH
    assert_each_span_is_its_own(announced)


# -- 8. SQLite: one push at a time ----------------------------------------------


def test_on_sqlite_a_second_push_still_waits_for_the_first_and_versions_stay_contiguous(
    sqlite_app, holds, announced
):
    hood = Neighbourhood(sqlite_app)
    start = hood.high_water()
    held = holds.hold("P", "after writes")
    p = hood.push_on("P", *side_by_side(a_new_task(title="P"), a_new_task(title="P")))
    held.wait_reached("P")
    q = hood.push_on("Q", *side_by_side(a_new_task(title="Q")))
    assert not q.wait(STILL_WAITING_S), "Q committed while P was open on SQLite"
    held.go.set()
    p_reply, q_reply = p.result().ok(), q.result().ok()

    taken = max(SIDE_BY_SIDE, 2)
    assert sorted(versions_in(p_reply)) == list(range(start + 1, start + taken + 1))
    assert sorted(versions_in(q_reply)) == list(
        range(start + taken + 1, start + taken + SIDE_BY_SIDE + 1)
    )
    assert hood.high_water() == start + taken + SIDE_BY_SIDE
    by_thread = {a.thread: a for a in announced}
    assert (by_thread["P"].prev, by_thread["Q"].prev) == (start, start + taken)
    with sqlite_app.app_context():
        versions = db.session.scalars(
            select(RecordRow.version).where(RecordRow.version > start).order_by(RecordRow.version)
        ).all()
        db.session.rollback()
    assert versions == list(range(start + 1, hood.high_water() + 1))


# -- pushes of both kinds, and pushes that wait on the sequence -----------------


@pytest.mark.postgres
def test_a_push_of_a_few_changes_and_a_large_one_on_one_record_both_complete(hood, holds):
    # A push of a few changes holds the sequence to its commit (on ``pgpar``)
    # and waits for the large push's lock of the record; the large push then
    # needs another block of versions, behind the small one's hold of the
    # sequence. Neither may wait for ever, nor fail.
    task_id = str(uuid.uuid4())
    base = hood.push("maker", a_changeset(create("task", a_task(), record_id=task_id))).ok()
    first_edit = edit(task_id, base["cursor"], {"notes": "first"}, "11:00", str(uuid.uuid4()))
    hood.push("maker", first_edit).ok()
    fields = {"notes": "late", "priority": 1}  # loses the notes: one version more
    large = side_by_side(edit(task_id, base["cursor"], fields, "10:00", str(uuid.uuid4())))
    small = edit(task_id, base["cursor"], {"title": "small"}, "10:30", str(uuid.uuid4()))
    held = holds.hold("P", f"version {SIDE_BY_SIDE + 1}")
    p = hood.push_on("P", *large)
    held.wait_reached("P")
    s = hood.push_on("Q", small)
    assert not s.wait(0.5), "the small push did not wait for the record the large one holds"
    held.go.set()
    by_p, by_s = p.result(WAIT_S * 2).ok(), s.result(WAIT_S * 2).ok()

    assert by_p["results"][0]["changes"][0]["lost_fields"] == ["notes"]
    assert by_s["results"][0]["changes"][0]["status"] == "applied"
    stored = hood.outcome_of(task_id)
    assert {"notes": "first", "priority": 1, "title": "small"}.items() <= stored["fields"].items()
    assert [c["lost_value"] for c in stored["conflicts"].values()] == ["late"]


@pytest.mark.postgres
def test_a_push_that_runs_out_of_reruns_behind_the_sequence_is_retryable(hood, holds, monkeypatch):
    # A push kept waiting for the sequence's row (a purge holds it) and run
    # again until it gives up must be answered as a busy database (503 and
    # Retry-After, nothing written), as SQLite's writer lock is, not 500;
    # or wait and succeed. The waits and runs are made short (``pgpar``'s).
    monkeypatch.setattr(database, "ALLOCATOR_LOCK_TIMEOUT_MS", 200, raising=False)
    monkeypatch.setattr(sql_store, "RUNS", 2, raising=False)
    held = holds.hold("purge", "after writes")
    purging = purge_on(hood.app)
    held.wait_reached("the purge")
    pushed = side_by_side(a_new_task("A"))
    pushing = hood.push_on("P", *pushed)
    pushing.wait(PURGE_OPEN_S)
    held.go.set()
    purging.result()
    reply = pushing.result(WAIT_S * 3)

    assert reply.status in (200, 503), (reply.status, reply.body)
    if reply.status == 503:
        assert reply.body["type"].endswith("/database-busy"), reply.body
        assert all(hood.record(rid) is None for rid in created_ids(pushed))
