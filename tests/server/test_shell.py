"""The service worker's precache list and version come from the shell files."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from server.shell import shell_manifest, shell_paths
from server.web import CHECKOUT_WEB
from tests.conftest import make_app


@pytest.fixture
def web_copy(tmp_path):
    """Return a copy of web/ to change."""
    root = tmp_path / "web"
    shutil.copytree(CHECKOUT_WEB, root)
    return str(root)


def served_worker(sqlite_url: str, root: str) -> tuple[str, list[str]]:
    """Start an app on ``root`` and return the version and files of its /sw.js."""
    client = make_app(sqlite_url, WEB_ROOT=root).test_client()
    reply = client.get("/sw.js")
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "no-cache"
    assert reply.mimetype == "text/javascript"
    source = reply.get_data(as_text=True)
    version = re.search(r'const SHELL_VERSION = "([0-9a-f]+)";', source)
    files = re.search(r"const SHELL_FILES = (\[[\s\S]*?\]);", source)
    assert version and files, source[:400]
    return version.group(1), re.findall(r'"([^"]+)"', files.group(1))


def test_the_worker_precaches_every_shell_file_and_nothing_else(sqlite_url):
    _, files = served_worker(sqlite_url, CHECKOUT_WEB)
    on_disk = {"/" + path for path in shell_paths(CHECKOUT_WEB)}
    assert set(files) == on_disk | {"/"}
    assert {"/index.html", "/app/main.js", "/vendor/idb/index.js"} <= set(files)
    assert not [f for f in files if f.endswith((".map", "LICENSE", "/sw.js", "VERSIONS"))]


@pytest.mark.parametrize("changed", ["app/styles.css", "index.html", "sw.js", "app/i18n/ko.js"])
def test_changing_any_shell_file_gives_a_new_version(sqlite_url, web_copy, changed):
    before, _ = served_worker(sqlite_url, web_copy)
    with open(os.path.join(web_copy, changed), "a", encoding="utf-8") as file:
        file.write("\n/* changed */\n")
    after, _ = served_worker(sqlite_url, web_copy)
    assert after != before


def test_a_new_file_is_precached_without_listing_it(sqlite_url, web_copy):
    # A folder no feature has (the gate's, used here once, now exists).
    os.makedirs(os.path.join(web_copy, "app", "not-yet-a-feature"))
    new_file = os.path.join(web_copy, "app", "not-yet-a-feature", "screen.js")
    with open(new_file, "w", encoding="utf-8") as file:
        file.write("export default {};\n")
    before = shell_manifest(CHECKOUT_WEB).version
    version, files = served_worker(sqlite_url, web_copy)
    assert "/app/not-yet-a-feature/screen.js" in files
    assert version != before


def test_the_version_is_stable_for_unchanged_files(web_copy):
    assert shell_manifest(web_copy) == shell_manifest(web_copy)
    assert shell_manifest(web_copy).version == shell_manifest(CHECKOUT_WEB).version
