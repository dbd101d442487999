"""The dependency audit fails on an unaccepted vulnerability; a source out of reach is "not run".

The tools are replaced by canned reports (a fake advisory source): a finding
not in the allowlist fails, whichever tool found it and whatever the other
could reach; a source out of reach is said loudly, written to the ledger the
test run copies into docs/reliability.md, and alone does not fail CI.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests import reliability

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


def results(ledger):
    return json.loads(ledger.read_text(encoding="utf-8"))


def test_a_clean_audit_passes(audit, capsys, tmp_path):
    audit.answer(pip_report(), npm_report())
    assert audit.audit({}, tmp_path / "ledger") == 0
    assert capsys.readouterr().out.count("looked everything up") == 2
    assert all(r.startswith("passed") for r in results(tmp_path / "ledger").values())


@pytest.mark.parametrize(
    ("pip", "npm", "said"),
    [
        (pip_report(FLASK_VULN), npm_report(), "PYSEC-2099-1"),
        (pip_report(), npm_report(NPM_ADVISORY), "GHSA-dddd-eeee-ffff"),
        ("Traceback: ConnectionError", npm_report(NPM_ADVISORY), "GHSA-dddd-eeee-ffff"),
        (pip_report(FLASK_VULN), NPM_UNREACHABLE, "PYSEC-2099-1"),
    ],
    ids=["python-vuln", "npm-vuln", "npm-vuln-pip-unreached", "python-vuln-npm-unreached"],
)
def test_an_unaccepted_vulnerability_fails(audit, capsys, tmp_path, pip, npm, said):
    audit.answer(pip, npm)
    assert audit.audit({}, tmp_path / "ledger") == 1
    failed = [line for line in capsys.readouterr().err.splitlines() if "AUDIT FAILED" in line]
    assert len(failed) == 1
    assert said in failed[0]
    assert any(r.startswith("failed") for r in results(tmp_path / "ledger").values())


@pytest.mark.parametrize(
    ("pip", "npm", "said"),
    [
        (pip_report(skipped=["redis"]), npm_report(), "could not look up 1 of 2"),
        ({"dependencies": []}, npm_report(), "no dependencies"),
        ("Traceback: ConnectionError", npm_report(), "gave no report"),
        (pip_report(), NPM_UNREACHABLE, "405 Method Not Allowed"),
        (pip_report(), "npm ERR! network", "gave no report"),
    ],
    ids=["skipped", "empty", "pip-crash", "npm-405", "npm-crash"],
)
def test_a_source_out_of_reach_is_said_loudly_and_alone_does_not_fail(
    audit, capsys, tmp_path, pip, npm, said
):
    audit.answer(pip, npm)
    assert audit.audit({}, tmp_path / "ledger") == 0
    err = capsys.readouterr().err
    assert "DEPENDENCY AUDIT NOT RUN — SOURCE UNREACHABLE" in err
    assert said in err
    assert next(r for r in results(tmp_path / "ledger").values() if said in r).startswith(
        "not run — source unreachable"
    )


def test_a_tool_that_hangs_is_cut_short(audit, capsys, monkeypatch):
    monkeypatch.setattr(audit, "PIP_AUDIT", [sys.executable, "-c", "import time; time.sleep(30)"])
    monkeypatch.setattr(audit, "NPM_AUDIT", [sys.executable, "-c", "print('{}')"])
    monkeypatch.setattr(audit, "TOOL_TIMEOUT_S", 0.5)
    assert audit.audit({}) == 0
    assert "pip-audit gave no report within 0.5 s" in capsys.readouterr().err


def test_the_network_timeouts_are_short(audit):
    pip_timeout = int(audit.PIP_AUDIT[audit.PIP_AUDIT.index("--timeout") + 1])
    npm_timeout = next(a for a in audit.NPM_AUDIT if a.startswith("--fetch-timeout="))
    assert pip_timeout <= 15
    assert int(npm_timeout.partition("=")[2]) <= 15_000
    assert "--fetch-retries=0" in audit.NPM_AUDIT


def test_the_ledger_tells_what_the_audit_did(audit, tmp_path, monkeypatch):
    audit.answer(pip_report(), NPM_UNREACHABLE)
    audit.audit({}, tmp_path / "ledger")
    lines = reliability.audit_lines(str(tmp_path / "ledger"))
    assert lines[0].startswith("- dependency audit, npm audit: not run — source unreachable")
    assert lines[1].startswith("- dependency audit, pip-audit: passed")
    assert "not run" in reliability.audit_lines(None)[0]
    report = tmp_path / "reliability.md"
    monkeypatch.setenv(reliability.AUDIT_ENV, str(tmp_path / "ledger"))
    reliability.write_report(str(report))
    assert "npm audit: not run — source unreachable" in report.read_text(encoding="utf-8")


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
