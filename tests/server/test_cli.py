"""The ``weiguang`` console script and its commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers import DEMO_PASSWORD
from tests.servers import TEST_SECRET_KEY

WEIGUANG = shutil.which("weiguang", path=os.path.dirname(sys.executable))


def run_cli(*args, env=None):
    assert WEIGUANG, "the weiguang console script is not installed"
    return subprocess.run(
        [WEIGUANG, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WEIGUANG_SECRET_KEY": TEST_SECRET_KEY, **(env or {})},
        check=False,
    )


def test_console_script_is_a_flask_group():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    for command in ("serve", "seed-demo", "routes", "shell", "db"):
        assert command in result.stdout


def test_routes_lists_the_api(tmp_path):
    result = run_cli("routes", env={"WEIGUANG_DATABASE_URL": f"sqlite:///{tmp_path}/r.db"})
    assert result.returncode == 0, result.stderr
    assert "/api/v1/auth/login" in result.stdout


def test_seed_demo_creates_schema_and_data(tmp_path):
    env = {
        "WEIGUANG_DATABASE_URL": f"sqlite:///{tmp_path}/seed.db",
        "WEIGUANG_ARGON2_TIME_COST": "1",
        "WEIGUANG_ARGON2_MEMORY_KIB": "1024",
    }
    first = run_cli("seed-demo", "--password", DEMO_PASSWORD, env=env)
    assert first.returncode == 0, first.stderr
    assert "records by type: compound 3, building " in first.stdout
    second = run_cli("seed-demo", "--password", DEMO_PASSWORD, env=env)
    assert second.returncode == 0, second.stderr
    assert "already there" in second.stdout


def test_seed_demo_needs_a_password(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "--password" in result.output


@pytest.mark.parametrize("password", ["x", "weiguang", "password1", "12345678", "qwertyuiop"])
def test_seed_demo_refuses_a_short_or_common_password(runner, password):
    result = runner.invoke(args=["seed-demo", "--password", password])
    assert result.exit_code == 2
    assert "Invalid value for '--password'" in result.output


def test_serve_without_a_secret_key_says_so_and_stops(tmp_path):
    env = {"WEIGUANG_DATABASE_URL": f"sqlite:///{tmp_path}/k.db", "WEIGUANG_SECRET_KEY": ""}
    result = run_cli("serve", "--port", "1", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: WEIGUANG_SECRET_KEY is not set")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["seed-demo --password x", "serve --port 1"])
def test_database_commands_document_themselves(runner, command):
    result = runner.invoke(args=[command.split()[0], "--help"])
    assert result.exit_code == 0
    assert result.output.startswith("Usage")


def test_shell_has_the_database_and_models(tmp_path):
    assert WEIGUANG
    result = subprocess.run(
        [WEIGUANG, "shell"],
        input="print('dialect', db.engine.dialect.name, models.User.__tablename__)\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "WEIGUANG_DATABASE_URL": f"sqlite:///{tmp_path}/s.db",
            "WEIGUANG_SECRET_KEY": TEST_SECRET_KEY,
        },
    )
    assert "dialect sqlite user_account" in result.stdout + result.stderr
