"""push_log: who pushed, from where and when, once a push; changeset_log keeps its results

Revision ID: e9d1b3f5a7c2
Revises: c8e2a4f6b1d3
Create Date: 2026-12-02 08:30:00

Every changeset's log row carried its push's user, device token, install and
receipt time under three indexes: a push of 250 changesets wrote 750 index
entries for one push's facts (issue #16: 0.87 ms in SQLite for 250 such rows,
0.46 ms for narrow rows and one index). Those facts move to one ``push_log``
row a push, with the indexes the audit, the sync mark and the conflict
inbox's device names read; ``changeset_log`` keeps ``id``, ``push_id`` and
``result``.

The rows already logged become one ``push_log`` row for each (user, device
token, install, receipt time) they share, numbered in order of receipt: the
changesets of one push share all four. A downgrade puts the four back on
each changeset's row.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e9d1b3f5a7c2'
down_revision = 'c8e2a4f6b1d3'
branch_labels = None
depends_on = None

#: The push's facts, once on every changeset's row, now on its push's.
FACTS = ('user_id', 'device_token_id', 'client_id', 'received_at')
#: The indexes of those facts, by table: name → columns.
OLD_INDEXES = {
    'ix_changeset_log_received': ['received_at', 'id'],
    'ix_changeset_log_user_received': ['user_id', 'received_at', 'id'],
    'ix_changeset_log_client_id': ['client_id'],
}
NEW_INDEXES = {
    'ix_push_log_received': ['received_at', 'id'],
    'ix_push_log_user_received': ['user_id', 'received_at', 'id'],
    'ix_push_log_client_id': ['client_id'],
}
#: SQLite's rebuild reflects the table alone (as ``d4a9c2e6f8b1``).
REFLECT = {'resolve_fks': False}


def fact_columns():
    """Return the columns of :data:`FACTS`, as the initial schema made them."""
    return [
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('device_token_id', sa.Integer(), nullable=True),
        sa.Column('client_id', sa.String(length=64), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    ]


def same_push(log: str, push: str) -> str:
    """Return the SQL condition that the changeset row ``log`` has the facts of ``push``'s row.

    A device token and an install may be null: null matches null.
    """
    same = 'IS' if op.get_bind().dialect.name == 'sqlite' else 'IS NOT DISTINCT FROM'
    return ' AND '.join(f'{push}.{name} {same} {log}.{name}' for name in FACTS)


def upgrade():
    op.create_table('push_log', sa.Column('id', sa.Integer(), nullable=False), *fact_columns(),
                    sa.PrimaryKeyConstraint('id'))
    for name, columns in NEW_INDEXES.items():
        op.create_index(name, 'push_log', columns)
    facts = ', '.join(FACTS)
    op.execute(
        f'INSERT INTO push_log ({facts}) SELECT {facts} FROM changeset_log'
        f' GROUP BY {facts} ORDER BY received_at, min(id)'
    )
    with op.batch_alter_table('changeset_log') as batch_op:
        batch_op.add_column(sa.Column('push_id', sa.Integer(), nullable=True))
    op.execute(
        'UPDATE changeset_log SET push_id = (SELECT push_log.id FROM push_log'
        f" WHERE {same_push('changeset_log', 'push_log')})"
    )
    with op.batch_alter_table('changeset_log', reflect_kwargs=REFLECT) as batch_op:
        for name in OLD_INDEXES:
            batch_op.drop_index(name)
        for name in FACTS:
            batch_op.drop_column(name)
        batch_op.alter_column('push_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_changeset_log_push', ['push_id'])


def downgrade():
    with op.batch_alter_table('changeset_log') as batch_op:
        for column in fact_columns():
            column.nullable = True
            batch_op.add_column(column)
    for name in FACTS:
        op.execute(
            f'UPDATE changeset_log SET {name} = (SELECT push_log.{name} FROM push_log'
            ' WHERE push_log.id = changeset_log.push_id)'
        )
    with op.batch_alter_table('changeset_log', reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_index('ix_changeset_log_push')
        batch_op.drop_column('push_id')
        for column in fact_columns():
            if not column.nullable:
                batch_op.alter_column(column.name, existing_type=column.type, nullable=False)
        for name, columns in OLD_INDEXES.items():
            batch_op.create_index(name, columns)
    for name in NEW_INDEXES:
        op.drop_index(name, table_name='push_log')
    op.drop_table('push_log')
