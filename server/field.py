"""The daily field tasks job: ``weiguang daily-tasks``.

Makes the day's check-in task for every household with someone elderly
living alone and a garbage-collection task for every stairwell of a sealed
compound (:func:`sync.screening.daily_tasks`), through the engine as the
server's own actor, so the tasks are validated and scoped like pushed ones.
A task already there (made by an earlier run, or by a screening visit that
flagged the household today) is left as it is: the job can run any number
of times a day. Run it from cron shortly after midnight in the
neighbourhood's time zone (``docs/deploy.md``); devices receive the tasks
on their next pull.
"""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from server import database, queries, seed
from server.clock import utcnow
from server.extensions import db
from server.models import RecordRow
from sync.actors import UserScope
from sync.field import day_of
from sync.screening import ELDERLY_ALONE, daily_tasks

EVERYTHING = UserScope(everything=True)


def make_daily_tasks(day: date) -> int:
    """Make the field tasks of ``day`` that do not exist yet; return how many were made."""
    compounds = queries.every_live("compound")
    every = [c.id for c in compounds]
    sealed = frozenset(c.id for c in compounds if c.fields.get("tier") == "sealed")
    households = queries.live_records("household", EVERYTHING, every)
    names = {
        b.id: str(b.fields["name"]) for b in queries.live_records("building", EVERYTHING, every)
    }
    elderly = frozenset(
        str(record.fields["household_id"])
        for kind in ("resident", "visit")
        for record in queries.live_records(kind, EVERYTHING, every)
        if ELDERLY_ALONE in (record.fields.get("needs") or [])
    )
    tasks = daily_tasks(day, households, names, sealed, elderly)
    ids = [task.id for task in tasks]
    existing = {
        found
        for part in range(0, len(ids), 500)
        for found in db.session.scalars(
            select(RecordRow.id).where(RecordRow.id.in_(ids[part : part + 500]))
        )
    }
    new = [seed.NewRecord("task", t.id, dict(t.fields)) for t in tasks if t.id not in existing]
    if new:
        seed.write_records(new)
    db.session.commit()
    return len(new)


@click.command("daily-tasks")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day (YYYY-MM-DD) in the neighbourhood's time zone; default today.",
)
@with_appcontext
def daily_tasks_command(day: object) -> None:
    """Make today's check-in and garbage-collection tasks (idempotent)."""
    database.upgrade_schema()
    when = day.date() if hasattr(day, "date") else day_of(utcnow())
    made = make_daily_tasks(when)
    click.echo(f"Made {made} field tasks for {when.isoformat()}.")
