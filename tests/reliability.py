"""The reliability ledger: what the fault tests injected and what they found.

Fault tests add a :class:`Row` each *before* asserting, so a failing run
still reports what it saw. At the end of the session the ledger is written
as a Markdown table to the path in ``WEIGUANG_RELIABILITY_REPORT`` (the
committed ``docs/reliability.md`` is such a run's output; nobody edits it by
hand).
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections import Counter
from dataclasses import dataclass, field

REPORT_ENV = "WEIGUANG_RELIABILITY_REPORT"
#: Where ``.ci/run`` had the dependency audit write its results (``scripts/audit.py --ledger``).
AUDIT_ENV = "WEIGUANG_AUDIT_LEDGER"


@dataclass
class Row:
    """One fault test's run: what was injected, how much work, and what went wrong."""

    test: str
    database: str
    faults: Counter[str] = field(default_factory=Counter)
    runs: int = 1
    changesets: int = 0
    lost: int = 0
    duplicated: int = 0
    half_applied: int = 0
    diverged: int = 0
    bad_inputs: int = 0
    server_errors: int = 0
    scope_checks: int = 0


LEDGER: list[Row] = []


def record(row: Row) -> Row:
    """Add ``row`` to the session's ledger and return it."""
    LEDGER.append(row)
    return row


def merged(rows: list[Row]) -> list[Row]:
    """Return one row per test and database, adding up the runs of parametrised tests."""
    out: dict[tuple[str, str], Row] = {}
    for row in rows:
        key = (row.test, row.database)
        if key not in out:
            out[key] = Row(row.test, row.database, runs=0)
        total = out[key]
        total.faults.update(row.faults)
        for name in (
            "runs",
            "changesets",
            "lost",
            "duplicated",
            "half_applied",
            "diverged",
            "bad_inputs",
            "server_errors",
            "scope_checks",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return list(out.values())


def write_report(path: str) -> None:
    """Write the ledger as ``docs/reliability.md`` reads."""
    lines = [
        "# Reliability",
        "",
        "Written by the test run (`WEIGUANG_RELIABILITY_REPORT=docs/reliability.md"
        " bash scripts/test`; `.ci/run` does so); do not edit by hand. Each row is one"
        " kind of test, its runs added up: the faults it injected, the changesets the"
        " devices made, what was lost, applied twice, half-applied or left devices"
        " disagreeing with the server, the bad inputs it tried and the server errors"
        " (500) they caused, and the role-and-scope checks that passed.",
        "",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()},"
        f" {os.cpu_count()} cpus.",
        "",
        "| test | database | faults injected | runs | changesets | lost | duplicated"
        " | half-applied | diverged devices | bad inputs tried | 500s | scope checks passed |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in merged(LEDGER):
        faults = ", ".join(f"{kind} {n}" for kind, n in sorted(row.faults.items())) or "none"
        lines.append(
            f"| {row.test} | {row.database} | {faults} | {row.runs} | {row.changesets}"
            f" | {row.lost} | {row.duplicated} | {row.half_applied} | {row.diverged}"
            f" | {row.bad_inputs} | {row.server_errors} | {row.scope_checks} |"
        )
    lines += ["", "## Dependency audit", "", *audit_lines(os.environ.get(AUDIT_ENV))]
    with open(path, "w", encoding="utf-8") as report:
        report.write("\n".join(lines) + "\n")


def audit_lines(ledger: str | None) -> list[str]:
    """Return the ledger's lines on the dependency audit from its results file, if any.

    :param ledger: the path ``scripts/audit.py --ledger`` wrote (JSON: tool → result).
    """
    results: dict[str, str] = {}
    if ledger and os.path.exists(ledger):
        with open(ledger, encoding="utf-8") as text:
            results = json.loads(text.read() or "{}")
    if not results:
        return ["- dependency audit: not run — only `.ci/run` runs it (`bash scripts/audit`)"]
    return [f"- dependency audit, {tool}: {result}" for tool, result in sorted(results.items())]
