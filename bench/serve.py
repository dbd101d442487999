"""Serve Weiguang exactly as ``weiguang serve`` does, plus the bench floor endpoints.

``server.entry`` patches for eventlet before anything imports Flask; this
script does the same, then builds the app with ``create_app``, registers the
bench-only blueprint (``bench.floor``), upgrades the schema and runs the
Socket.IO server. Run it as ``python -m bench.serve --port 5000`` with the
same ``WEIGUANG_*`` environment as the real server.
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    """Patch for eventlet first, then serve the app with the floor endpoints."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=5000, type=int)
    args = parser.parse_args()

    os.environ.setdefault("WEIGUANG_ASYNC_MODE", "eventlet")
    if os.environ["WEIGUANG_ASYNC_MODE"] == "eventlet":
        from server import green

        green.patch()

    from bench import floor
    from server import cli, create_app

    app = create_app()
    app.register_blueprint(floor.bp)
    cli.run(app, args.host, args.port)


if __name__ == "__main__":
    main()
