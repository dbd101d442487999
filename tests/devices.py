"""Simulated devices for the fault tests: an outbox, retries, a cursor, and the final check.

A :class:`Device` is one install as the PWA behaves: it queues changesets
made offline (visits, notes on tasks; several changes in some, so a half-
applied changeset would show), pushes the head of its outbox and keeps each
changeset until a push answers for it, retrying with the same ids, and
pulls from its cursor. :func:`check_nothing_lost_or_doubled` holds the
contract's promise over what a set of devices made, and records the counts
in the reliability ledger before asserting them.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy

from server import seed
from server.config import normalise_database_url
from tests import reliability
from tests.helpers import DEMO_PASSWORD

REQUEST_TIMEOUT_S = 4.0
BATCH = 10
#: The devices: (demo user, installs). Two installs of one user conflict like two users.
DEVICES = (("vol-a", 2), ("coord", 2), ("vol-b", 1))
#: Which compound each demo user works in.
COMPOUNDS = {"vol-a": "A", "vol-b": "B", "coord": "A"}
#: Compound letter → (households, tasks) the devices work on.
Places = dict[str, tuple[list[str], list[str]]]


@dataclass
class Device:
    """One install: its outbox, what it was told, and its copy of its records."""

    username: str
    port: int
    token: str
    rng: random.Random
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    outbox: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    visits: set[str] = field(default_factory=set)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    cursor: int = 0
    failures: int = 0

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request on a fresh connection; raise on anything but 200."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
            data = None if body is None else json.dumps(body)
            connection.request(method, path, body=data, headers=headers)
            reply = connection.getresponse()
            raw = reply.read()
            if reply.status != 200:
                raise OSError(f"{method} {path} answered {reply.status}: {raw[:200]!r}")
            return json.loads(raw)
        finally:
            connection.close()

    def make_changeset(self, households: list[str], tasks: list[str]) -> None:
        """Queue one changeset made offline: one to three visits, and for a coordinator
        sometimes a note on a task (several changes, so half of one would show)."""
        changes: list[dict[str, Any]] = []
        for _ in range(self.rng.randint(1, 3)):
            visit = str(uuid.uuid4())
            self.visits.add(visit)
            fields = {
                "household_id": self.rng.choice(households),
                "outcome": self.rng.choice(["answered", "no_answer"]),
                "present": self.rng.randint(0, 4),
                "needs": [],
                "notes": f"{self.username} {visit[:8]}",
            }
            changes.append({"type": "visit", "id": visit, "op": "create", "fields": fields})
        if self.username == "coord" and self.rng.random() < 0.5:
            task = self.rng.choice(tasks)
            base = self.records.get(task, {}).get("version", 0)
            note = f"{self.username} {uuid.uuid4().hex[:8]}"
            changes.append(
                {
                    "type": "task",
                    "id": task,
                    "op": "update",
                    "base_version": base,
                    "fields": {"notes": note},
                }
            )
        made_at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        self.outbox.append({"id": str(uuid.uuid4()), "made_at": made_at, "changes": changes})

    def push(self) -> None:
        """Push the head of the outbox; drop what the server answered for."""
        if not self.outbox:
            return
        batch = self.outbox[:BATCH]
        reply = self.call(
            "POST", "/api/v1/sync/push", {"client_id": self.client_id, "changesets": batch}
        )
        for result in reply["results"]:
            self.results[result["id"]] = result
        answered = {result["id"] for result in reply["results"]}
        self.outbox = [cs for cs in self.outbox if cs["id"] not in answered]

    def pull(self) -> None:
        """Pull from the cursor until nothing more."""
        while True:
            page = self.call("GET", f"/api/v1/sync/pull?cursor={self.cursor}&limit=200")
            for record in page["changes"]:
                self.records[record["id"]] = record
            self.cursor = page["cursor"]
            if not page["more"]:
                return

    def sync_once(self) -> None:
        """One round of the sync loop; a network fault only costs a retry."""
        try:
            self.push()
            self.pull()
        except (OSError, ValueError, http.client.HTTPException):
            self.failures += 1


def sign_in(port: int, username: str) -> str:
    """Sign in directly (not through the proxy)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": username, "password": DEMO_PASSWORD, "device_name": "sim"})
    connection.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
    reply = json.loads(connection.getresponse().read())
    connection.close()
    return str(reply["token"])


def records_of_type(database_url: str, type_name: str, compound: str) -> list[str]:
    """Return the ids of live records of one type in a compound (straight from SQL)."""
    engine = sqlalchemy.create_engine(normalise_database_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(
            sqlalchemy.text(
                "SELECT r.id FROM record r JOIN record_scope s ON s.record_id = r.id"
                " WHERE r.type = :type AND s.compound_id = :compound AND NOT r.deleted"
            ),
            {"type": type_name, "compound": seed.stable_id("compound", compound)},
        ).all()
    engine.dispose()
    return [row[0] for row in rows]


def logged_results(database_url: str, ids: list[str]) -> dict[str, Any]:
    """Return the recorded result of each changeset id, from the changeset log."""
    engine = sqlalchemy.create_engine(normalise_database_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(
            sqlalchemy.text("SELECT id, result FROM changeset_log WHERE id IN :ids").bindparams(
                sqlalchemy.bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).all()
    engine.dispose()
    found: dict[str, Any] = {}
    for changeset_id, result in rows:
        assert changeset_id not in found, f"changeset {changeset_id} recorded twice"
        found[changeset_id] = json.loads(result) if isinstance(result, str) else result
    return found


def sign_in_devices(
    port: int, database_url: str, seed: int, who: tuple[tuple[str, int], ...] = DEVICES
) -> tuple[list[Device], Places]:
    """Sign in and fully sync the devices on a good link; return them and where they work."""
    devices = [
        Device(name, port, sign_in(port, name), random.Random(seed * 31 + n))
        for n, (name, copies) in enumerate(who)
        for _ in range(copies)
    ]
    for device in devices:
        device.pull()
    places = {
        letter: (
            records_of_type(database_url, "household", letter)[:40],
            records_of_type(database_url, "task", letter)[:5],
        )
        for letter in ("A", "B")
    }
    return devices, places


def run_devices(devices: list[Device], places: Places, seconds: float) -> None:
    """Let every device work (make changesets, sync now and then) for ``seconds``."""
    stop = time.monotonic() + seconds
    threads = [threading.Thread(target=device_loop, args=(d, places, stop)) for d in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def drain_and_catch_up(devices: list[Device]) -> None:
    """On a good link again: every outbox drains, then every device catches up."""
    for device in devices:
        for _ in range(50):
            device.sync_once()
            if not device.outbox:
                break
    for device in devices:
        device.pull()


def device_loop(device: Device, places: Places, stop: float) -> None:
    """Make changesets offline and sync now and then, until ``stop``."""
    households, tasks = places[COMPOUNDS[device.username]]
    while time.monotonic() < stop:
        for _ in range(device.rng.randint(1, 3)):
            device.make_changeset(households, tasks)
        device.sync_once()
        time.sleep(device.rng.uniform(0.05, 0.4))


def check_nothing_lost_or_doubled(
    database_url: str, port: int, devices: list[Device], row: reliability.Row
) -> None:
    """Count what was lost, doubled, half-applied or diverged; record it; assert zeros."""
    made = {cs_id: device for device in devices for cs_id in device.results}
    row.changesets = len(made) + sum(len(device.outbox) for device in devices)
    logged = logged_results(database_url, list(made))
    row.lost = len(set(made) - set(logged)) + sum(len(device.outbox) for device in devices)
    row.duplicated = sum(
        1
        for cs_id, device in made.items()
        if cs_id in logged and versions(logged[cs_id]) != versions(device.results[cs_id])
    )
    accepted = {
        change["id"]
        for device in devices
        for result in device.results.values()
        if result["status"] == "applied"
        for change in result["changes"]
        if change["type"] == "visit"
    }
    on_server = set(records_of_type(database_url, "visit", "A"))
    on_server |= set(records_of_type(database_url, "visit", "B"))
    refused_but_stored = (on_server & set().union(*(d.visits for d in devices))) - accepted
    row.half_applied = len(accepted - on_server) + len(refused_but_stored)
    differences = {device.username: diverged(device, port) for device in devices}
    row.diverged = sum(1 for differ in differences.values() if differ)
    assert (row.lost, row.duplicated, row.half_applied) == (0, 0, 0), row
    assert not row.diverged, differences


def versions(result: dict[str, Any]) -> list[Any]:
    """Return what a changeset's result says each change wrote."""
    return [result["status"], *(change.get("version") for change in result["changes"])]


def diverged(device: Device, port: int) -> dict[str, Any]:
    """Return where ``device``'s copy differs from a fresh pull of the server's."""
    server_view = Device(device.username, port, device.token, random.Random(0))
    server_view.pull()
    return {
        key: (_brief(device.records.get(key)), _brief(server_view.records.get(key)))
        for key in device.records.keys() | server_view.records.keys()
        if device.records.get(key) != server_view.records.get(key)
    }


def _brief(record: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """Return a record's type, version and deletion for a failure message."""
    return None if record is None else (record["type"], record["version"], record["deleted"])
