"""sync_state: the exits' high-water mark, the highest version of any scope_exit row

Revision ID: b7e2d4f6a8c0
Revises: f2c4a6e8b0d1
Create Date: 2026-12-01 14:40:00

A pull from a cursor at or above it has no exit to send and leaves the
exits' part out of its page statement (issue #16, ``docs/sync.md``, "Why no
pull skips a change"). Set here from the rows already there; from then on
moved by the push that writes exits, in their transaction.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2d4f6a8c0'
down_revision = 'f2c4a6e8b0d1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_state') as batch_op:
        batch_op.add_column(
            sa.Column('exits_high_water', sa.BigInteger(), server_default='0', nullable=False)
        )
    op.execute(
        'UPDATE sync_state SET exits_high_water = '
        '(SELECT coalesce(max(version), 0) FROM scope_exit)'
    )


def downgrade():
    with op.batch_alter_table('sync_state') as batch_op:
        batch_op.drop_column('exits_high_water')
