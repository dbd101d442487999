"""Drop the foreign keys of the rows every push writes: changeset_log's and record_scope's

Revision ID: d4a9c2e6f8b1
Revises: b7e2d4f6a8c0
Create Date: 2026-12-01 16:40:00

``changeset_log.user_id`` (→ ``user_account``), ``changeset_log.device_token_id``
(→ ``device_token``) and ``record_scope.record_id`` (→ ``record``, ON DELETE
CASCADE) were checked row by row: 750 checks a push of 250 changesets,
which cost PostgreSQL's backend 3-6 ms a push (issue #16). Nothing ever
deletes a user, a device token or a record (accounts are deactivated,
tokens revoked, records tombstoned), and the code that writes these rows
takes the ids from the rows it wrote or signed in with
(``docs/sync.md``, "Keys the push tables do without").

SQLite names no constraint and cannot drop one in place: its two tables
are rebuilt, their constraints named as PostgreSQL names them
(``<table>_<column>_fkey``), so one name finds the key on both.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4a9c2e6f8b1'
down_revision = 'b7e2d4f6a8c0'
branch_labels = None
depends_on = None

#: table → (column, referred table, ON DELETE) of each key dropped.
KEYS = {
    'changeset_log': (
        ('user_id', 'user_account', None),
        ('device_token_id', 'device_token', None),
    ),
    'record_scope': (('record_id', 'record', 'CASCADE'),),
}
#: PostgreSQL's own name of an unnamed foreign key, given to SQLite's.
NAMES = {'fk': '%(table_name)s_%(column_0_name)s_fkey'}
#: SQLite's rebuild reflects the table alone, not the tables it refers to
#: (``record``'s expression indexes cannot be reflected).
REFLECT = {'resolve_fks': False}


def upgrade():
    for table, keys in KEYS.items():
        with op.batch_alter_table(
            table, naming_convention=NAMES, reflect_kwargs=REFLECT
        ) as batch_op:
            for column, _referred, _ondelete in keys:
                batch_op.drop_constraint(f'{table}_{column}_fkey', type_='foreignkey')


def downgrade():
    for table, keys in KEYS.items():
        with op.batch_alter_table(
            table, naming_convention=NAMES, reflect_kwargs=REFLECT
        ) as batch_op:
            for column, referred, ondelete in keys:
                batch_op.create_foreign_key(
                    f'{table}_{column}_fkey', referred, [column], ['id'], ondelete=ondelete
                )
