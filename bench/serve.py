"""Serve Weiguang exactly as ``weiguang serve`` does, plus the bench floor endpoints.

``server.entry`` patches for eventlet before anything imports Flask and
sets up the JSON log lines; this script does the same (so that each request
pays for its log line here too), then builds the app with ``create_app``,
registers the bench-only blueprint (``bench.floor``), upgrades the schema
and runs the Socket.IO server. Run it as ``python -m bench.serve --port 5000`` with the
same ``WEIGUANG_*`` environment as the real server.
"""

from __future__ import annotations

import argparse

from server import entry


def main() -> None:
    """Patch for eventlet and set up the logs, then serve the app with the floor endpoints."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=5000, type=int)
    args = parser.parse_args()

    entry.prepare(serving=True)

    from bench import floor
    from server import cli, create_app

    app = create_app()
    app.register_blueprint(floor.bp)
    cli.run(app, args.host, args.port)


if __name__ == "__main__":
    main()
