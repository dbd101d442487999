"""Audit the dependencies for known vulnerabilities: pip-audit and npm audit.

Python: pip-audit over the installed environment (``.venv``), asking PyPI's
vulnerability data (``--vulnerability-service pypi``). Web: ``npm audit``
over package-lock.json, which pins the vendored browser libraries.

Fails (exit 1) on a known vulnerability that ``audit-allowlist.txt`` does
not accept. When a vulnerability source cannot be reached, or a dependency
could not be looked up, that audit did *not run*: it says so in a banner on
stderr and in the ledger (``--ledger PATH``: JSON, tool → result, which the
test run copies into ``docs/reliability.md``), and that alone does not fail
(exit 0): an audit that could not look is no pass, and no finding either.
Every tool is given short network timeouts, so an unreachable source costs
seconds, never a hang. Accepting a vulnerability is one line of the
allowlist: its id (any of its aliases: PYSEC-, GHSA-, CVE-), then the
reason. An entry without a reason is an error.

Usage: bash scripts/audit [--ledger PATH] (runs this with the project's .venv);
``.ci/run`` runs it before the tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "audit-allowlist.txt"
PIP_AUDIT = [
    sys.executable,
    "-m",
    "pip_audit",
    "--vulnerability-service",
    "pypi",
    "--skip-editable",  # Weiguang itself: not on PyPI
    "--format",
    "json",
    "--progress-spinner",
    "off",
    "--timeout",
    "10",  # seconds per request
]
NPM_AUDIT = [
    "npm",
    "audit",
    "--json",
    "--package-lock-only",
    "--fetch-timeout=10000",  # milliseconds
    "--fetch-retries=0",
]
#: The longest one tool may run, in seconds, however its requests fare.
TOOL_TIMEOUT_S = 120
#: What the ledger says of a tool whose source could not be reached.
NOT_RUN = "not run — source unreachable"


class Unaudited(Exception):
    """A vulnerability source could not be reached, or a dependency not looked up."""


@dataclass(frozen=True)
class Finding:
    """One known vulnerability of one installed package."""

    package: str
    version: str
    ids: frozenset[str]
    summary: str

    def __str__(self) -> str:
        return f"{self.package} {self.version}: {', '.join(sorted(self.ids))} — {self.summary}"


def read_allowlist(path: Path) -> dict[str, str]:
    """Return the accepted vulnerability ids and their reasons; reject an entry with none."""
    accepted = {}
    if not path.exists():
        return accepted
    for number, line in enumerate(path.read_text().splitlines(), 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        vuln_id, _, reason = entry.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path.name}:{number}: {vuln_id} needs a reason after its id.")
        accepted[vuln_id] = reason.strip()
    return accepted


def run_json(command: list[str], what: str) -> dict[str, object]:
    """Run an audit tool and return its JSON report, or raise :class:`Unaudited`."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            timeout=TOOL_TIMEOUT_S,
        )
    except OSError as error:
        raise Unaudited(f"{what}: cannot run {command[0]}: {error.strerror}") from None
    except subprocess.TimeoutExpired:
        raise Unaudited(f"{what} gave no report within {TOOL_TIMEOUT_S} s") from None
    try:
        report = json.loads(done.stdout)
    except ValueError:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise Unaudited(
            f"{what} gave no report (exit {done.returncode}): {' | '.join(tail)}"
        ) from None
    if not isinstance(report, dict):
        raise Unaudited(f"{what} gave an unexpected report: {done.stdout[:200]}")
    return report


def python_findings(report: dict[str, object]) -> list[Finding]:
    """Read pip-audit's JSON report; raise :class:`Unaudited` for any dependency not looked up."""
    dependencies = report.get("dependencies")
    if not isinstance(dependencies, list) or not dependencies:
        raise Unaudited("pip-audit listed no dependencies")
    skipped = [f"{d['name']} ({d['skip_reason']})" for d in dependencies if d.get("skip_reason")]
    if skipped:
        raise Unaudited(
            f"pip-audit could not look up {len(skipped)} of {len(dependencies)} packages "
            f"(is PyPI's JSON API reachable?): {'; '.join(skipped[:3])}"
        )
    return [
        Finding(d["name"], d["version"], frozenset([v["id"], *v.get("aliases", [])]), summary(v))
        for d in dependencies
        for v in d.get("vulns", [])
    ]


def npm_findings(report: dict[str, object]) -> list[Finding]:
    """Read ``npm audit --json``; raise :class:`Unaudited` when it reached no advisory data."""
    vulnerabilities = report.get("vulnerabilities")
    if not isinstance(vulnerabilities, dict):
        problem = report.get("message") or report.get("error") or report
        raise Unaudited(f"npm audit reached no advisory data: {json.dumps(problem)[:300]}")
    return [
        Finding(name, entry.get("range", "?"), frozenset({advisory_id(via)}), via.get("title", ""))
        for name, entry in vulnerabilities.items()
        for via in entry.get("via", [])
        if isinstance(via, dict)  # a string names another package's advisory
    ]


def advisory_id(via: dict[str, object]) -> str:
    """Return an npm advisory's GHSA id (the end of its URL), else its source number."""
    url = str(via.get("url") or "")
    return url.rstrip("/").rsplit("/", 1)[-1] if url else str(via.get("source"))


def summary(vuln: dict[str, object]) -> str:
    """Return the first line of a vulnerability's description, shortened."""
    text = str(vuln.get("description") or "").strip().splitlines()
    fixed = vuln.get("fix_versions") or []
    return (text[0][:120] if text else "") + (f" (fixed in {', '.join(fixed)})" if fixed else "")


def audit(allowlist: dict[str, str], ledger: Path | None = None) -> int:
    """Run both audits; print what they found; return the exit status.

    1 when a known vulnerability is not accepted; a tool that could not
    reach its source is reported loudly (and in ``ledger``) but alone gives 0.
    """
    failures, unreached, used = [], [], set()
    results: dict[str, str] = {}
    for what, command, read in (
        ("pip-audit", PIP_AUDIT, python_findings),
        ("npm audit", NPM_AUDIT, npm_findings),
    ):
        try:
            findings = read(run_json(command, what))
        except Unaudited as error:
            unreached.append(str(error))
            results[what] = f"{NOT_RUN} ({str(error)[:160]})"
            continue
        refused = []
        for finding in findings:
            accepted = finding.ids & allowlist.keys()
            if accepted:
                used |= accepted
                print(f"{what}: accepted {finding} ({allowlist[min(accepted)]})")
            else:
                refused.append(f"{what}: {finding}")
        failures += refused
        print(f"{what}: looked everything up; {len(findings)} known vulnerabilities")
        results[what] = (
            f"failed — {len(refused)} known vulnerabilities not accepted"
            if refused
            else f"passed — {len(findings)} known vulnerabilities, all accepted"
        )
    for stale in sorted(allowlist.keys() - used):
        print(f"note: {stale} in {ALLOWLIST.name} matched nothing: remove it if it is fixed")
    if unreached:
        banner = "!" * 72
        print(banner, file=sys.stderr)
        print(f"DEPENDENCY AUDIT {NOT_RUN.upper()}:", file=sys.stderr)
        for reason in unreached:
            print(f"  {reason}", file=sys.stderr)
        print("Nothing is known about these dependencies' vulnerabilities.", file=sys.stderr)
        print(banner, file=sys.stderr)
    for failure in failures:
        print(f"AUDIT FAILED: {failure}", file=sys.stderr)
    if ledger is not None:
        ledger.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the audit."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledger", type=Path, help="write each tool's result here (JSON)")
    args = parser.parse_args(argv)
    return audit(read_allowlist(ALLOWLIST), args.ledger)


if __name__ == "__main__":
    sys.exit(main())
