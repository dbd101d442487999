"""Pull: a volunteer's first sync of compound A, and the last 100 changes.

``vol-a`` pulls ``GET /api/v1/sync/pull?cursor=0&limit=1000`` until ``more``
is false, asking for gzip. Server time is the wall time of the requests
(one keep-alive connection, nothing else running); bytes are what came over
the wire when the server compresses, else the bodies gzipped here (level 6,
one body at a time, as a server would), and the note says which. The floor
is the bare query of ``bench/floor.py`` paged the same way.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass

from bench import client, harness
from bench.harness import Figure

PAGE_LIMIT = 1000
MAX_PAGES = 200
LAST_CHANGES = 100
FIRST_SYNC_BUDGET_S = 1.0
FIRST_SYNC_BUDGET_BYTES = 1024 * 1024
GZIP_LEVEL = 6


@dataclass(frozen=True)
class Sync:
    """One paged sync: records, pages, seconds, bytes gzipped, final cursor."""

    records: int
    pages: int
    seconds: float
    gzip_bytes: int
    raw_bytes: int
    cursor: int
    server_gzips: bool
    ok: bool

    @property
    def rows_per_second(self) -> float:
        """Return records per second of server time."""
        return self.records / self.seconds if self.seconds else 0.0


def page_through(http: client.Http, path_of: Callable[[int], str], cursor: int) -> Sync:
    """Page from ``cursor`` until ``more`` is false (or a page limit)."""
    records = pages = gzip_bytes = raw_bytes = 0
    seconds = 0.0
    server_gzips = True
    for _ in range(MAX_PAGES):
        reply = http.request("GET", path_of(cursor), headers={"Accept-Encoding": "gzip"})
        if reply.status != 200:
            return Sync(records, pages, seconds, gzip_bytes, raw_bytes, cursor, False, False)
        pages += 1
        seconds += reply.seconds
        compressed = reply.headers.get("Content-Encoding", "").lower() == "gzip"
        body = gzip.decompress(reply.body) if compressed else reply.body
        server_gzips = server_gzips and compressed
        gzip_bytes += len(reply.body) if compressed else len(gzip.compress(body, GZIP_LEVEL))
        raw_bytes += len(body)
        page = json.loads(body)
        records += len(page["changes"])
        cursor = int(page["cursor"])
        if not page["more"]:
            break
    return Sync(records, pages, seconds, gzip_bytes, raw_bytes, cursor, server_gzips, True)


def real_path(cursor: int) -> str:
    """Return the path of one real pull page."""
    return f"/api/v1/sync/pull?cursor={cursor}&limit={PAGE_LIMIT}"


def floor_path(compound_id: str) -> Callable[[int], str]:
    """Return a function giving the path of one bare-query page."""
    return lambda cursor: (
        f"/bench/floor/query?compound_id={compound_id}&cursor={cursor}&limit={PAGE_LIMIT}"
    )


def best_of(runs: int, action: Callable[[], Sync]) -> Sync:
    """Run ``action`` ``runs`` times; return the run with the median server time."""
    syncs = sorted((action() for _ in range(runs)), key=lambda s: s.seconds)
    return syncs[len(syncs) // 2]


def run(
    base_url: str, db_kind: str, password: str, compounds: dict[str, str], quick: bool
) -> list[Figure]:
    """Measure vol-a's first sync and last-100 pull against the bare query."""
    token = client.log_in(base_url, "vol-a", password, "bench-pull")
    exists = client.endpoint_exists(base_url, token, "GET", real_path(0))
    runs = 1 if quick else 5
    http = client.Http(base_url, token)
    bare = floor_path(compounds["A"])
    try:
        if exists:
            page_through(http, real_path, 0)  # warm-up: connection, caches, the token
            first = best_of(runs, lambda: page_through(http, real_path, 0))
        floor_first = best_of(runs, lambda: page_through(http, bare, 0))
        if not exists:
            return missing_figures(db_kind, floor_first)
        since = max(0, first.cursor - LAST_CHANGES)
        last = best_of(runs * 3, lambda: page_through(http, real_path, since))
        floor_last = best_of(runs * 3, lambda: page_through(http, bare, since))
    finally:
        http.close()
    return pull_figures(db_kind, first, floor_first, last, floor_last)


def missing_figures(db_kind: str, floor_first: Sync) -> list[Figure]:
    """Return the pull figures without a pull endpoint: only the floor is known."""
    figure = harness.missing("pull", f"{db_kind} first sync", "rows/s", "endpoint missing")
    figure.floor = floor_first.rows_per_second
    figure.note += f"; floor {floor_first.records} rows in {floor_first.seconds:.3f} s"
    return [figure]


def pull_figures(
    db_kind: str, first: Sync, floor_first: Sync, last: Sync, floor_last: Sync
) -> list[Figure]:
    """Return the four pull figures."""
    how = "server gzip" if first.server_gzips else "server sends no gzip: bodies gzipped by bench"
    note = (
        f"{first.records} records in {first.pages} pages, {first.raw_bytes:,} bytes raw, "
        f"{first.gzip_bytes:,} gzipped ({how}); floor {floor_first.records} rows"
    )
    if not (first.ok and last.ok):
        note += "; a pull page did not answer 200"
    return [
        Figure(
            "pull",
            f"{db_kind} first sync (vol-a, compound A)",
            "rows/s",
            first.rows_per_second,
            floor=floor_first.rows_per_second,
            target=harness.at_least(0.5, "≥ 0.5× floor"),
            note=note,
        ),
        Figure(
            "pull",
            f"{db_kind} last {LAST_CHANGES} changes",
            "ms",
            last.seconds * 1000,
            floor=floor_last.seconds * 1000,
            target=harness.at_most(2.0, "≤ 2× floor"),
            note=f"{last.records} records in scope (floor {floor_last.records})",
        ),
        Figure(
            "pull",
            f"{db_kind} first sync server time",
            "s",
            first.seconds,
            floor=FIRST_SYNC_BUDGET_S,
            floor_label="budget",
            target=harness.at_most(1.0, "< 1 s"),
        ),
        Figure(
            "pull",
            f"{db_kind} first sync gzipped",
            "KiB",
            first.gzip_bytes / 1024,
            floor=FIRST_SYNC_BUDGET_BYTES / 1024,
            floor_label="budget",
            target=harness.at_most(1.0, "< 1 MiB"),
        ),
    ]
