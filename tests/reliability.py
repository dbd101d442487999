"""The reliability ledger: what the fault tests injected and what they found.

Fault tests add a :class:`Row` each *before* asserting, so a failing run
still reports what it saw. At the end of the session the ledger is written
as a Markdown table to the path in ``WEIGUANG_RELIABILITY_REPORT`` (the
committed ``docs/reliability.md`` is such a run's output; nobody edits it by
hand).
"""

from __future__ import annotations

import os
import platform
import time
from collections import Counter
from dataclasses import dataclass, field

REPORT_ENV = "WEIGUANG_RELIABILITY_REPORT"


@dataclass
class Row:
    """One fault test's run: what was injected, how much work, and what went wrong."""

    test: str
    database: str
    faults: Counter[str] = field(default_factory=Counter)
    changesets: int = 0
    lost: int = 0
    duplicated: int = 0
    half_applied: int = 0
    diverged: int = 0


LEDGER: list[Row] = []


def record(row: Row) -> Row:
    """Add ``row`` to the session's ledger and return it."""
    LEDGER.append(row)
    return row


def write_report(path: str) -> None:
    """Write the ledger as ``docs/reliability.md`` reads."""
    lines = [
        "# Reliability",
        "",
        "Written by the test run (`WEIGUANG_RELIABILITY_REPORT=docs/reliability.md"
        " bash scripts/test -k 'patchy or crashes'`); do not edit by hand. Each row is",
        "one fault test: the faults it injected, the changesets the devices made, and what",
        "was lost, applied twice, half-applied or left devices disagreeing with the server.",
        "",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()},"
        f" {os.cpu_count()} cpus.",
        "",
        "| test | database | faults injected | changesets | lost | duplicated | half-applied"
        " | diverged devices |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in LEDGER:
        faults = ", ".join(f"{kind} {n}" for kind, n in sorted(row.faults.items()))
        lines.append(
            f"| {row.test} | {row.database} | {faults} | {row.changesets} | {row.lost}"
            f" | {row.duplicated} | {row.half_applied} | {row.diverged} |"
        )
    with open(path, "w", encoding="utf-8") as report:
        report.write("\n".join(lines) + "\n")
