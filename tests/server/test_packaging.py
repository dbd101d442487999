"""A regular (not editable) install carries everything the server serves."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_has_migrations_templates_and_the_pwa(tmp_path):
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("weiguang-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "server/templates/api_docs.html" in names
    assert "server/static/api_docs.css" in names
    assert any(n.startswith("server/migrations/versions/") and n.endswith(".py") for n in names)
    assert "server/migrations/env.py" in names
    web = {
        n.split(".data/data/share/weiguang/web/", 1)[1]
        for n in names
        if "/share/weiguang/web/" in n
    }
    shipped = {str(p.relative_to(ROOT / "web")) for p in (ROOT / "web").rglob("*") if p.is_file()}
    assert web == shipped
