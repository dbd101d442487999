"""Keep ``sync/`` pure: no web, database or IO imports (house style, point 3)."""

from __future__ import annotations

import ast
from pathlib import Path

SYNC = Path(__file__).resolve().parents[2] / "sync"
FORBIDDEN = {
    "flask",
    "flask_socketio",
    "sqlalchemy",
    "socketio",
    "engineio",
    "marshmallow",
    "eventlet",
    "redis",
    "sqlite3",
    "socket",
    "os",
    "io",
    "pathlib",
    "shutil",
    "tempfile",
    "subprocess",
    "requests",
    "http",
    "urllib",
    "logging",
}


def imported_modules(path: Path) -> set[str]:
    """Return the top-level names of the modules ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_sync_imports_no_framework_and_does_no_io() -> None:
    modules = sorted(SYNC.glob("*.py"))
    assert modules, "no sync modules found"
    offenders = {path.name: sorted(imported_modules(path) & FORBIDDEN) for path in modules}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_sync_calls_no_open_or_print() -> None:
    for path in SYNC.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert not calls & {"open", "print", "input", "exec", "eval"}, path.name
