"""The README's two commands and CI's: what they install, where they refuse, what they pass on.

They run in a copy of the scripts whose ``.venv/bin/python`` and
``weiguang`` are stand-ins that only write down how they were called, so
nothing is installed, seeded or served.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
STAND_IN = """#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/calls.log"
"""


@pytest.fixture
def checkout(tmp_path):
    """Return a copy of the scripts and packaging files with a stand-in .venv.

    Its ``python`` and ``weiguang`` write down how they were called, in
    ``.venv/bin/calls.log``, and do nothing else.
    """
    for name in ("scripts", ".ci"):
        shutil.copytree(ROOT / name, tmp_path / name)
    for name in ("setup.cfg", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "weiguang"):
        (bin_dir / name).write_text(STAND_IN)
        (bin_dir / name).chmod(0o755)
    return tmp_path


def run_demo(checkout, **env):
    """Run scripts/run-demo in ``checkout`` with ``env`` added; return the finished process."""
    return subprocess.run(
        ["bash", "scripts/run-demo"],
        cwd=checkout,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def source_venv(checkout, extras):
    """Source venv.sh as the scripts do; return the pip installs it ran."""
    log = checkout / ".venv" / "bin" / "calls.log"
    log.unlink(missing_ok=True)
    subprocess.run(
        ["bash", "-c", 'source scripts/venv.sh "$1"', "-", extras],
        cwd=checkout,
        check=True,
        capture_output=True,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return [call.split()[-1] for call in calls if "install" in call and "-e" in call.split()]


def test_run_demo_installs_only_what_running_needs_then_seeds_and_serves(checkout):
    port = free_port()
    result = run_demo(checkout, PORT=str(port), WEIGUANG_DEMO_PASSWORD="pw-of-the-demo")
    assert result.returncode == 0, result.stderr
    calls = (checkout / ".venv" / "bin" / "calls.log").read_text().splitlines()
    installs = [call.split()[-1] for call in calls if "-e" in call.split()]
    assert installs == ["."]
    assert calls[-2:] == [
        "seed-demo --password pw-of-the-demo",
        f"serve --host 127.0.0.1 --port {port}",
    ]


@pytest.mark.parametrize(
    "steps",
    [
        # (extras asked, what pip installs); the stamp remembers what is there
        [("", "."), ("", None), ("test", ".[test]"), ("", None), ("test", None)],
        [("test", ".[test]"), ("test,bench", ".[bench,test]"), ("test", None)],
        [("test,bench", ".[bench,test]"), ("", None), ("bench", None)],
    ],
    ids=["demo-then-tests", "tests-then-bench", "bench-first"],
)
def test_venv_installs_each_extra_once_and_only_when_asked(checkout, steps):
    for extras, installed in steps:
        assert source_venv(checkout, extras) == ([installed] if installed else []), extras


def test_venv_installs_again_when_the_packaging_changes(checkout):
    assert source_venv(checkout, "test") == [".[test]"]
    with (checkout / "setup.cfg").open("a") as setup:
        setup.write("\n# a new pin\n")
    # After a change only what is asked is current: the demo gets no test tools.
    assert source_venv(checkout, "") == ["."]
    assert source_venv(checkout, "test") == [".[test]"]


@pytest.fixture
def busy_port():
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield holder.getsockname()[1]


def test_run_demo_on_a_busy_port_says_which_and_how_to_choose_another(checkout, busy_port):
    result = run_demo(checkout, PORT=str(busy_port))
    assert result.returncode != 0
    assert f"Port {busy_port} on 127.0.0.1 is already in use" in result.stderr
    assert f"PORT={busy_port + 1} bash scripts/run-demo" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    # It checked before installing or seeding anything.
    assert not (checkout / ".venv" / "bin" / "calls.log").exists()


@pytest.mark.parametrize("port", ["abc", "0", "70000", "-1"])
def test_run_demo_refuses_a_port_that_is_not_one(checkout, port):
    result = run_demo(checkout, PORT=port)
    assert result.returncode != 0
    assert f"PORT must be a port number (1-65535), not '{port}'" in result.stderr


def test_ci_audits_then_passes_its_arguments_on_to_the_test_command(checkout):
    (checkout / "scripts" / "test").write_text('echo "CI=$CI args:$*"\n')
    ledger = checkout / "audit.json"
    result = subprocess.run(
        ["bash", ".ci/run", "-k", "live and not browser", "-x"],
        cwd=checkout,
        env={**os.environ, "WEIGUANG_AUDIT_LEDGER": str(ledger)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == "CI=true args:-k live and not browser -x"
    calls = (checkout / ".venv" / "bin" / "calls.log").read_text().splitlines()
    assert f"scripts/audit.py --ledger {ledger}" in calls
