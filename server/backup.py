"""``weiguang backup PATH`` and ``weiguang restore PATH`` (contract, "Running the server").

A backup is a consistent copy of the live database, taken while the server
writes: on SQLite with SQLite's online backup API in one step (a read
transaction, so one snapshot: never half a changeset); on PostgreSQL with
``pg_dump`` in its custom format (one snapshot too, by its transaction).
The file is what the engine makes — an SQLite database, a ``pg_dump``
archive — so the engines' own tools read it as well.

A restore goes into an empty database only: it refuses one that has any
table, rather than mix two histories of versions and changesets. Unlike the
other commands, it does not create the schema first (that would make the
database non-empty); it upgrades the restored schema afterwards, so a backup
of an older release comes back at the current one.

A restore gives the database a new *epoch* (an audit entry ``restore``
with a random name), which every pull answers (``epoch``): a device that
synced after the backup was taken holds a cursor the restored versions
will count up to again, and would miss those new changes; seeing another
epoch than the one it synced from, it forgets its synced records and cursor
(never its outbox) and pulls everything again (``web/app/sync.js``, rule 8).
A database never restored has the epoch ``original``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from contextlib import closing

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect, select
from sqlalchemy.engine import URL, Engine, make_url

from server import accounts, database
from server.extensions import db
from server.models import AuditEntry

#: The audit action of a restore, whose detail names the database's new epoch.
RESTORE_ACTION = "restore"
#: The epoch of a database that was never restored.
ORIGINAL_EPOCH = "original"
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


def database_url() -> URL:
    """Return the app's database URL."""
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def libpq_command(url: URL) -> tuple[list[str], dict[str, str]]:
    """Return libpq's connection arguments for ``url`` and an environment with its password.

    The password goes in ``PGPASSWORD``, never on a command line that ``ps`` shows.
    """
    arguments = ["--dbname", url.set(drivername="postgresql", password=None).render_as_string()]
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    return arguments, environment


def run_tool(name: str, arguments: list[str], environment: dict[str, str]) -> None:
    """Run a PostgreSQL client tool; turn its failure into a readable error."""
    tool = shutil.which(name)
    if tool is None:
        raise click.ClickException(
            f"{name} is not installed: install PostgreSQL's client tools "
            "(Debian: apt-get install postgresql-client), of the server's version or newer."
        )
    done = subprocess.run(
        [tool, *arguments], env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise click.ClickException(f"{name} failed: {done.stderr.strip()}")


def copy_sqlite(source_path: str, target_path: str) -> None:
    """Copy an SQLite database with the online backup API, all pages in one step.

    One step is one read transaction: the copy is one snapshot of the
    source, whatever its writers do meanwhile (WAL lets them go on).
    """
    with (
        closing(sqlite3.connect(source_path)) as source,
        closing(sqlite3.connect(target_path)) as target,
    ):
        source.backup(target, pages=-1)


def back_up(url: URL, path: str) -> None:
    """Write a consistent copy of the database at ``url`` to ``path`` (a new file)."""
    if os.path.exists(path):
        raise click.ClickException(f"{path} exists: a backup never overwrites a file.")
    if url.get_backend_name() == "sqlite":
        copy_sqlite(str(url.database), path)
        return
    arguments, environment = libpq_command(url)
    run_tool("pg_dump", ["--format=custom", "--file", path, *arguments], environment)


def tables_in(url: URL) -> list[str]:
    """Return the tables of the database at ``url`` (none for a file that does not exist)."""
    if url.get_backend_name() == "sqlite" and not os.path.exists(str(url.database)):
        return []
    return sorted(inspect(db.engine).get_table_names())


def kind_of_backup(path: str) -> str:
    """Return ``"sqlite"`` or ``"postgresql"``, read from the backup file's first bytes."""
    try:
        with open(path, "rb") as backup:
            head = backup.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise click.ClickException(f"Cannot read {path}: {error.strerror}.") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise click.ClickException(f"{path} is not a Weiguang backup (SQLite or pg_dump archive).")


def restore_into(url: URL, path: str) -> None:
    """Restore the backup at ``path`` into the empty database at ``url``."""
    kind, backend = kind_of_backup(path), url.get_backend_name()
    if kind != backend:
        raise click.ClickException(
            f"{path} is a {kind} backup; WEIGUANG_DATABASE_URL names a {backend} database."
        )
    tables = tables_in(url)
    if tables:
        raise click.ClickException(
            f"The database is not empty (it has {len(tables)} tables: {', '.join(tables[:5])}"
            f"{', ...' if len(tables) > 5 else ''}). weiguang restore only restores into an "
            "empty database: create a new one, point WEIGUANG_DATABASE_URL at it and run "
            "the restore again."
        )
    db.engine.dispose()  # no pooled connection to the empty database stays open
    if kind == "sqlite":
        copy_sqlite(path, str(url.database))
        return
    arguments, environment = libpq_command(url)
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    run_tool("pg_restore", [*options, *arguments, path], environment)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str) -> None:
    """Write a consistent copy of the live database to PATH (a new file)."""
    back_up(database_url(), path)
    click.echo(f"Backed up the {database_url().get_backend_name()} database to {path}.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore_command(path: str) -> None:
    """Restore the backup at PATH into the configured database, which must be empty."""
    restore_into(database_url(), path)
    database.upgrade_schema()
    accounts.audit(None, None, RESTORE_ACTION, detail={"epoch": uuid.uuid4().hex})
    db.session.commit()
    click.echo(f"Restored {path}; the schema is at the current release.")


def epoch() -> str:
    """Return the database's epoch: its last restore's, or ``original`` (needs an app context).

    Read once per process and database: it changes only by a restore, which
    needs the server stopped.
    """
    known: dict[Engine, str] = current_app.extensions.setdefault("weiguang_epochs", {})
    # By engine, one per app and database: its URL's text costs a pull more than this read.
    engine = db.engine
    if engine not in known:
        detail = db.session.scalar(
            select(AuditEntry.detail)
            .where(AuditEntry.action == RESTORE_ACTION)
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
        known[engine] = str(detail["epoch"]) if detail else ORIGINAL_EPOCH
    return known[engine]
