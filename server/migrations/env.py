"""Alembic environment for Flask-Migrate on Flask-SQLAlchemy 3."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# The ini file's logging is for a bare alembic run: logging already set up
# (weiguang's JSON lines, pytest's capture) is left as it is.
if not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url",
    target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%"),
)


def run_migrations_offline():
    """Emit the migrations as SQL without connecting."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run the migrations on the app's engine."""

    def skip_empty_revision(context, revision, directives):
        # An autogenerate run that finds no change writes no empty revision.
        if (
            getattr(config.cmd_opts, "autogenerate", False)
            and directives[0].upgrade_ops.is_empty()
        ):
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_revision)
    with target_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
