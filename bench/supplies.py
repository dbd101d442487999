"""Group buying at district scale (issue 12): a round of 30,000 households ordering.

Setup, untimed: 100 buildings of 300 households (10 units, 15 floors, 2 flats)
in compound A written through the floor endpoint, then a real round over
compound A, open now, with five packages of ample stock (a coordinator's
push). Then, timed:

- **order push rate**: clients (one ``coord`` sign-in each) push every
  household's order — one create per changeset, one to three packages, 50
  changesets a push as the app batches them — through ``/api/v1/sync/push``;
  every order takes stock from the same five package rows, the hot spot a
  round has. Orders/s = orders applied over the wall time. Floor: the same
  rows, with the fields the server stores, through ``/bench/floor/upsert``
  (same clients and batches), under other ids and another compound so they
  touch neither the round nor its picking list.
- **confirm rate**: the same clients confirm every order after "phoning"
  (``status: confirmed, phoned: true``), the same way; floor likewise.
- **picking list**: ``GET /api/v1/exports/picking_list.{csv,xlsx}?compound_id=A``
  as ``coord``, read to the end; floor: the bare pull query of the same
  rows (``/bench/floor/query`` of compound A from the high water before the
  orders, paged by 1,000).
- **delivery tasks at the cut-off**: the round's cut-off is moved to now and
  ``POST /api/v1/supplies/rounds/{id}/deliveries`` makes one task per unit
  (1,000 of 30 orders each, pushed a few units a transaction), the step the
  serving process's job runs
  (``server.supplies.bring_deliveries_up``; its own turn is put off in
  ``bench.servers.BENCH_ENV``); floor: the same task rows through
  ``/bench/floor/upsert``. Then the same request again, which finds nothing
  to do: what a job turn costs when the round's orders or given-back tasks
  moved (it reads them all; no lock); a turn when nothing moved is three
  indexed queries; floor: the bare pull query above.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import client, harness
from bench.harness import Figure, Target
from bench.ids import new_client_id, new_id
from bench.push import changeset

HOUSEHOLDS = 30_000
QUICK_HOUSEHOLDS = 3_000
PER_BUILDING = 300  # 10 units x 15 floors x 2 flats
CLIENTS = 4
BATCH = 50  # changesets a push: the app's PUSH_BATCH_SIZE
SETUP_BATCH = 2_000
PACKAGES = ("蔬菜包", "肉蛋包", "米面粮油包", "婴幼儿包", "清真包")
STOCK = 1_000_000
#: Qibao's first days: 30,000 households in a four-hour ordering window must fit.
WINDOW_S = 4 * 3600
#: A leader prints the picking list while the goods are unloaded: a minute at most.
PICKING_BUDGET_S = 60.0


def now_iso(delta: timedelta = timedelta()) -> str:
    """Return the wire form of now plus ``delta``."""
    return (datetime.now(UTC) + delta).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def setup(
    http: client.Http, compound_a: str, count: int
) -> tuple[str, list[str], list[str], int, int]:
    """Write the buildings and households (floor), then the round and packages (a push).

    :returns: the round's id, the package ids, the household ids, the cursor
        after them and the round's version.
    """
    buildings = [new_id() for _ in range(-(-count // PER_BUILDING))]
    rows: list[dict[str, Any]] = [
        {
            "type": "building",
            "id": building,
            "compound_id": compound_a,
            "fields": {"compound_id": compound_a, "name": f"{100 + n}号楼", "number": 100 + n},
        }
        for n, building in enumerate(buildings)
    ]
    homes = []
    for index in range(count):
        building = buildings[index // PER_BUILDING]
        place = index % PER_BUILDING
        unit, floor, flat = 1 + place // 30, 1 + place % 30 // 2, 1 + place % 2
        home = new_id()
        homes.append(home)
        fields = {"compound_id": compound_a, "building_id": building, "unit": str(unit)}
        fields |= {"floor": floor, "room": f"{floor}{flat:02d}"}
        rows.append(
            {
                "type": "household",
                "id": home,
                "compound_id": compound_a,
                "building_id": building,
                "fields": fields,
            }
        )
    for start in range(0, len(rows), SETUP_BATCH):
        reply = http.request(
            "POST", "/bench/floor/upsert", {"rows": rows[start : start + SETUP_BATCH]}
        )
        if reply.status != 200:
            raise RuntimeError(f"setup upsert: {reply.status} {reply.body[:200]!r}")
    round_id = new_id()
    packages = [new_id() for _ in PACKAGES]
    changes = [
        {
            "type": "supply_round",
            "id": round_id,
            "op": "create",
            "fields": {
                "title": "压测团购",
                "compound_ids": [compound_a],
                "opens_at": now_iso(-timedelta(hours=1)),
                "cutoff_at": now_iso(timedelta(hours=4)),
                "delivers_at": now_iso(timedelta(hours=9)),
                "household_limit": 3,
            },
        }
    ] + [
        {
            "type": "package",
            "id": package,
            "op": "create",
            "fields": {
                "supply_round_id": round_id,
                "name": name,
                "price_cents": 6800,
                "stock": STOCK,
            },
        }
        for package, name in zip(packages, PACKAGES, strict=True)
    ]
    reply = http.request(
        "POST",
        "/api/v1/sync/push",
        {"client_id": new_client_id(), "changesets": [changeset(changes)]},
    )
    if reply.status != 200 or reply.json()["results"][0]["status"] != "applied":
        raise RuntimeError(f"setup push: {reply.status} {reply.body[:300]!r}")
    version = int(reply.json()["results"][0]["changes"][0]["version"])
    return round_id, packages, homes, int(reply.json()["cursor"]), version


def order_lines(rng: random.Random, packages: list[str]) -> list[dict[str, Any]]:
    """Return one household's lines: one to three packages, one to three of each."""
    return [
        {"package_id": p, "qty": rng.randint(1, 3)}
        for p in rng.sample(packages, rng.randint(1, 3))
    ]


class Share:
    """One client's part of the round: its households, their orders, the versions seen."""

    def __init__(self, seed: int, round_id: str, packages: list[str], homes: list[str]) -> None:
        rng = random.Random(seed)
        self.round_id = round_id
        self.homes = homes
        self.lines = {home: order_lines(rng, packages) for home in homes}
        self.versions: dict[str, int] = {}
        self.client_id = new_client_id()

    def order_id(self, home: str) -> str:
        return str(uuid.uuid5(uuid.UUID(self.round_id), home))

    def orders(self, homes: list[str]) -> list[dict[str, Any]]:
        """Return one changeset per household creating its order."""
        return [
            changeset(
                [
                    {
                        "type": "order",
                        "id": self.order_id(home),
                        "op": "create",
                        "fields": {
                            "supply_round_id": self.round_id,
                            "household_id": home,
                            "channel": "hotline",
                            "lines": self.lines[home],
                        },
                    }
                ]
            )
            for home in homes
        ]

    def confirms(self, homes: list[str]) -> list[dict[str, Any]]:
        """Return one changeset per household confirming its order after phoning."""
        return [
            changeset(
                [
                    {
                        "type": "order",
                        "id": self.order_id(home),
                        "op": "update",
                        "base_version": self.versions.get(self.order_id(home), 0),
                        "fields": {"status": "confirmed", "phoned": True},
                    }
                ]
            )
            for home in homes
        ]

    def floor_rows(self, homes: list[str], compound: str, status: str) -> list[dict[str, Any]]:
        """Return the rows the server stores for these orders, under floor ids and compound."""
        return [
            {
                "type": "bench_order",
                "id": str(uuid.uuid5(uuid.UUID(self.order_id(home)), "floor")),
                "compound_id": compound,
                "fields": {
                    "supply_round_id": self.round_id,
                    "household_id": home,
                    "compound_id": compound,
                    "channel": "hotline",
                    "lines": self.lines[home],
                    "status": status,
                    "phoned": status == "confirmed",
                    "ordered_by": 1,
                },
            }
            for home in homes
        ]


Send = Callable[[Share, client.Http, list[str]], tuple[int, Counter[str]]]


def run_clients(
    shares: list[Share], https: list[client.Http], send: Send
) -> tuple[int, float, Counter[str]]:
    """Run every client through its households in batches from a start barrier.

    :returns: the changes applied, the wall time and the errors by kind.
    """
    barrier = threading.Barrier(len(shares) + 1)
    applied = [0] * len(shares)
    errors: list[Counter[str]] = [Counter() for _ in shares]

    def work(index: int) -> None:
        share = shares[index]
        barrier.wait()
        for start in range(0, len(share.homes), BATCH):
            done, problems = send(share, https[index], share.homes[start : start + BATCH])
            applied[index] += done
            errors[index].update(problems)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(shares))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return sum(applied), time.perf_counter() - started, sum(errors, Counter())


def pushed(kind: str) -> Send:
    """Return a sender pushing orders (``kind`` ``order``) or confirmations for real."""

    def send(share: Share, http: client.Http, homes: list[str]) -> tuple[int, Counter[str]]:
        changesets = share.orders(homes) if kind == "order" else share.confirms(homes)
        reply = http.request(
            "POST", "/api/v1/sync/push", {"client_id": share.client_id, "changesets": changesets}
        )
        if reply.status != 200:
            return 0, Counter({f"HTTP {reply.status}": len(homes)})
        problems: Counter[str] = Counter()
        applied = 0
        for result in reply.json()["results"]:
            for change in result["changes"]:
                if change["status"] == "rejected":
                    problems[f"rejected {change['conflict']['code']}"] += 1
                else:
                    applied += 1
                    share.versions[change["id"]] = change["version"]
        return applied, problems

    return send


def floored(status: str, compound: str) -> Send:
    """Return a sender upserting the same rows through the floor endpoint."""

    def send(share: Share, http: client.Http, homes: list[str]) -> tuple[int, Counter[str]]:
        reply = http.request(
            "POST", "/bench/floor/upsert", {"rows": share.floor_rows(homes, compound, status)}
        )
        if reply.status != 200:
            return 0, Counter({f"HTTP {reply.status}": len(homes)})
        return len(homes), Counter()

    return send


def read_export(http: client.Http, fmt: str, compound: str) -> tuple[float, int, int]:
    """Fetch the picking list export; return its seconds, bytes and CSV rows."""
    reply = http.request(
        "GET",
        f"/api/v1/exports/picking_list.{fmt}?compound_id={compound}",
        headers={"Accept": "*/*"},
    )
    if reply.status != 200:
        raise RuntimeError(f"picking_list.{fmt}: {reply.status} {reply.body[:200]!r}")
    return reply.seconds, len(reply.body), reply.body.count(b"\r\n") - 1


def read_floor(http: client.Http, compound: str, cursor: int) -> tuple[float, int]:
    """Page the bare pull query of compound A from ``cursor``; return seconds and rows."""
    seconds, rows, more = 0.0, 0, True
    while more:
        reply = http.request(
            "GET", f"/bench/floor/query?compound_id={compound}&cursor={cursor}&limit=1000"
        )
        page = reply.json()
        seconds += reply.seconds
        rows += len(page["changes"])
        cursor, more = page["cursor"], page["more"]
    return seconds, rows


def make_deliveries(http: client.Http, round_id: str) -> tuple[float, int]:
    """Ask for the round's delivery tasks; return the seconds and how many were made."""
    reply = http.request("POST", f"/api/v1/supplies/rounds/{round_id}/deliveries", {})
    if reply.status != 200:
        raise RuntimeError(f"deliveries: {reply.status} {reply.body[:200]!r}")
    return reply.seconds, len(reply.json()["created"]) + len(reply.json()["updated"])


def delivery_figures(
    http: client.Http, round_: tuple[str, int], compound: str, label: str, query_floor_s: float
) -> list[Figure]:
    """Close the round now, time its delivery tasks, then the job's next turn (nothing to do)."""
    round_id, version = round_
    close = {"type": "supply_round", "id": round_id, "op": "update", "base_version": version}
    close["fields"] = {"cutoff_at": now_iso()}
    reply = http.request(
        "POST",
        "/api/v1/sync/push",
        {"client_id": new_client_id(), "changesets": [changeset([close])]},
    )
    if reply.status != 200 or reply.json()["results"][0]["status"] != "applied":
        raise RuntimeError(f"closing the round: {reply.status} {reply.body[:300]!r}")
    made_s, made = make_deliveries(http, round_id)
    again_s, again = make_deliveries(http, round_id)
    rows = [
        {
            "type": "bench_task",
            "id": str(uuid.uuid5(uuid.UUID(round_id), f"floor/{n}")),
            "compound_id": compound,
            "fields": {
                "kind": "delivery",
                "title": "团购送货：100号楼 1单元（30 户）",
                "status": "open",
                "compound_id": compound,
                "priority": 2,
                "notes": "\n".join(f"{n}01室：蔬菜包（8种）×2、肉蛋包×1" for n in range(30)),
                "order_ids": [new_id() for _ in range(30)],
            },
        }
        for n in range(made)
    ]
    floor_s = 0.0
    for start in range(0, len(rows), SETUP_BATCH):
        batch = {"rows": rows[start : start + SETUP_BATCH]}
        reply = http.request("POST", "/bench/floor/upsert", batch)
        if reply.status != 200:
            raise RuntimeError(f"floor upsert: {reply.status} {reply.body[:200]!r}")
        floor_s += reply.seconds
    return [
        Figure(
            "supplies",
            f"{label} households: delivery tasks at the cut-off",
            "s",
            made_s,
            floor=floor_s,
            note=(
                f"{made:,} tasks made, server.supplies.BATCH_UNITS units a push and"
                f" transaction; floor: the same {len(rows):,} rows upserted"
            ),
        ),
        Figure(
            "supplies",
            f"{label} households: delivery tasks asked again, nothing to do",
            "s",
            again_s,
            floor=query_floor_s,
            note=f"{again} changes; floor: bare pull query of the round's rows",
        ),
    ]


def run(
    base_url: str, db_kind: str, password: str, compounds: dict[str, str], quick: bool
) -> list[Figure]:
    """Measure a round's order and confirm push rates and its picking list against floors."""
    count = QUICK_HOUSEHOLDS if quick else HOUSEHOLDS
    tokens = [
        client.log_in(base_url, "coord", password, f"bench-supplies-{n}") for n in range(CLIENTS)
    ]
    https = [client.Http(base_url, token) for token in tokens]
    try:
        round_id, packages, homes, before, version = setup(https[0], compounds["A"], count)
        shares = [Share(n, round_id, packages, homes[n::CLIENTS]) for n in range(CLIENTS)]
        figures = []
        errors: Counter[str] = Counter()
        for label, real, floor in (
            ("orders", pushed("order"), floored("placed", compounds["C"])),
            ("confirmations", pushed("confirm"), floored("confirmed", compounds["C"])),
        ):
            floor_done, floor_s, floor_errors = run_clients(shares, https, floor)
            done, seconds, problems = run_clients(shares, https, real)
            errors += problems + floor_errors
            figures.append(
                Figure(
                    "supplies",
                    f"{db_kind} {count:,} households: {label}",
                    f"{label}/s",
                    done / seconds if seconds else None,
                    floor=floor_done / floor_s if floor_s else None,
                    target=Target(
                        "at_least",
                        count / WINDOW_S,
                        f"≥ {count / WINDOW_S:.1f}/s (4-h window)",
                        on="value",
                    )
                    if label == "orders"
                    else None,
                    note=f"{done} in {seconds:.1f} s by {CLIENTS} clients, {BATCH} a push; "
                    f"floor {floor_done} rows in {floor_s:.1f} s",
                )
            )
        floor_s, floor_rows = read_floor(https[0], compounds["A"], before)
        for fmt in ("csv", "xlsx"):
            seconds, size, rows = read_export(https[0], fmt, compounds["A"])
            figures.append(
                Figure(
                    "supplies",
                    f"{db_kind} {count:,} households: picking list {fmt.upper()}",
                    "s",
                    seconds,
                    floor=floor_s,
                    target=Target(
                        "at_most", PICKING_BUDGET_S, f"≤ {PICKING_BUDGET_S:.0f} s", on="value"
                    ),
                    note=(f"{rows:,} rows, " if fmt == "csv" else "")
                    + f"{size / 1024:,.0f} KiB; floor: bare pull query of the "
                    f"{floor_rows:,} rows written",
                )
            )
        figures += delivery_figures(
            https[0], (round_id, version), compounds["C"], f"{db_kind} {count:,}", floor_s
        )
        figures.append(
            Figure(
                "supplies",
                f"{db_kind}: errors",
                "errors",
                float(sum(errors.values())),
                target=harness.value_at_most(0, "none"),
                note=", ".join(f"{k} ×{n}" for k, n in errors.most_common()),
            )
        )
        return figures
    finally:
        for http in https:
            http.close()
