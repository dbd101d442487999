"""Serve the PWA in ``web/`` at the site root.

Files are served by path; any other non-API path gets ``index.html`` so the
app's own routes work on reload, or 404 if it names a file (its last part
has a dot). A path that leads outside ``web/`` is any other path: what lies
there, or whether it exists, makes no difference to the answer. The service
worker and the shell's entry points are sent with ``no-cache`` so an update
is seen on the next visit. ``/sw.js`` is served with the shell's precache
list and version filled in (:mod:`server.shell`), computed once per web root
when the server starts.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from flask import Blueprint, Response, abort, current_app, send_from_directory
from werkzeug.routing import PathConverter
from werkzeug.security import safe_join

from server.shell import ShellManifest, service_worker, shell_manifest

bp = Blueprint("web", __name__)
# The repository's web/ (a checkout, an editable install), else the copy a
# regular install puts in <prefix>/share/weiguang/web (setup.cfg data_files).
CHECKOUT_WEB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web")
WEB_ROOT = (
    CHECKOUT_WEB
    if os.path.isdir(CHECKOUT_WEB)
    else os.path.join(sys.prefix, "share", "weiguang", "web")
)
ALWAYS_REVALIDATE = {"index.html", "manifest.webmanifest"}


class WebPathConverter(PathConverter):
    """A path outside ``/api/`` and ``/socket.io/``, so those keep their 404 and 405."""

    regex = r"(?!api/|socket\.io/)[^/].*?"


@bp.record_once
def register_converter(state: Any) -> None:
    """Teach the app the ``webpath`` converter before the routes are added."""
    state.app.url_map.converters["webpath"] = WebPathConverter


@bp.record_once
def hash_shell(state: Any) -> None:
    """Hash the shell files once, as the server starts."""
    root = state.app.config["WEIGUANG"].get("WEB_ROOT") or WEB_ROOT
    state.app.extensions["weiguang_shell"] = shell_manifest(root) if os.path.isdir(root) else None


def web_root() -> str:
    """Return the folder the PWA is served from (``WEIGUANG_WEB_ROOT`` overrides)."""
    return str(current_app.config["WEIGUANG"].get("WEB_ROOT") or WEB_ROOT)


@bp.get("/sw.js")
def worker() -> Any:
    """Send the service worker with the shell's precache list and version."""
    manifest: ShellManifest | None = current_app.extensions.get("weiguang_shell")
    if manifest is None:
        abort(404)
    response = Response(service_worker(web_root(), manifest), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/")
def shell() -> Any:
    """Send the app shell."""
    return static_file("index.html")


@bp.get("/<webpath:path>")
def static_file(path: str) -> Any:
    """Send a file of the PWA, or the shell for an app route."""
    root = web_root()
    inside = safe_join(root, path)
    if inside is None or not os.path.isfile(inside):
        if "." in os.path.basename(path):
            abort(404)
        path = "index.html"
    response = send_from_directory(root, path)
    if path in ALWAYS_REVALIDATE:
        response.headers["Cache-Control"] = "no-cache"
    return response
