"""The app shell's precache list and version, derived from the files.

The service worker (``web/sw.js``) precaches the shell into a cache named by
its version. Both the list and the version used to be kept by hand, and a
forgotten bump left users on old code. Now the server walks the web root
once when it starts, lists every shell file and hashes their paths and
contents; ``/sw.js`` is served with the two filled in, so any change to any
shell file gives a new worker, and a new file is precached without anyone
listing it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass

#: Files under the web root that are not part of the shell (relative, POSIX).
NOT_SHELL = re.compile(r"^vendor/.*/(LICENSE|.*\.map)$|^vendor/(README\.md|VERSIONS)$|^sw\.js$")
#: The placeholders ``web/sw.js`` carries for the server to fill.
VERSION_MARK = "'%SHELL_VERSION%'"
FILES_MARK = "['%SHELL_FILES%']"
VERSION_CHARS = 16


@dataclass(frozen=True, slots=True)
class ShellManifest:
    """What the service worker precaches: ``files`` (URL paths) and their ``version``."""

    version: str
    files: tuple[str, ...]


def shell_paths(root: str) -> list[str]:
    """Return the shell files under ``root`` as sorted POSIX paths relative to it."""
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            relative = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if not NOT_SHELL.match(relative) and not name.startswith("."):
                found.append(relative)
    return sorted(found)


def shell_manifest(root: str) -> ShellManifest:
    """Hash the shell files under ``root`` (paths and bytes, and ``sw.js`` itself).

    :returns: the version (the first 16 hex digits of a SHA-256) and the URL
        paths to precache, ``/`` first.
    """
    digest = hashlib.sha256()
    paths = shell_paths(root)
    for relative in [*paths, "sw.js"]:
        digest.update(relative.encode() + b"\0")
        with open(os.path.join(root, relative), "rb") as file:
            digest.update(hashlib.sha256(file.read()).digest())
    return ShellManifest(digest.hexdigest()[:VERSION_CHARS], ("/", *(f"/{p}" for p in paths)))


def service_worker(root: str, manifest: ShellManifest) -> str:
    """Return ``web/sw.js`` with its version and precache list filled in.

    :raises ValueError: if ``sw.js`` lacks either placeholder.
    """
    with open(os.path.join(root, "sw.js"), encoding="utf-8") as file:
        source = file.read()
    if VERSION_MARK not in source or FILES_MARK not in source:
        raise ValueError("sw.js must hold the shell version and file list placeholders")
    return source.replace(VERSION_MARK, json.dumps(manifest.version)).replace(
        FILES_MARK, json.dumps(list(manifest.files), indent=2)
    )
