"""Live: latency from a push to the ``changes`` event at 200 connected sockets.

``vol-a`` signs in once per socket (each sign-in makes its own token) and
200 python-socketio ``AsyncClient``s (aiohttp, websocket transport) share
one event loop. A round takes t0 just before ``coord`` sends a push of one
small changeset (a task created in compound A) and t1 as each socket gets
its first ``changes`` event after t0; rounds run one at a time. The floor
round posts the same-sized payload to ``POST /bench/floor/emit`` for the
room a real announce reaches, with the same t0/t1. The ceiling round posts
a one-row push of the same task to ``bench/ceiling_server.py``, whose push
emits the thinnest announcement to every socket connected to it (200 more,
the same event loop). Rounds alternate real, floor and ceiling so that noise
on the shared machine falls on all alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from bench import ceiling, client, harness, servers
from bench.harness import Figure
from bench.ids import new_client_id, new_id
from bench.push import Workload, changeset

FULL_SOCKETS = 200
QUICK_SOCKETS = 200
FULL_ROUNDS = 30
QUICK_ROUNDS = 4
CONNECT_CONCURRENCY = 20
ROUND_TIMEOUT_S = 5.0
SETTLE_S = 0.2  # quiet time between rounds, so one round's stragglers miss the next
P95_TARGET = 3.0


@dataclass
class Listener:
    """One socket and the receipt time of the current round's event."""

    sio: Any
    received: float | None = None
    payload: dict[str, Any] | None = None


@dataclass
class Round:
    """The current round: when it started and who has heard of it."""

    t0: float = 0.0
    heard: asyncio.Event = field(default_factory=asyncio.Event)
    pending: int = 0


async def connect_all(base_url: str, tokens: list[str], state: Round) -> list[Listener]:
    """Connect one socket per token, a few at a time; return those that connected."""
    import socketio

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(token: str) -> Listener | None:
        sio = socketio.AsyncClient(reconnection=False)
        listener = Listener(sio)

        @sio.on("changes")
        async def on_changes(data: dict[str, Any]) -> None:
            if listener.received is None and state.t0:
                listener.received = time.perf_counter()
                listener.payload = data
                state.pending -= 1
                if state.pending <= 0:
                    state.heard.set()

        async with gate:
            try:
                await sio.connect(
                    base_url, auth={"token": token}, transports=["websocket"], wait_timeout=20
                )
            except Exception:  # a socket that cannot connect is counted, not fatal
                return None
        return listener

    connected = await asyncio.gather(*(connect(t) for t in tokens))
    return [listener for listener in connected if listener is not None]


async def run_round(
    listeners: list[Listener], state: Round, send: Any
) -> tuple[list[float], dict[str, Any] | None]:
    """Start a round with ``send`` and return each receipt's latency in seconds."""
    for listener in listeners:
        listener.received = None
        listener.payload = None
    state.heard = asyncio.Event()
    state.pending = len(listeners)
    state.t0 = time.perf_counter()
    await send()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(state.heard.wait(), ROUND_TIMEOUT_S)
    t0, state.t0 = state.t0, 0.0
    await asyncio.sleep(SETTLE_S)
    latencies = [x.received - t0 for x in listeners if x.received is not None]
    payload = next((x.payload for x in listeners if x.payload is not None), None)
    return latencies, payload


def same_sized(payload: dict[str, Any]) -> dict[str, Any]:
    """Return ``payload`` with its records' ids swapped for fresh ones of equal length."""
    copy = json.loads(json.dumps(payload))
    for record in copy.get("changes", []):
        record["id"] = new_id()
    return copy


def synthetic_payload(compound_id: str) -> dict[str, Any]:
    """Return a ``changes`` payload like a one-task push would announce."""
    fields = {
        "kind": "delivery",
        "title": "压测任务 A-1：送菜上门",
        "status": "open",
        "compound_id": compound_id,
        "priority": 2,
    }
    record = {"type": "task", "id": new_id(), "version": 1, "deleted": False}
    return {"prev": 0, "cursor": 1, "changes": [{**record, "fields": fields}]}


async def measure(
    base_url: str,
    ceiling_url: str,
    password: str,
    compounds: dict[str, str],
    room: str,
    quick: bool,
) -> tuple[dict[str, list[float]], dict[str, int], str]:
    """Connect the sockets and run the rounds; return latencies, counts and a note."""
    import aiohttp

    sockets = QUICK_SOCKETS if quick else FULL_SOCKETS
    rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
    tokens = await asyncio.to_thread(
        lambda: [
            client.log_in(base_url, "vol-a", password, f"bench-live-{i}") for i in range(sockets)
        ]
    )
    coord = await asyncio.to_thread(client.log_in, base_url, "coord", password, "bench-live")
    push_exists = await asyncio.to_thread(
        client.endpoint_exists,
        base_url,
        coord,
        "POST",
        "/api/v1/sync/push",
        {"client_id": new_client_id(), "changesets": []},
    )
    state = Round()
    listeners = await connect_all(base_url, tokens, state)
    ceiling_state = Round()
    ceiling_listeners = await connect_all(ceiling_url, ["-"] * sockets, ceiling_state)
    workload = Workload(7, compounds, "A")
    latencies: dict[str, list[float]] = {"real": [], "floor": [], "ceiling": []}
    counts = {
        "sockets": len(listeners),
        "ceiling_sockets": len(ceiling_listeners),
        "expected": 0,
        "real_heard": 0,
        "floor_heard": 0,
        "ceiling_heard": 0,
    }
    payload = synthetic_payload(compounds["A"])
    headers = {"Authorization": f"Bearer {coord}"}
    client_id = new_client_id()
    async with aiohttp.ClientSession(base_url) as session:

        async def push() -> None:
            change, _ = workload.create("A")
            body = {"client_id": client_id, "changesets": [changeset([change])]}
            async with session.post("/api/v1/sync/push", json=body, headers=headers) as reply:
                await reply.read()

        async def emit() -> None:
            body = {"room": room, "event": "changes", "payload": same_sized(payload)}
            async with session.post("/bench/floor/emit", json=body) as reply:
                await reply.read()

        async def ceiling_push() -> None:
            change, _ = workload.create("A")
            row = {"id": change["id"], "body": change["fields"]}
            body = {"client_id": client_id, "rows": [row]}
            async with session.post(f"{ceiling_url}/push", json=body) as reply:
                await reply.read()

        for index in range(rounds):
            if push_exists:
                got, seen = await run_round(listeners, state, push)
                latencies["real"] += got
                counts["real_heard"] += len(got)
                if index == 0 and seen is not None:
                    payload = seen  # the floor emits what a real announce sent
            got, _ = await run_round(listeners, state, emit)
            latencies["floor"] += got
            counts["floor_heard"] += len(got)
            counts["expected"] += len(listeners)
            got, _ = await run_round(ceiling_listeners, ceiling_state, ceiling_push)
            latencies["ceiling"] += got
            counts["ceiling_heard"] += len(got)
    everyone = listeners + ceiling_listeners
    await asyncio.gather(*(x.sio.disconnect() for x in everyone), return_exceptions=True)
    note = f"payload {len(json.dumps(payload, ensure_ascii=False).encode())} bytes"
    if not push_exists:
        note = "endpoint missing (push); floor measured: " + note
    return latencies, counts, note


def run(
    base_url: str, db_kind: str, password: str, compounds: dict[str, str], quick: bool
) -> list[Figure]:
    """Measure p50 and p95 push-to-receipt latency against the bare emit."""
    room = servers.demo(base_url)["volunteer_room_a"]
    with ceiling.ceiling_server(db_kind) as ceiling_server:
        latencies, counts, note = asyncio.run(
            measure(base_url, ceiling_server.url, password, compounds, room, quick)
        )
    real = latencies["real"]
    note = (
        f"{counts['sockets']} sockets connected ({counts['ceiling_sockets']} to the ceiling);"
        f" events heard: real {counts['real_heard']}, floor {counts['floor_heard']},"
        f" ceiling {counts['ceiling_heard']} of {counts['expected']} each; {note}"
    )

    def ms(samples: list[float], share: float) -> float | None:
        return harness.percentile(samples, share) * 1000 if samples else None

    figures = []
    for name, share, target in (
        ("p50", 0.5, None),
        ("p95", 0.95, harness.at_most(P95_TARGET, "≤ 3× floor")),
    ):
        label = f"{db_kind} {name} push → {counts['sockets']} sockets"
        figures.append(
            Figure(
                "live",
                label,
                "ms",
                ms(real, share),
                floor=ms(latencies["floor"], share),
                target=target,
                note=note if name == "p95" else "",
            )
        )
        figures.append(
            Figure(
                "live",
                f"{label}, against the ceiling",
                "ms",
                ms(real, share),
                floor=ms(latencies["ceiling"], share),
                floor_label="ceiling",
            )
        )
    return figures
