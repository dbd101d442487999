"""Web (issue #4's budget): shell size, Lighthouse scores and installability.

Sizes are what a device loads at start, as ``scripts/shell-start.js``
measures them for ``tests/web/shell.test.js`` too: gzip (level 9, one file at
a time) of what ``web/index.html`` names and the scripts it imports
statically, with the largest language catalogue a non-default user adds; own
files, and the same plus the vendored scripts among them. Lighthouse 12.2.3, pinned
in ``bench/package-lock.json``, runs its mobile preset against a demo server
with Debian's chromium; installability comes from Chromium's own
``Page.getInstallabilityErrors`` over CDP, through Playwright.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import Figure
from bench.servers import REPO_ROOT

WEB_ROOT = Path(REPO_ROOT) / "web"
BENCH_ROOT = Path(REPO_ROOT) / "bench"
LIGHTHOUSE = BENCH_ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync"
)
SHELL_START = Path(REPO_ROOT) / "scripts" / "shell-start.js"
OWN_BUDGET_BYTES = 150 * 1024
TOTAL_BUDGET_BYTES = 300 * 1024
PERFORMANCE_TARGET = 90
ACCESSIBILITY_TARGET = 95
LIGHTHOUSE_TIMEOUT_S = 240


def launch(pw: Any, profile: str, base_url: str | None = None, locale: str | None = None) -> Any:
    """Launch Debian's Chromium headless on a persistent ``profile`` (an empty device)."""
    options: dict[str, Any] = {"base_url": base_url, "locale": locale}
    return pw.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        args=CHROME_FLAGS.split()[1:],
        **{key: value for key, value in options.items() if value is not None},
    )


INSTALLABILITY_WAIT_S = 15


def shell_sizes() -> tuple[int, int, int]:
    """Return gzipped bytes loaded at start: own files, vendored scripts, and the file count."""
    done = subprocess.run(
        ["node", str(SHELL_START)], capture_output=True, text=True, timeout=120, check=True
    )
    sizes = json.loads(done.stdout)
    return sizes["own"], sizes["vendor"], sizes["files"]


def size_figures() -> list[Figure]:
    """Return the two size figures against their budgets."""
    own, vendor, files = shell_sizes()
    return [
        Figure(
            "web",
            "shell at start, own files (gzip)",
            "KiB",
            own / 1024,
            floor=OWN_BUDGET_BYTES / 1024,
            floor_label="budget",
            target=harness.at_most(1.0, "< 150 KiB"),
            note=f"{files} files loaded at start, a non-default language's catalogue among them",
        ),
        Figure(
            "web",
            "shell at start with web/vendor (gzip)",
            "KiB",
            (own + vendor) / 1024,
            floor=TOTAL_BUDGET_BYTES / 1024,
            floor_label="budget",
            target=harness.at_most(1.0, "< 300 KiB"),
        ),
    ]


def ensure_lighthouse() -> str | None:
    """Install the pinned Lighthouse under ``bench/`` if needed; return why not, if it fails."""
    if LIGHTHOUSE.exists():
        return None
    if shutil.which("npm") is None:
        return "npm not found"
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
        cwd=BENCH_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return None if done.returncode == 0 else f"npm ci failed: {done.stderr[-300:]}"


def lighthouse_scores(url: str) -> dict[str, float]:
    """Run Lighthouse's mobile preset once; return category scores out of 100."""
    with tempfile.TemporaryDirectory(prefix="weiguang-lh-") as folder:
        report = os.path.join(folder, "report.json")
        subprocess.run(
            [
                str(LIGHTHOUSE),
                url,
                "--quiet",
                "--only-categories=performance,accessibility",
                "--output=json",
                f"--output-path={report}",
                f"--chrome-flags={CHROME_FLAGS}",
            ],
            env={**os.environ, "CHROME_PATH": CHROMIUM},
            capture_output=True,
            timeout=LIGHTHOUSE_TIMEOUT_S,
            check=True,
        )
        with open(report, encoding="utf-8") as result:
            categories = json.load(result)["categories"]
    return {name: float(c["score"] or 0) * 100 for name, c in categories.items()}


def lighthouse_figures(url: str, runs: int) -> list[Figure]:
    """Return the performance and accessibility figures (median of ``runs``)."""
    names = (("performance", PERFORMANCE_TARGET), ("accessibility", ACCESSIBILITY_TARGET))
    why = ensure_lighthouse()
    if why is None:
        try:
            scores = [lighthouse_scores(url) for _ in range(runs)]
        except (subprocess.SubprocessError, OSError, KeyError, ValueError) as error:
            why = f"lighthouse failed: {error!r}"[:300]
    if why is not None:
        return [harness.missing("web", f"lighthouse {n}", "", why) for n, _ in names]
    figures = []
    for name, target in names:
        values = [s[name] for s in scores]
        figures.append(
            Figure(
                "web",
                f"lighthouse {name} (mobile)",
                "/100",
                harness.median(values),
                floor=float(target),
                floor_label="target",
                target=harness.at_least(1.0, f"≥ {target}"),
                note=f"runs: {', '.join(f'{v:.0f}' for v in values)}",
            )
        )
    return figures


def installability_errors(url: str) -> list[str]:
    """Open the app in chromium and return ``Page.getInstallabilityErrors``' list."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="weiguang-pw-") as profile, sync_playwright() as pw:
        context = launch(pw, profile)
        try:
            page = context.new_page()
            page.goto(url, wait_until="load")
            cdp = context.new_cdp_session(page)
            deadline = time.monotonic() + INSTALLABILITY_WAIT_S
            errors: list[str] = []
            while time.monotonic() < deadline:  # the manifest may still be loading
                found = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
                errors = [
                    e["errorId"]
                    + "".join(f" {a['name']}={a['value']}" for a in e["errorArguments"])
                    for e in found
                ]
                if not errors:
                    break
                page.wait_for_timeout(500)
            return errors
        finally:
            context.close()


def installability_figure(url: str) -> Figure:
    """Return the installability figure: the count of errors, which must be 0."""
    name = "installability errors"
    try:
        errors = installability_errors(url)
    except Exception as error:  # Playwright raises its own error types
        return harness.missing("web", name, "", f"playwright failed: {error!r}"[:300])
    return Figure(
        "web",
        name,
        "errors",
        float(len(errors)),
        target=harness.value_at_most(0, "none"),
        note="; ".join(errors) or "none",
    )


def run(base_url: str, quick: bool) -> list[Figure]:
    """Measure every web figure against the demo server at ``base_url``."""
    url = base_url + "/"
    return [
        *size_figures(),
        *lighthouse_figures(url, runs=1 if quick else 3),
        installability_figure(url),
    ]
