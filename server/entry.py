"""The ``weiguang`` console script.

``serve`` runs on eventlet, whose monkey-patching must come before Flask,
SQLAlchemy and the socket libraries are imported; this module therefore
imports nothing of them until it has patched. Logging is set up here too
(JSON lines on standard error, :mod:`server.logs`), once, for every command.
"""

import os
import sys


def main() -> None:
    """Patch for eventlet when serving, then hand over to the Flask CLI group."""
    prepare(serving=len(sys.argv) > 1 and sys.argv[1] == "serve")
    from server.cli import cli

    cli.main(prog_name="weiguang")


def prepare(*, serving: bool) -> None:
    """Patch for eventlet if ``serving`` (unless configured otherwise), then set up the logs.

    Call first, before anything imports Flask: the ``weiguang`` script and
    the bench's server (``bench/serve.py``), which so logs as the real one.
    """
    if serving:
        os.environ.setdefault("WEIGUANG_ASYNC_MODE", "eventlet")
        if os.environ["WEIGUANG_ASYNC_MODE"] == "eventlet":
            from server import green

            green.patch()
    from server import logs

    logs.configure()
