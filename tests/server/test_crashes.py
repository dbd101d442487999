"""The server killed (SIGKILL) at random points while devices push: nothing lost or doubled.

Simulated devices (:mod:`tests.devices`) push changesets of one to three
changes and pull, straight to one ``weiguang serve`` process, while a
killer sends it SIGKILL at random moments (mid-request, mid-commit, between
requests: whatever the moment holds) and starts it again on the same
database and port. The devices retry with the same changeset ids, as the
PWA does. At the end every changeset has one recorded result equal to what
its device was told, every change of an accepted changeset is stored and
none of a refused one, and every device agrees with the server.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter

import pytest

from tests import reliability
from tests.devices import (
    check_nothing_lost_or_doubled,
    drain_and_catch_up,
    run_devices,
    sign_in_devices,
)
from tests.servers import ServedApp

#: Seconds of killing (CI bounds it; WEIGUANG_FAULT_SECONDS runs longer locally).
CRASH_SECONDS = float(os.environ.get("WEIGUANG_FAULT_SECONDS", "25"))
#: Time between a restart and the next kill, seconds.
KILL_EVERY_S = (0.3, 2.5)


def keep_killing(server: ServedApp, stop: float, rng: random.Random, kills: Counter[str]) -> None:
    """SIGKILL the server at random moments and start it again, until ``stop``."""
    while time.monotonic() < stop:
        time.sleep(rng.uniform(*KILL_EVERY_S))
        server.kill()
        kills["SIGKILL"] += 1
        server.start()


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_server_killed_mid_push_loses_doubles_and_halves_nothing(
    database: str, request: pytest.FixtureRequest
) -> None:
    database_url = str(request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url"))
    server = ServedApp(database_url).start()
    kills: Counter[str] = Counter()
    try:
        devices, places = sign_in_devices(server.port, database_url, seed=len(database) + 7)
        stop = time.monotonic() + CRASH_SECONDS
        killer = threading.Thread(
            target=keep_killing, args=(server, stop, random.Random(len(database)), kills)
        )
        killer.start()
        run_devices(devices, places, CRASH_SECONDS)
        killer.join()
        drain_and_catch_up(devices)
        row = reliability.record(reliability.Row("server killed mid-push", database, kills))
        assert kills["SIGKILL"] and sum(d.failures for d in devices), kills
        check_nothing_lost_or_doubled(database_url, server.port, devices, row)
    finally:
        server.stop()
