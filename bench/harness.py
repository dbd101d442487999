"""Figures, statistics, the printed table and the Markdown report.

A :class:`Figure` is one measured value next to the floor (or budget) it is
held against, their ratio, and the target on that ratio. A figure whose
endpoint is missing, or whose section failed, keeps ``value=None`` and says
why in its note, so a run always reports every figure it was asked for.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """A bound on a figure's ratio (or, ``on="value"``, on the value itself)."""

    kind: str
    bound: float
    text: str
    on: str = "ratio"

    def holds(self, measured: float) -> bool:
        """Tell whether ``measured`` (the ratio or the value) meets the target."""
        return measured >= self.bound if self.kind == "at_least" else measured <= self.bound


def at_least(bound: float, text: str) -> Target:
    """Return a target the ratio must reach."""
    return Target("at_least", bound, text)


def at_most(bound: float, text: str) -> Target:
    """Return a target the ratio must stay under (or at)."""
    return Target("at_most", bound, text)


def value_at_most(bound: float, text: str) -> Target:
    """Return a target on the value itself (a count of errors, say)."""
    return Target("at_most", bound, text, on="value")


@dataclass
class Figure:
    """One measured value, its floor or budget, their ratio and its target."""

    section: str
    name: str
    unit: str
    value: float | None
    floor: float | None = None
    target: Target | None = None
    note: str = ""
    floor_label: str = "floor"

    @property
    def ratio(self) -> float | None:
        """Return value / floor, or None when either is missing or the floor is 0."""
        if self.value is None or self.floor in (None, 0):
            return None
        return self.value / self.floor  # type: ignore[operator]

    @property
    def verdict(self) -> str:
        """Return PASS, FAIL, MISSING (no value) or ``-`` (no target)."""
        if self.value is None:
            return "MISSING"
        if self.target is None:
            return "-"
        measured = self.value if self.target.on == "value" else self.ratio
        if measured is None:
            return "MISSING"
        return "PASS" if self.target.holds(measured) else "FAIL"


def missing(section: str, name: str, unit: str, why: str, target: Target | None = None) -> Figure:
    """Return a figure that could not be measured, saying why."""
    return Figure(section, name, unit, None, target=target, note=why)


@dataclass
class Stopwatch:
    """Bound a loop by a count and a wall-clock budget, whichever ends first."""

    max_count: int
    max_seconds: float
    started: float = field(default_factory=time.perf_counter)
    count: int = 0

    def more(self) -> bool:
        """Tell whether another round may start; count it if so."""
        if self.count >= self.max_count or self.elapsed() >= self.max_seconds:
            return False
        self.count += 1
        return True

    def elapsed(self) -> float:
        """Return seconds since the stopwatch started."""
        return time.perf_counter() - self.started


def percentile(samples: Sequence[float], share: float) -> float:
    """Return the ``share`` percentile (0..1) by the nearest-rank method."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def median(samples: Iterable[float]) -> float:
    """Return the median, or NaN for no samples."""
    values = list(samples)
    return statistics.median(values) if values else math.nan


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """Run ``action``; return its result and the seconds it took."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def threads_cpu_seconds(pid: int) -> float:
    """Return the CPU time process ``pid``'s live threads have run so far, in seconds.

    The sum of each thread's on-CPU time in ``/proc/<pid>/task/*/schedstat``
    (nanoseconds): ``/proc/<pid>/stat``'s clock ticks (10 ms) are too coarse
    for a ceiling trial's ~40 ms. Threads that have ended are not counted.

    :raises OSError: if there is no such process.
    """
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as schedstat:
                total += int(schedstat.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):  # the thread ended since the listing
            continue
    return total / 1e9


def number(value: float | None) -> str:
    """Format a value with three significant figures, thousands separated."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:.{digits}f}"


def ratio_text(figure: Figure) -> str:
    """Format a figure's ratio as ``0.52×``."""
    ratio = figure.ratio
    return "—" if ratio is None else f"{number(ratio)}×"


def rows_of(figures: Sequence[Figure]) -> list[list[str]]:
    """Return the table rows of ``figures`` (header first)."""
    header = ["figure", "measured", "floor / budget", "ratio", "target", "result"]
    rows = [header]
    for f in figures:
        measured = "—" if f.value is None else f"{number(f.value)} {f.unit}"
        floor = "—" if f.floor is None else f"{number(f.floor)} {f.unit} ({f.floor_label})"
        target = f.target.text if f.target else "—"
        rows.append([f"{f.section}: {f.name}", measured, floor, ratio_text(f), target, f.verdict])
    return rows


def text_table(figures: Sequence[Figure]) -> str:
    """Return the figures as an aligned plain-text table, notes below."""
    rows = rows_of(figures)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    notes = [f"- {f.section}: {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def markdown_table(figures: Sequence[Figure]) -> str:
    """Return the figures as a Markdown table."""
    rows = rows_of(figures)
    out = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(rows[0])]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows[1:]]
    return "\n".join(out)


def memory_text() -> str:
    """Return the machine's total memory from ``/proc/meminfo``."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def command_version(*command: str) -> str:
    """Return the first line a ``--version`` style command prints, or ``unknown``."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"


def machine() -> dict[str, str]:
    """Describe the machine and the software the figures were measured on."""
    import sqlite3
    from importlib.metadata import version

    packages = ("flask", "sqlalchemy", "eventlet", "python-socketio", "psycopg2-binary")
    return {
        "cpus": f"{len(os.sched_getaffinity(0))} (nproc)",
        "memory": memory_text(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": ", ".join(f"{name} {version(name)}" for name in packages),
    }


@dataclass(frozen=True)
class Run:
    """One bench invocation: when, the command line, and the machine it ran on."""

    when: str
    command: str
    facts: dict[str, str]


def figure_json(figure: Figure) -> dict[str, Any]:
    """Return ``figure`` as JSON data (for ``docs/benchmarks.json``)."""
    return asdict(figure)


def figure_from_json(data: dict[str, Any]) -> Figure:
    """Rebuild a figure from :func:`figure_json`'s output."""
    target = data.get("target")
    return Figure(**{**data, "target": Target(**target) if target else None})


def merge_runs(
    previous: dict[str, Any], figures: Sequence[Figure], sections: Sequence[str], run: Run
) -> dict[str, Any]:
    """Return the stored results with ``sections`` replaced by this run's figures.

    A section this run did not measure keeps its figures and its run, so that
    ``--only load`` refreshes the load figures without dropping the others;
    every figure stays beside the floor measured in its own run.
    """
    kept = {
        name: section
        for name, section in previous.get("sections", {}).items()
        if name not in sections
    }
    for name in sections:
        kept[name] = {
            "run": asdict(run),
            "figures": [figure_json(f) for f in figures if f.section == name],
        }
    return {"sections": kept}


def markdown_report(stored: dict[str, Any], order: Sequence[str], method: str) -> str:
    """Return ``docs/benchmarks.md`` from the stored results: runs, figures, notes, method."""
    runs: list[Run] = []
    blocks: list[tuple[int, list[Figure]]] = []
    for name in [*order, *sorted(set(stored["sections"]) - set(order))]:
        section = stored["sections"].get(name)
        if section is None:
            continue
        run = Run(**section["run"])
        if run not in runs:
            runs.append(run)
        blocks.append((runs.index(run) + 1, [figure_from_json(f) for f in section["figures"]]))
    facts = sorted({key for run in runs for key in run.facts}, key=list(runs[0].facts).index)
    lines = [
        "# Benchmarks",
        "",
        "Written by `bash scripts/bench` (`python -m bench`); do not edit by hand.",
        "Every figure is held against a floor measured in the same run on the same",
        "server, or against a fixed budget; the ratio is measured / floor. A run with",
        "`--only` refreshes its sections and keeps the others as last measured; the run",
        "column says which run each figure comes from (raw data: `docs/benchmarks.json`).",
        "",
        "| run | " + " | ".join(str(n) for n in range(1, len(runs) + 1)) + " |",
        "| --- |" + " --- |" * len(runs),
        "| when | " + " | ".join(run.when for run in runs) + " |",
        "| command | " + " | ".join(f"`{run.command}`" for run in runs) + " |",
        *[
            f"| {key} | " + " | ".join(run.facts.get(key, "") for run in runs) + " |"
            for key in facts
        ],
        "",
        "## Figures",
        "",
    ]
    table = markdown_table([f for _, figures in blocks for f in figures]).split("\n")
    run_of = [str(n) for n, figures in blocks for _ in figures]
    lines.append(table[0] + " run |")
    lines.append(table[1] + " --- |")
    lines += [row + f" {n} |" for row, n in zip(table[2:], run_of, strict=True)]
    lines.append("")
    notes = [f"- **{f.section}: {f.name}**: {f.note}" for _, fs in blocks for f in fs if f.note]
    if notes:
        lines += ["## Notes", "", *notes, ""]
    lines += ["## How each figure is measured", "", method.strip(), ""]
    return "\n".join(lines)


def describe(values: dict[str, Any]) -> str:
    """Format a small mapping as ``key value, key value``."""
    return ", ".join(f"{key} {value}" for key, value in values.items())
