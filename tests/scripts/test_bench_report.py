"""``python -m bench --only ...`` runs merge their sections into one report, safely in parallel."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from bench import __main__ as bench_main
from bench import harness

SECTIONS = ("pull", "live", "push", "ceiling", "supplies", "scale", "queries", "device")


def write_section(path: str, section: str) -> None:
    """Write one figure of ``section`` as an ``--only`` run would."""
    figure = harness.Figure(section, f"{section} figure", "ms", 1.0, floor=2.0)
    run = harness.Run("2026-11-30 12:00 UTC", f"python -m bench --only {section}", {"cpus": "2"})
    bench_main.write_report(path, [figure], [section], run)


def test_parallel_only_runs_keep_every_section(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=write_section, args=(str(report), section)) for section in SECTIONS
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    stored = json.loads((tmp_path / "benchmarks.json").read_text(encoding="utf-8"))
    assert sorted(stored["sections"]) == sorted(SECTIONS)
    text = report.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"| {section}: {section} figure |" in text


def test_a_rerun_replaces_only_its_own_section(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    write_section(str(report), "pull")
    write_section(str(report), "live")
    write_section(str(report), "pull")
    stored = json.loads((tmp_path / "benchmarks.json").read_text(encoding="utf-8"))
    assert sorted(stored["sections"]) == ["live", "pull"]
    assert len(stored["sections"]["pull"]["figures"]) == 1
    assert report.read_text(encoding="utf-8").count("| pull: pull figure |") == 1
