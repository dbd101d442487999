"""A fault-injecting TCP proxy on loopback, for tests of patchy networks.

The kernel's netem is not available here and Toxiproxy has no package on
these registries, so this is a small asyncio proxy. Each connection draws a
fate from a seeded random generator: a clean but slow link, a weak-3G
bandwidth cap, a cut in the middle of the request or of the response, a
reset (RST), or a stall; and the whole proxy flaps, refusing connections
for a while now and then. Every fate adds a latency of ``LATENCY_MS`` to
each chunk it forwards, in each direction.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field

LATENCY_MS = (300, 1500)
#: A weak 3G link, bytes per second.
WEAK_3G_BPS = 40_000
STALL_S = (3.0, 8.0)
FLAP_EVERY_S = (4.0, 9.0)
FLAP_DOWN_S = (0.5, 2.0)
CHUNK_BYTES = 16 * 1024

#: Fates and their weights.
FATES = {
    "slow": 30,
    "weak_3g": 15,
    "cut_request": 15,
    "cut_response": 20,
    "reset": 10,
    "stall": 10,
}


@dataclass
class Fate:
    """What happens to one connection."""

    kind: str
    latency_s: float
    cut_after: int = 0  # bytes forwarded in the faulty direction before the cut
    stall_s: float = 0.0


@dataclass
class FaultyProxy:
    """Forward ``127.0.0.1:port`` to ``target_port``, injecting faults while ``faulty``.

    Use it as a context manager; ``faulty = False`` turns it into a plain
    pipe (to let devices settle at the end of a test). ``fates`` counts what
    was injected.
    """

    target_port: int
    seed: int = 0
    faulty: bool = True
    port: int = 0
    fates: Counter[str] = field(default_factory=Counter)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _down: bool = False
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    def __enter__(self) -> FaultyProxy:
        started = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        """Stop listening and end every connection still open (a stall, say)."""
        assert self._server is not None
        self._server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in list(self._writers):
            writer.transport.abort()

    def _run(self, started: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        rng = random.Random(self.seed)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(lambda r, w: self._serve(r, w, rng), "127.0.0.1", self.port)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._loop.create_task(self._flap(random.Random(self.seed + 1)))
        started.set()
        self._loop.run_forever()

    async def _flap(self, rng: random.Random) -> None:
        """Take the whole link down now and then (a train through a tunnel)."""
        while True:
            await asyncio.sleep(rng.uniform(*FLAP_EVERY_S))
            if self.faulty:
                self._down = True
                self.fates["flap"] += 1
                await asyncio.sleep(rng.uniform(*FLAP_DOWN_S))
            self._down = False

    def _draw(self, rng: random.Random) -> Fate:
        kind = rng.choices(list(FATES), weights=list(FATES.values()))[0]
        latency_s = rng.uniform(*LATENCY_MS) / 1000
        return Fate(kind, latency_s, rng.randint(1, 600), rng.uniform(*STALL_S))

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rng: random.Random
    ) -> None:
        if self.faulty and self._down:
            self.fates["refused"] += 1
            _reset(writer)
            return
        fate = self._draw(rng) if self.faulty else Fate("clean", 0.0)
        self.fates[fate.kind] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            _reset(writer)
            return
        self._writers |= {writer, up_writer}
        upstream = self._pipe(reader, up_writer, fate, "cut_request", writer)
        downstream = self._pipe(up_reader, writer, fate, "cut_response", writer)
        try:
            await asyncio.gather(upstream, downstream, return_exceptions=True)
        finally:
            for each in (writer, up_writer):
                each.close()
                self._writers.discard(each)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        fate: Fate,
        cut_kind: str,
        client: asyncio.StreamWriter,
    ) -> None:
        """Copy one direction, applying the connection's fate."""
        forwarded = 0
        try:
            while chunk := await reader.read(CHUNK_BYTES):
                if fate.latency_s:
                    await asyncio.sleep(fate.latency_s)
                if fate.kind == cut_kind and forwarded + len(chunk) > fate.cut_after:
                    writer.write(chunk[: max(0, fate.cut_after - forwarded)])
                    _reset(client) if cut_kind == "cut_response" else writer.close()
                    return
                if fate.kind == "reset" and forwarded > fate.cut_after:
                    _reset(client)
                    return
                if fate.kind == "stall":
                    await asyncio.sleep(fate.stall_s)
                writer.write(chunk)
                await writer.drain()
                forwarded += len(chunk)
                if fate.kind == "weak_3g":
                    await asyncio.sleep(len(chunk) / WEAK_3G_BPS)
            writer.write_eof()
        except (ConnectionError, OSError, RuntimeError):
            return


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a dropped mobile link does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
