"""Simulated devices that edit offline, push, lose responses and pull.

A :class:`Device` speaks the wire contract only (dicts in, dicts out) to a
``server`` object with two methods::

    push(actor, body, received_at) -> dict   # the push response body
    pull(actor, cursor, limit) -> dict       # the pull response body

:class:`EngineServer` is that server over any :class:`sync.store.Store`; the
SQL store's tests can pass their own (one transaction per call). The device
keeps what it pulled (``known``), an outbox of changesets and every result
it got, and records what it sent so a test can check that nothing was lost
or applied twice.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sync import Actor, Store, apply_push, changes_since, push_from_wire
from sync.times import format_datetime

Json = dict[str, Any]


class Server(Protocol):
    """What a device talks to."""

    def push(self, actor: Actor, body: Json, received_at: datetime) -> Json: ...

    def pull(self, actor: Actor, cursor: int, limit: int) -> Json: ...


@dataclass
class EngineServer:
    """The sync engine over ``store``; ``transaction`` wraps each call (SQL: commit)."""

    store: Store
    transaction: Callable[[], AbstractContextManager[Any]] = nullcontext

    def push(self, actor: Actor, body: Json, received_at: datetime) -> Json:
        """Apply a push body and return the response body."""
        with self.transaction():
            outcome = apply_push(self.store, actor, push_from_wire(body), received_at)
        return outcome.to_wire()

    def pull(self, actor: Actor, cursor: int, limit: int) -> Json:
        """Return a pull response body."""
        with self.transaction():
            return changes_since(self.store, actor, cursor, limit).to_wire()


@dataclass
class Sent:
    """One field edit a device sent, and what became of it.

    ``by`` is the user, ``device`` the install (the push's ``client_id``).
    """

    changeset_id: str
    record_id: str
    field: str
    value: object
    base_version: int
    by: int
    device: str
    status: str = "unknown"
    version: int | None = None


@dataclass
class Device:
    """One install of the app, used by ``actor``, with a clock ``skew`` off.

    ``name`` is its install id, sent as every push's ``client_id``; several
    devices may share one actor (a coordinator's phone and laptop).
    """

    name: str
    actor: Actor
    skew: timedelta = timedelta()
    known: dict[str, Json] = field(default_factory=dict)
    cursor: int = 0
    outbox: list[Json] = field(default_factory=list)
    results: dict[str, Json] = field(default_factory=dict)
    sent: dict[str, Json] = field(default_factory=dict)
    local: dict[str, Json] = field(default_factory=dict)
    done_seen: set[str] = field(default_factory=set)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def unique(self) -> str:
        """Return a value no other edit anywhere uses."""
        return f"{self.name}-{next(self._ids)}"

    def new_id(self) -> str:
        """Return a fresh record id made on this device."""
        import uuid

        return str(uuid.uuid4())

    def fields_of(self, record_id: str) -> Json:
        """Return the device's idea of a record's fields."""
        if record_id in self.known:
            return dict(self.known[record_id]["fields"])
        return dict(self.local.get(record_id, {}))

    def base_of(self, record_id: str) -> int:
        """Return the version the device last saw of a record (0 if none)."""
        known = self.known.get(record_id)
        return int(known["version"]) if known else 0

    def records(self, type_: str) -> list[str]:
        """Return the ids of live records of ``type_`` the device can act on."""
        seen = [
            rid for rid, env in self.known.items() if env["type"] == type_ and not env["deleted"]
        ]
        return sorted(set(seen) | {rid for rid, f in self.local.items() if f["_type"] == type_})

    def change(self, clock: datetime, *changes: Json) -> None:
        """Queue a changeset of ``changes`` made now on this device's clock."""
        changeset = {
            "id": self.new_id(),
            "made_at": format_datetime(clock + self.skew),
            "changes": list(changes),
        }
        self.outbox.append(changeset)
        self.sent[changeset["id"]] = changeset

    def create(self, clock: datetime, type_: str, fields: Json) -> str:
        """Queue a create; the device may edit the record before it syncs."""
        record_id = self.new_id()
        self.local[record_id] = {**fields, "_type": type_}
        self.change(clock, {"type": type_, "id": record_id, "op": "create", "fields": fields})
        return record_id

    def update(self, clock: datetime, type_: str, record_id: str, fields: Json) -> None:
        """Queue an update made on top of what the device last saw."""
        base = self.base_of(record_id)
        change = {"type": type_, "id": record_id, "op": "update", "base_version": base}
        self.change(clock, {**change, "fields": fields})

    def delete(self, clock: datetime, type_: str, record_id: str) -> None:
        """Queue a delete."""
        base = self.base_of(record_id)
        self.change(clock, {"type": type_, "id": record_id, "op": "delete", "base_version": base})

    def push(
        self,
        server: Server,
        received_at: datetime,
        count: int | None = None,
        lose_response: bool = False,
        duplicate: bool = False,
    ) -> None:
        """Push the first ``count`` changesets of the outbox.

        With ``lose_response`` the server applies them but the device never
        hears back (it will retry); with ``duplicate`` the same body is sent
        twice, as a retry while the first is in flight would.
        """
        batch = self.outbox[:count] if count is not None else list(self.outbox)
        if not batch:
            return
        body = {"client_id": self.name, "changesets": batch}
        response = server.push(self.actor, body, received_at)
        if duplicate:
            again = server.push(self.actor, body, received_at)
            assert again["results"] == response["results"], "a retried push changed its answer"
            assert again["cursor"] is None, "a retried push wrote something"
        if lose_response:
            return
        for result in response["results"]:
            self._take_result(result)

    def _take_result(self, result: Json) -> None:
        """Keep a changeset's result; a replayed result must equal the first."""
        changeset_id = result["id"]
        first = self.results.setdefault(changeset_id, result)
        assert first == result, "a changeset's recorded result changed"
        self.outbox = [cs for cs in self.outbox if cs["id"] != changeset_id]
        for change in self.sent[changeset_id]["changes"]:
            if change["op"] == "create":
                self.local.pop(change["id"], None)

    def pull(self, server: Server, limit: int) -> None:
        """Pull pages of ``limit`` until the server says there is no more."""
        while True:
            page = server.pull(self.actor, self.cursor, limit)
            assert page["cursor"] >= self.cursor, "the pull cursor went back"
            for envelope in page["changes"]:
                self.known[envelope["id"]] = envelope
                if envelope["fields"].get("status") == "done":
                    self.done_seen.add(envelope["id"])
            self.cursor = page["cursor"]
            if not page["more"]:
                return

    def visible(self) -> dict[str, Json]:
        """Return the live records the device holds."""
        return {rid: env for rid, env in self.known.items() if not env["deleted"]}

    def field_edits(self, tracked: frozenset[str]) -> list[Sent]:
        """Return every tracked field edit the device sent, with its outcome."""
        out = []
        for changeset_id, changeset in self.sent.items():
            result = self.results.get(changeset_id)
            for index, change in enumerate(changeset["changes"]):
                outcome = result["changes"][index] if result else None
                for name in tracked & change.get("fields", {}).keys():
                    sent = Sent(
                        changeset_id,
                        change["id"],
                        name,
                        change["fields"][name],
                        change.get("base_version") or 0,
                        self.actor.user_id,
                        self.name,
                    )
                    if outcome is not None:
                        lost = name in outcome["lost_fields"]
                        sent.status = "lost" if lost else outcome["status"]
                        sent.version = outcome["version"]
                    out.append(sent)
        return out
