"""Audit the dependencies for known vulnerabilities: pip-audit and npm audit.

Python: pip-audit over the installed environment (``.venv``), asking PyPI's
vulnerability data (``--vulnerability-service pypi``). Web: ``npm audit``
over package-lock.json, which pins the vendored browser libraries.

Fails (exit 1) on a known vulnerability that ``audit-allowlist.txt`` does
not accept, and — loudly — when a vulnerability source cannot be reached or
a dependency could not be looked up: an audit that could not look is no
pass. Accepting a vulnerability is one line of the allowlist: its id (any of
its aliases: PYSEC-, GHSA-, CVE-), then the reason. An entry without a
reason is an error.

Usage: bash scripts/audit (which runs this with the project's .venv).
"""

from __future__ import annotations

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
]
NPM_AUDIT = ["npm", "audit", "--json", "--package-lock-only"]


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
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    except OSError as error:
        raise Unaudited(f"{what}: cannot run {command[0]}: {error.strerror}") from None
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


def audit(allowlist: dict[str, str]) -> int:
    """Run both audits; print what they found; return the exit status."""
    failures, used = [], set()
    for what, command, read in (
        ("pip-audit", PIP_AUDIT, python_findings),
        ("npm audit", NPM_AUDIT, npm_findings),
    ):
        try:
            findings = read(run_json(command, what))
        except Unaudited as error:
            failures.append(f"NOT AUDITED — {error}")
            continue
        for finding in findings:
            accepted = finding.ids & allowlist.keys()
            if accepted:
                used |= accepted
                print(f"{what}: accepted {finding} ({allowlist[min(accepted)]})")
            else:
                failures.append(f"{what}: {finding}")
        print(f"{what}: looked everything up; {len(findings)} known vulnerabilities")
    for stale in sorted(allowlist.keys() - used):
        print(f"note: {stale} in {ALLOWLIST.name} matched nothing: remove it if it is fixed")
    for failure in failures:
        print(f"AUDIT FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(audit(read_allowlist(ALLOWLIST)))
