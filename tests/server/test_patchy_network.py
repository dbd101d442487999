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

import os

import pytest

from tests import reliability
from tests.devices import (
    check_nothing_lost_or_doubled,
    drain_and_catch_up,
    run_devices,
    sign_in_devices,
)
from tests.faults import FaultyProxy
from tests.servers import ServedApp

#: Seconds of faults (CI bounds it; WEIGUANG_FAULT_SECONDS runs longer locally).
FAULT_SECONDS = float(os.environ.get("WEIGUANG_FAULT_SECONDS", "25"))


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_devices_on_a_patchy_network_lose_nothing_and_apply_nothing_twice(
    database: str, request: pytest.FixtureRequest
) -> None:
    database_url = str(request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url"))
    server = ServedApp(database_url).start()
    try:
        with FaultyProxy(server.port, seed=len(database)) as proxy:
            devices, places = sign_in_devices(server.port, database_url, seed=len(database))
            for device in devices:  # synced on a good link, then out into the stairwell
                device.port = proxy.port
            run_devices(devices, places, FAULT_SECONDS)
            proxy.faulty = False
            drain_and_catch_up(devices)
        row = reliability.record(reliability.Row("patchy network", database, proxy.fates))
        assert sum(proxy.fates.values()) and sum(d.failures for d in devices), proxy.fates
        check_nothing_lost_or_doubled(database_url, server.port, devices, row)
    finally:
        server.stop()
