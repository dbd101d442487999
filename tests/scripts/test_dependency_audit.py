"""The dependency audit fails on an unaccepted vulnerability and on a source it cannot reach."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit.py"


@pytest.fixture
def audit(monkeypatch):
    """Return scripts/audit.py as a module, with its tools replaced by canned reports."""
    spec = importlib.util.spec_from_file_location("dependency_audit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)

    def answer(pip_report, npm_report):
        for name, report in (("PIP_AUDIT", pip_report), ("NPM_AUDIT", npm_report)):
            text = report if isinstance(report, str) else json.dumps(report)
            monkeypatch.setattr(module, name, [sys.executable, "-c", f"print({text!r})"])

    module.answer = answer
    return module


def pip_report(*vulns, skipped=()):
    return {
        "dependencies": [
            {"name": "flask", "version": "3.1.0", "vulns": list(vulns)},
            *({"name": name, "skip_reason": "Dependency not found on PyPI"} for name in skipped),
        ],
        "fixes": [],
    }


def npm_report(*advisories):
    return {
        "auditReportVersion": 2,
        "vulnerabilities": {
            "socket.io-client": {"range": "<4.8.2", "via": [*advisories, "engine.io-client"]}
        }
        if advisories
        else {},
    }


FLASK_VULN = {
    "id": "PYSEC-2099-1",
    "aliases": ["GHSA-aaaa-bbbb-cccc", "CVE-2099-0001"],
    "description": "Something bad.\nMore.",
    "fix_versions": ["3.1.1"],
}
NPM_ADVISORY = {
    "source": 1,
    "url": "https://github.com/advisories/GHSA-dddd-eeee-ffff",
    "title": "t",
}
NPM_UNREACHABLE = {
    "message": "405 Method Not Allowed - POST .../advisories/bulk",
    "statusCode": 405,
}


def test_a_clean_audit_passes(audit, capsys):
    audit.answer(pip_report(), npm_report())
    assert audit.audit({}) == 0
    assert capsys.readouterr().out.count("looked everything up") == 2


@pytest.mark.parametrize(
    ("pip", "npm", "said"),
    [
        (pip_report(FLASK_VULN), npm_report(), "PYSEC-2099-1"),
        (pip_report(), npm_report(NPM_ADVISORY), "GHSA-dddd-eeee-ffff"),
        (pip_report(skipped=["redis"]), npm_report(), "could not look up 1 of 2"),
        ({"dependencies": []}, npm_report(), "no dependencies"),
        ("Traceback: ConnectionError", npm_report(), "gave no report"),
        (pip_report(), NPM_UNREACHABLE, "405 Method Not Allowed"),
        (pip_report(), "npm ERR! network", "gave no report"),
    ],
    ids=["python-vuln", "npm-vuln", "skipped", "empty", "pip-crash", "npm-405", "npm-crash"],
)
def test_a_finding_or_a_source_out_of_reach_fails_loudly(audit, capsys, pip, npm, said):
    audit.answer(pip, npm)
    assert audit.audit({}) == 1
    assert said in capsys.readouterr().err


@pytest.mark.parametrize("accepted", ["PYSEC-2099-1", "GHSA-aaaa-bbbb-cccc", "CVE-2099-0001"])
def test_an_allowlisted_vulnerability_passes_by_any_alias(audit, capsys, accepted):
    audit.answer(pip_report(FLASK_VULN), npm_report(NPM_ADVISORY))
    assert audit.audit({accepted: "not reachable", "GHSA-dddd-eeee-ffff": "dev only"}) == 0
    assert "accepted flask 3.1.0" in capsys.readouterr().out


def test_the_allowlist_needs_a_reason_per_entry(audit, tmp_path):
    allowlist = tmp_path / "audit-allowlist.txt"
    allowlist.write_text("# comment\n\nPYSEC-1  we never call it # really\n")
    assert audit.read_allowlist(allowlist) == {"PYSEC-1": "we never call it # really"}
    allowlist.write_text("PYSEC-1  fine\nGHSA-x\n")
    with pytest.raises(SystemExit, match=r":2: GHSA-x needs a reason"):
        audit.read_allowlist(allowlist)


def test_the_repository_allowlist_reads(audit):
    assert all(reason for reason in audit.read_allowlist(audit.ALLOWLIST).values())
