"""The ``weiguang`` command line: a Flask CLI group on the app factory.

Besides Flask's own commands (``routes``, ``shell``, ``db``), the app has
``serve`` (the real Socket.IO server), ``seed-demo``, ``daily-tasks``,
``round-deliveries``, ``backup`` and
``restore`` (:mod:`server.backup`). Every command that writes to the database
first creates or upgrades the schema, but ``restore``, which needs an empty
database and upgrades after; ``backup`` only reads.
"""

from __future__ import annotations

import errno
import gc
import logging
import socket

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from server import (
    backup,
    create_app,
    database,
    field,
    gate_keys,
    green,
    live,
    models,
    passwords,
    purge,
    seed,
    socket_sessions,
    supplies,
)
from server.extensions import db, socketio

#: The serve command's own events, as JSON lines like every other log line.
SERVE_LOGGER = logging.getLogger("weiguang.serve")


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def cli() -> None:
    """Weiguang's sync server."""


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Run the Socket.IO-capable server (eventlet unless configured otherwise)."""
    run(current_app._get_current_object(), host, port)  # type: ignore[attr-defined]


def run(app: Flask, host: str, port: int) -> None:
    """Upgrade the schema, then serve ``app`` until stopped: all of ``weiguang serve``.

    Besides the server, background tasks keep this process's socket rows
    alive and sweep those of dead processes (:mod:`server.socket_sessions`),
    and make the supply rounds' delivery tasks at their cut-off
    (:func:`server.supplies.keep_delivering`).
    Under eventlet, SIGTERM or Ctrl+C stops it gracefully (:func:`server.green.drain`).
    """
    with app.app_context():
        database.upgrade_schema()
    # Everything loaded so far lives as long as the process: keep it out of
    # the collector's way, so that full collections during a large push stay cheap.
    gc.freeze()
    mode = socketio.server.eio.async_mode
    listener = take_port(mode, host, port)
    socketio.start_background_task(socket_sessions.keep_alive, app)
    socketio.start_background_task(supplies.keep_delivering, app)
    click.echo(f"Weiguang is serving on http://{host}:{port}/ ({mode}; Ctrl+C to stop)")
    if mode == "eventlet":
        green.serve(
            app,
            listener,
            on_stop=stop_serving,
            drain_seconds=float(app.config["WEIGUANG"]["DRAIN_SECONDS"]),
            max_connections=int(app.config["WEIGUANG"]["MAX_CONNECTIONS"]),
        )
        SERVE_LOGGER.info("stopped")
    else:
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False)


def stop_serving() -> None:
    """Begin a graceful stop (SIGTERM): the listener is closed; send the live sockets elsewhere."""
    moved = live.send_everyone_elsewhere()
    SERVE_LOGGER.info(
        "stopping: no new connections, live sockets told to reconnect, finishing requests",
        extra={"live_sockets_moved": moved},
    )


def take_port(mode: str, host: str, port: int) -> object | None:
    """Bind the listening socket before announcing it (eventlet), or check the port is free.

    Werkzeug (``threading``, for debugging) binds by itself; the check lets
    both modes fail the same way.

    :raises PortUnavailable: if the address is taken or cannot be bound.
    """
    try:
        if mode == "eventlet":
            return green.listen(host, port)
        with socket.create_server((host, port)):
            return None
    except OSError as error:
        raise PortUnavailable(host, port, error) from None


class PortUnavailable(click.ClickException):
    """The server cannot listen where asked: say where, and how to choose another port."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        other = port + 1 if port < 65535 else 5000
        if error.errno == errno.EADDRINUSE:
            reason = f"port {port} on {host} is already in use (by another server or program)"
        else:
            reason = f"cannot listen on {host}:{port} ({error.strerror})"
        super().__init__(
            f"Weiguang cannot start: {reason}. Stop whatever holds it, or choose another "
            f"port: weiguang serve --port {other}"
        )


def demo_password(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Refuse a demo password that account creation would refuse (``server/passwords.py``)."""
    names = [
        part for username, display_name, *_ in seed.DEMO_USERS for part in (username, display_name)
    ]
    found = passwords.problems(value, *names)
    if found:
        raise click.BadParameter(" ".join(found))
    return value


@click.command("seed-demo")
@click.option(
    "--password", required=True, callback=demo_password, help="Password for every demo account."
)
@with_appcontext
def seed_demo(password: str) -> None:
    """Create the demo neighbourhood and accounts (idempotent)."""
    database.upgrade_schema()
    click.echo(seed.seed_demo(password))


@click.command("rotate-pass-key")
@click.argument("compound")
@with_appcontext
def rotate_pass_key(compound: str) -> None:
    """Give COMPOUND (its id, name or demo letter) a new gate pass signing key.

    New passes are signed with it; passes signed with the older keys stay
    valid until they expire or are revoked.
    """
    database.upgrade_schema()
    try:
        row = gate_keys.rotate(compound)
    except gate_keys.UnknownCompound:
        raise click.ClickException(f"no single compound is called {compound!r}") from None
    click.echo(f"Compound {row.compound_id} now signs passes with key {row.kid}.")


def init_app(app: Flask) -> None:
    """Add Weiguang's commands to ``app.cli``, and the database to ``weiguang shell``."""
    app.cli.add_command(serve)
    app.cli.add_command(seed_demo)
    app.cli.add_command(rotate_pass_key)
    app.cli.add_command(backup.backup_command)
    app.cli.add_command(backup.restore_command)
    app.cli.add_command(purge.purge_command)
    app.cli.add_command(field.daily_tasks_command)
    app.cli.add_command(supplies.round_deliveries_command)
    app.shell_context_processor(shell_context)


def shell_context() -> dict[str, object]:
    """Return what ``weiguang shell`` has at hand: the database and the models."""
    return {"db": db, "models": models}
