"""Devices syncing through a patchy network: nothing accepted is lost or applied twice.

Simulated devices (threads, one ``weiguang serve`` process) queue
changesets offline and push and pull through :class:`tests.faults.FaultyProxy`
for a bounded time: latency, a weak-3G cap, cuts in the middle of requests
and responses, resets, stalls and a flapping link. Each keeps its outbox
until a push answers for a changeset, retrying with the same changeset ids,
as the PWA does. Then the link heals, every device drains its outbox and
pulls, and:

- every changeset a device made has exactly one recorded result on the
  server, the same one the device holds (a retry after a lost response was
  answered from the record, not applied again);
- every visit created in an accepted changeset is on the server, once;
- every device's copy of what it sees equals the server's.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy

from server import seed
from server.config import normalise_database_url
from tests import reliability
from tests.faults import FaultyProxy
from tests.helpers import DEMO_PASSWORD
from tests.servers import ServedApp

#: Seconds of faults (CI bounds it; WEIGUANG_FAULT_SECONDS runs longer locally).
FAULT_SECONDS = float(os.environ.get("WEIGUANG_FAULT_SECONDS", "25"))
DEVICES = (("vol-a", 2), ("coord", 2), ("vol-b", 1))
REQUEST_TIMEOUT_S = 4.0
BATCH = 10
COMPOUNDS = {"vol-a": "A", "vol-b": "B", "coord": "A"}


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
        """Queue one changeset made offline: a visit, or a note on a task."""
        change: dict[str, Any]
        if self.username != "coord" or self.rng.random() < 0.5:
            visit = str(uuid.uuid4())
            self.visits.add(visit)
            fields = {
                "household_id": self.rng.choice(households),
                "outcome": self.rng.choice(["answered", "no_answer"]),
                "present": self.rng.randint(0, 4),
                "needs": [],
                "notes": f"{self.username} {visit[:8]}",
            }
            change = {"type": "visit", "id": visit, "op": "create", "fields": fields}
        else:
            task = self.rng.choice(tasks)
            base = self.records.get(task, {}).get("version", 0)
            note = f"{self.username} {uuid.uuid4().hex[:8]}"
            change = {"type": "task", "id": task, "op": "update", "base_version": base}
            change["fields"] = {"notes": note}
        made_at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        self.outbox.append({"id": str(uuid.uuid4()), "made_at": made_at, "changes": [change]})

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
    body = json.dumps({"username": username, "password": DEMO_PASSWORD, "device_name": "patchy"})
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


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_devices_on_a_patchy_network_lose_nothing_and_apply_nothing_twice(
    database: str, request: pytest.FixtureRequest
) -> None:
    database_url = str(request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url"))
    server = ServedApp(database_url).start()
    try:
        run_devices_through_faults(server, database_url, database, seed=len(database))
    finally:
        server.stop()


def run_devices_through_faults(
    server: ServedApp, database_url: str, database: str, seed: int
) -> None:
    """Sync the devices through the faulty proxy, heal it, and check the outcome."""
    with FaultyProxy(server.port, seed=seed) as proxy:
        devices = [
            Device(name, server.port, sign_in(server.port, name), random.Random(seed * 31 + n))
            for n, (name, copies) in enumerate(DEVICES)
            for _ in range(copies)
        ]
        for device in devices:  # synced once on a good link, then out into the stairwell
            device.pull()
            device.port = proxy.port
        places = {
            letter: (
                records_of_type(database_url, "household", letter)[:40],
                records_of_type(database_url, "task", letter)[:5],
            )
            for letter in ("A", "B")
        }
        stop = time.monotonic() + FAULT_SECONDS
        threads = [
            threading.Thread(target=device_loop, args=(device, places, stop)) for device in devices
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        proxy.faulty = False
        for device in devices:  # the link heals: every outbox drains ...
            for _ in range(50):
                device.sync_once()
                if not device.outbox:
                    break
        for device in devices:  # ... then every device catches up
            device.pull()
    row = reliability.record(reliability.Row("patchy network", database, faults=proxy.fates))
    assert sum(proxy.fates.values()) > 0 and sum(d.failures for d in devices) > 0, proxy.fates
    check_nothing_lost_or_doubled(database_url, server.port, devices, row)


def device_loop(
    device: Device, places: dict[str, tuple[list[str], list[str]]], stop: float
) -> None:
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
