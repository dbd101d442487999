"""Run the benchmarks: ``python -m bench [--quick] [--only pull,live,push,gate,...]``.

For each database (SQLite, then PostgreSQL when it answers on 127.0.0.1)
the run seeds a throwaway database, starts ``bench/serve.py`` on it and
measures pull (on the fresh demo data), live and push, in that order; the
queries section fills a throwaway database of its own, and the web section
gets a demo server of its own. It prints a table and, unless
``--quick`` (or ``--no-write``), writes ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import (
    board,
    ceiling,
    device,
    field,
    gate,
    harness,
    live,
    load,
    pull,
    push,
    queries,
    servers,
    supplies,
    web,
)
from bench.harness import Figure

SECTIONS = (
    "pull",
    "live",
    "push",
    "ceiling",
    "supplies",
    "scale",
    "queries",
    "web",
    "board",
    "gate",
    "load",
    "field",
    "device",
)
# In this order on one server: ``scale`` bulk-loads up to a million records, so it runs last.
DATABASE_SECTIONS = {
    "pull": pull.run,
    "live": live.run,
    "push": push.run,
    "ceiling": ceiling.run,
    "scale": ceiling.run_scale,
    "supplies": supplies.run,
}
REPORT_PATH = os.path.join(servers.REPO_ROOT, "docs", "benchmarks.md")
METHOD = """
- **Server**: `bench/serve.py`, which is `weiguang serve` (eventlet patch first, its JSON
  log line a request, the app factory, schema upgrade, `socketio.run`; the log goes to a
  temporary file) plus the bench-only floor blueprint
  `bench/floor.py`. One process, production settings, except Argon2's cost (logins are
  not measured; a cheap hash keeps 200 sign-ins quick). Every run seeds its own
  databases with `weiguang seed-demo`: SQLite in a temporary folder, PostgreSQL a
  throwaway database dropped at the end.
- **Push**: threads with keep-alive `http.client` connections, one per client, each
  signed in with its own `coord` token and its own volunteer token (`vol-a` or `vol-b`).
  Rounds of 1, 50 or 500 changesets of one change each, one change a record a push:
  three rounds in four are coordinator pushes (70 % task creates spread over compounds
  A/B/C with kind, title, status `open`, compound_id, priority; 30 % notes edits of the
  client's earlier tasks with their `base_version`), the second of every four a
  volunteer's claims of open tasks of its compound, made (untimed) before the rounds.
  A trial's throughput is changes in 200 replies over the wall time from the start
  barrier to the last client's end; each client stops after a fixed number of rounds
  or seconds. Floor and real trials alternate, three each; the figure is the median.
  Floor: `POST /bench/floor/upsert` with the same rows (full fields), clients and
  rounds: versions from `sync_state`, then `INSERT ... ON CONFLICT DO UPDATE ...
  RETURNING` (so SQLAlchemy batches it) into `record`, and into `record_scope` (keyed
  by place and version) a delete of the rows of the versions replaced and an insert,
  one transaction. Clients never touch each other's tasks, so any non-200 reply or
  rejected changeset is an error.
- **Pull**: `vol-a` pages `GET /api/v1/sync/pull?cursor=0&limit=1000` until
  `more=false` on the freshly seeded demo data, with `Accept-Encoding: gzip`; server
  time is the summed wall time of the requests on one keep-alive connection (median of
  5 runs after a warm-up). Bytes are on-wire when the server gzips, else each body is
  gzipped (level 6) by the bench. Floor: `GET /bench/floor/query`, records joined to
  `record_scope` (by version) for compound A, version > cursor, ordered, limited,
  paged the same way.
  The last 100 changes start at cursor = high water − 100 (median of 15 runs each).
- **Ceiling**: `bench/ceiling_server.py`, the thinnest Flask push/pull server on one
  table (`item`: id, sequence, client id, JSON body; a one-row counter), served like
  Weiguang (eventlet patched first, one process, `server.green.serve`), SQLite WAL with
  `synchronous=NORMAL` or PostgreSQL, on a throwaway database of its own. A push takes
  its sequence numbers with `UPDATE counter ... RETURNING` and upserts the batch in one
  multi-row statement, one transaction; a pull reads `seq > since ORDER BY seq LIMIT`.
  `bench/ceiling.py` first tops the ceiling's table up to as many rows as Weiguang's
  `record` holds (the demo's), then sends both servers the same tasks (`bench.push.Workload`'s
  coordinator rounds: Weiguang gets one-change changesets as `coord`, the ceiling their
  full fields), alternating servers trial by trial: pushes of 250 a request with 1 and
  4 clients (8 requests a client a trial, median of 5 trials), single-change pushes
  (median of 81, alternating sample by sample), the coordinator's full pull from 0
  at 1,000 a page (the ceiling topped up to as many rows; median of 5), the last 100
  changes and an empty pull (median of 61). No gzip asked of either. A figure's ratio
  is its median over the ceiling's; its note gives the range of the trials' own
  ratios (each Weiguang trial over the ceiling trial beside it), how far one run spread.
  Each push cell also gives records per second of each server process's CPU time over
  the same trials (its threads' `/proc/<pid>/task/*/schedstat`; on PostgreSQL the
  database's own processes are not counted): on a loaded machine a request also waits
  for a core, which lengthens the ceiling's short requests more than Weiguang's and
  lifts records/s ratios that the CPU ratio keeps.
- **Scale**: on the same servers after `ceiling`, bulk loaders top both databases up to
  10,000, 100,000, 250,000 and 1,000,000 records of tasks of compound A, in the
  coordinator's scope (`--scale-sizes` picks others): the database makes the rows in
  SQL, 50,000 a transaction — Weiguang's through `POST /bench/floor/generate` (the rows
  of `record` and `record_scope` a push would write, versions from `sync_state`, no push
  path), the ceiling's through its `POST /fill`; PostgreSQL is `ANALYZE`d after each load.
  When Weiguang's database already holds more (the sections before push into it),
  both are held at that count, which names the figures. At each size: last 100
  changes, empty pull, single-change push, a 250-changeset push, and `vol-b`'s first
  sync (compound B, which the loads leave alone: its cost should stay flat) against
  the ceiling paging as many rows from 0, each against the ceiling at the same size;
  the targets hold at 250,000.
- **Queries**: `bench/query_worker.py` on an empty throwaway database per engine writes,
  through the SQL store, 3 compounds of 20 buildings, 5,000 households, 15,000 residents,
  today's visits (none for 15 % of households, one or more for the rest, 15 % of those
  only `no_answer`) and 100,000 gate events over 7 days; PostgreSQL is then `ANALYZE`d
  (as autovacuum would), SQLite is not. Timed in-process, median of 21 runs after a
  warm-up: `server.queries.screening_progress` for the whole neighbourhood since 10 hours
  ago, and `server.queries.gate_log` of one compound since an hour ago (engine records,
  fields parsed). Floor: the same answer by bare SQL on a raw DB-API cursor from bare typed
  tables holding the same facts (what projection tables beside `record` would be:
  households by id, visits by household, gate events by compound and time), the gate
  log's rows joined back to `record`; both answers are checked equal. The target is on
  the time itself (issue #8); the note names the indexes the real query's plan uses.
- **Live**: 200 `vol-a` sockets (one sign-in each), python-socketio `AsyncClient` on
  aiohttp, websocket transport, one event loop. t0 just before `coord` sends a push of
  one changeset creating a task in compound A; t1 when each socket gets its `changes`
  event. Floor: `POST /bench/floor/emit` of a same-sized payload (the first real event,
  ids swapped) to the room of the volunteers of compound A, same t0/t1. Ceiling: 200
  more sockets (same loop) on `bench/ceiling_server.py`, whose push of the same task
  as one row emits one `changes` event with it to every socket once committed (the
  thinnest live announcement), same t0/t1. Rounds alternate real, floor and ceiling,
  one at a time. Latency includes the bench's own event loop handling 200 receipts,
  for all alike.
- **Web**: gzip (level 9, per file) of `web/` minus `web/vendor/` and images (html, js,
  css, webmanifest), and the same plus `web/vendor/**/*.js`; budgets from issue #4.
  Lighthouse 12.2.3 (pinned in `bench/package-lock.json`), mobile preset, Debian
  chromium headless, median of 3 runs against a demo server; installability is
  Chromium's `Page.getInstallabilityErrors` over CDP via Playwright.
- **Board**: `bench/board.py` on a seeded SQLite bench server filled (untimed) by `coord`
  pushes to 5,000 tasks over compounds A/B/C, half open, half claimed by `vol-a`. Debian
  chromium (Playwright, 1920×1080) signs in as `coord`, syncs, opens `#/board`, then runs
  with CDP `Emulation.setCPUThrottlingRate` 4 while four writer threads (own connections,
  disjoint tasks) push 20 one-change changesets a second in all for 30 s (8 s quick) to
  random tasks: a priority change (the card moves in its column), a claim for `vol-a`
  (it changes column) or a new title. Sample:
  from `live.js`'s `live:changes` mark (the event's arrival in the page) to the board's
  `board:painted` mark (made in the animation frame that draws the changed cards: changes
  are drawn together once a frame) naming one of the event's ids, paired by a
  PerformanceObserver. Floor: from the same arrival to the first animation frame after it
  (a `requestAnimationFrame` loop records when every frame's callbacks run): the least an
  update can take to show. The target is on the p95 itself (issue #13: under 100 ms). Live
  records are painted as they arrive (the store's write follows), so the figure does not
  wait on IndexedDB.
- **Gate**: `bench/gate.py` against a demo server (SQLite). Decision time after decode:
  Debian chromium via Playwright, CPU throttled 4x (CDP `Emulation.setCPUThrottlingRate`);
  a device store of its own (the app's `web/app/db.js`) holds 20,000 passes of one
  compound (1,000 revoked), the compound with its key, its policy and 500 gate events;
  a server-signed token is judged as the gate screen does after decoding
  (`web/app/gate/check.js` `judgeToken`: WebCrypto signature, compound, validity,
  revocation and today's exits read from the store, the policy), for a good and a
  revoked pass; median of 31 runs after 3 warm-ups. Floor: one WebCrypto `verify` of
  the same token on the same page. First sync: `guard-a` pulls from cursor 0 in pages of
  1,000 with gzip; bytes on the wire, and the passes' share of them per pass.
- **Load**: `bench/load.py` on a seeded PostgreSQL database with Redis, through
  `scripts/district` (nginx, `ip_hash`): 1,000 simulated devices (100 with `--quick`),
  building-scoped volunteers, each with its own sign-in, aiohttp session from its own
  loopback /24 and python-socketio `AsyncClient` (websocket), in one event loop; one in
  ten pushes a one-visit changeset every 10 s (±20 %; `WEIGUANG_LOAD_PUSH_EVERY_S`),
  every device applies `changes` events or pulls from its cursor when behind, per the
  contract (about 25 devices a building: each push sends them to pull). 120 s (15 s
  quick) with one process, then with two, on the same database. Pushes answered must
  reach 0.9× the offered rate and errors must be 0; the CPU split (cores used by the
  servers, by the load client, and the rest of the machine, from `/proc`) shows what
  bounds the 2/1 ratio. Memory per connection is the servers' RSS growth while the
  sockets connect, over their number. The rest is reported as measured (the capacity
  figures for `docs/deploy.md`).
- **Field**: Chromium (Playwright, Debian's build) signs `vol-a` in on a demo server and
  syncs compound A onto the device, then `Emulation.setCPUThrottlingRate` 4 over CDP and
  offline; timed in the page from the hash change (or the tap) until the screen is drawn:
  opening a building's household list (36 households, alternating buildings 4 and 5),
  and "no answer — next door" on a household screen until the next door's screen shows
  (the visit queued in IndexedDB). Median of 20; floor: opening the not-found screen the
  same way. Target < 100 ms each (issue 10).
- **Supplies** (issue 12): on the seeded database, 30,000 households (3,000 with
  `--quick`; 100 buildings of 300 in compound A) written untimed through the floor, and
  a round over compound A, open now, with five packages of ample stock. Four clients
  (one `coord` sign-in each) push every household's order, one create per changeset
  (one to three packages), 50 changesets a push as the app batches them; then confirm
  every order after "phoning" the same way. Orders/s and confirmations/s = changes
  applied over the wall time; floor: the same rows with the fields the server stores,
  same clients and batches, through `POST /bench/floor/upsert` (under other ids and
  compound C, so they touch neither the round nor its picking list), measured just
  before. Every order takes stock from the same five package rows: the hot spot a round
  has. Picking list: `GET /api/v1/exports/picking_list.{csv,xlsx}?compound_id=A` as
  `coord`, read whole; floor: the bare pull query of compound A paged from the cursor
  before the orders (the same rows, read). Delivery tasks: the round's cut-off moved to
  now, `POST /api/v1/supplies/rounds/{id}/deliveries` makes one task per unit (1,000 of
  30 orders; the step the serving process's job runs, its own turn put off for the
  bench); floor: the same task rows upserted. Then the same request again, nothing to
  do: a job turn after the round's orders moved (a turn when nothing moved is three
  indexed queries); floor: the bare pull query above. Targets
  on the values: orders ≥ households / 4 h (the ordering window), each picking list
  ≤ 60 s; errors must be 0.
- **Device** (issue 16, point 6): Debian chromium (Playwright) on a fresh profile opens the
  app on a demo server (SQLite), CDP `Emulation.setCPUThrottlingRate` 4, and signs `coord`
  in (the whole demo neighbourhood). Timed in the page from the click on "Sign in" to
  `web/app/sync.js`'s marks: `sync:first-types` (tasks, buildings and compounds stored,
  the screens told: usable) and `sync:first-sync` (the last page stored with its cursor);
  the records in IndexedDB are counted after. Floor, alternating trial by trial in a fresh
  profile with the same throttling: a bare script in a page of the same origin signs in
  with `fetch`, pulls the same pages (cursor 0, 1,000 a page) and puts each page into an
  IndexedDB store of its own in one transaction; its note splits its median trial into
  waiting for the pages (of that, to each answer's first byte) and writing IndexedDB.
  Budget 3 s from sign-in; median of 3.
- Ratios are measured / floor (or / budget); KiB and MiB are 1024-based.
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (< 2 min)")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help="sections, comma-separated: " + ",".join(SECTIONS),
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="databases for pull, live, push and queries",
    )
    parser.add_argument(
        "--scale-sizes",
        default=",".join(str(n) for n in ceiling.SCALE_SIZES),
        help="record counts of the scale curve, comma-separated",
    )
    parser.add_argument("--no-write", action="store_true", help="do not write the report")
    parser.add_argument("--write", action="store_true", help="write the report even if --quick")
    parser.add_argument("--output", default=REPORT_PATH, help="where to write the report")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any figure fails")
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    args.scale_sizes = tuple(int(n) for n in args.scale_sizes.split(",") if n.strip())
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    return args


def guarded(section: str, label: str, action: Callable[[], list[Figure]]) -> list[Figure]:
    """Run one section; a crash becomes a MISSING figure with the error, not a dead run."""
    started = time.perf_counter()
    print(f"… {section} on {label}", file=sys.stderr, flush=True)
    try:
        figures = action()
    except Exception as error:
        traceback.print_exc()
        figures = [harness.missing(section, label, "", f"failed: {error!r}"[:400])]
    print(f"  {section} on {label}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    # As it goes, so that a long run stopped early still shows what it measured.
    print(harness.text_table(figures), file=sys.stderr, flush=True)
    return figures


def database_sections(kind: str, sections: list[str], quick: bool) -> list[Figure]:
    """Seed a database of ``kind``, serve it, and run the database sections on it."""
    if kind == "postgresql" and not servers.postgres_available():
        return [harness.missing(s, kind, "", "PostgreSQL not reachable") for s in sections]
    figures: list[Figure] = []
    with servers.served(kind) as server:
        compounds = servers.demo(server.url)["compounds"]
        for section in sections:
            run: Any = DATABASE_SECTIONS[section]
            figures += guarded(
                section,
                kind,
                lambda run=run: run(server.url, kind, servers.DEMO_PASSWORD, compounds, quick),
            )
            if not server.healthy():
                print(f"Server log after {section}:\n{server.output()}", file=sys.stderr)
                figures.append(
                    harness.missing(section, f"{kind} server", "", "stopped answering; restarted")
                )
                server.restart()
    return figures


def load_section(quick: bool) -> list[Figure]:
    """Run the load section on a seeded PostgreSQL database of its own."""
    if not servers.postgres_available():
        return [harness.missing("load", "postgresql", "", "PostgreSQL not reachable")]
    with servers.database("postgresql") as url:
        servers.seed(url)
        return guarded("load", "district", lambda: load.run(url, servers.DEMO_PASSWORD, quick))


def postgres_version() -> str:
    """Return the PostgreSQL server's version, or why it is unknown."""
    if not servers.postgres_available():
        return "not reachable"
    import psycopg2

    with psycopg2.connect(servers.POSTGRES_ADMIN_DSN) as connection, connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return str(cur.fetchone()[0])


def write_report(path: str, figures: list[Figure], sections: list[str], run: harness.Run) -> None:
    """Store this run's sections beside the others' and write the Markdown report.

    The read, merge and both writes happen under an exclusive lock on the JSON
    file (``fcntl.flock``), so ``--only`` runs of other sections finishing at
    the same time each add their sections instead of one dropping another's.
    """
    data_path = os.path.splitext(path)[0] + ".json"
    with open(data_path, "a+", encoding="utf-8") as stored:
        fcntl.flock(stored, fcntl.LOCK_EX)
        stored.seek(0)
        try:
            previous = json.loads(stored.read() or "{}")
        except ValueError:
            previous = {}
        merged = harness.merge_runs(previous, figures, sections, run)
        stored.seek(0)
        stored.truncate()
        json.dump(merged, stored, ensure_ascii=False, indent=1)
        stored.write("\n")
        stored.flush()
        with open(path, "w", encoding="utf-8") as report:
            report.write(harness.markdown_report(merged, SECTIONS, METHOD))
    print(f"\nWrote {os.path.relpath(path)} and {os.path.relpath(data_path)}", file=sys.stderr)


def main(argv: list[str]) -> int:
    """Run the selected sections, print the table and write the report."""
    args = parse_args(argv)
    ceiling.SCALE_SIZES = args.scale_sizes
    started = time.perf_counter()
    facts = harness.machine()
    facts["postgresql"] = postgres_version()
    facts["chromium"] = harness.command_version(web.CHROMIUM, "--version")
    facts["node"] = harness.command_version("node", "--version")
    figures: list[Figure] = []
    db_sections = [s for s in SECTIONS if s in args.only and s in DATABASE_SECTIONS]
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        if db_sections:
            figures += database_sections(kind, db_sections, args.quick)
        if "queries" in args.only:
            figures += guarded("queries", kind, lambda kind=kind: queries.run(kind, args.quick))
    if "web" in args.only:
        with servers.served("sqlite") as server:
            figures += guarded("web", "sqlite demo", lambda: web.run(server.url, args.quick))
    if "board" in args.only:
        figures += guarded("board", "sqlite demo", lambda: board.run(args.quick))
    if "gate" in args.only:
        with servers.served("sqlite") as server:
            figures += guarded("gate", "sqlite demo", lambda: gate.run(server.url, args.quick))
    if "load" in args.only:
        figures += load_section(args.quick)
    if "field" in args.only:
        with servers.served("sqlite") as server:
            figures += guarded("field", "sqlite demo", lambda: field.run(server.url, args.quick))
    if "device" in args.only:
        with servers.served("sqlite") as server:
            figures += guarded("device", "sqlite demo", lambda: device.run(server.url, args.quick))
    facts["duration"] = f"{time.perf_counter() - started:.0f} s" + (
        " (quick)" if args.quick else ""
    )
    print(harness.text_table(figures))
    if (not args.quick or args.write) and not args.no_write:
        command = "python -m bench " + " ".join(argv) if argv else "python -m bench"
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        write_report(args.output, figures, args.only, harness.Run(when, command, facts))
    failed = any(f.verdict in ("FAIL", "MISSING") for f in figures)
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
