"""Queries by field: per-building screening progress and the last hour of the gate log.

For each database a throwaway database of its own (no demo seed) is filled
and measured by ``bench/query_worker.py`` in a process that imports the
server; this module only runs it and turns its JSON into figures. The
targets are issue #8's, on the query time itself; the ratio is to the bare
SQL floor of the worker (the same answer from bare typed tables).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench import harness, servers
from bench.harness import Figure

PROGRESS_BUDGET_MS = 200.0
GATE_LOG_BUDGET_MS = 50.0
WORKER_TIMEOUT_S = 900


def run(db_kind: str, quick: bool) -> list[Figure]:
    """Fill a throwaway database of ``db_kind``, time both queries, return the figures."""
    if db_kind == "postgresql" and not servers.postgres_available():
        return [
            harness.missing("queries", f"{db_kind} {name}", "ms", "PostgreSQL not reachable")
            for name in ("screening progress", "gate log")
        ]
    runs = 5 if quick else 21
    with servers.database(db_kind) as url:
        done = subprocess.run(
            [sys.executable, "-m", "bench.query_worker", "--runs", str(runs)],
            env=servers.environment(url),
            cwd=servers.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"query worker failed:\n{done.stdout}{done.stderr}"[-4000:])
    return figures(db_kind, json.loads(done.stdout), runs)


def figures(db_kind: str, result: dict[str, Any], runs: int) -> list[Figure]:
    """Return the two query figures of one database from the worker's result."""
    written = result["written"]
    progress, gate_log = result["progress"], result["gate_log"]
    data = (
        f"{written['records']:,} records written through the SQL store in "
        f"{written['seconds']:.0f} s; median of {runs} runs"
    )
    return [
        Figure(
            "queries",
            f"{db_kind} screening progress, {written['households']:,} households",
            "ms",
            progress["seconds"] * 1000,
            floor=progress["floor_seconds"] * 1000,
            target=harness.value_at_most(PROGRESS_BUDGET_MS, f"< {PROGRESS_BUDGET_MS:.0f} ms"),
            note=(
                f"{progress['buildings']} buildings, {written['visits']:,} visits, "
                f"{written['residents']:,} residents; plan uses "
                f"{', '.join(progress['indexes']) or 'no index'}; {data}"
            ),
        ),
        Figure(
            "queries",
            f"{db_kind} gate log, last hour of {written['gate_events']:,} events",
            "ms",
            gate_log["seconds"] * 1000,
            floor=gate_log["floor_seconds"] * 1000,
            target=harness.value_at_most(GATE_LOG_BUDGET_MS, f"< {GATE_LOG_BUDGET_MS:.0f} ms"),
            note=(
                f"{gate_log['events']} events of one compound; plan uses "
                f"{', '.join(gate_log['indexes']) or 'no index'}; {data}"
            ),
        ),
    ]
