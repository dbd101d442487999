"""socket_session: the process holding each socket and its last heartbeat

Revision ID: 373a2142e7b2
Revises: 94076c4e26bd
Create Date: 2026-11-30 08:10:00

Rows from before this revision have no owner to keep them alive: they are
deleted (their sockets reconnect and are recorded anew).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '373a2142e7b2'
down_revision = '94076c4e26bd'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM socket_session")
    with op.batch_alter_table('socket_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process_id', sa.String(length=32), nullable=False))
        batch_op.add_column(sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False))
        batch_op.create_index(batch_op.f('ix_socket_session_process_id'), ['process_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_socket_session_seen_at'), ['seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('socket_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_socket_session_seen_at'))
        batch_op.drop_index(batch_op.f('ix_socket_session_process_id'))
        batch_op.drop_column('seen_at')
        batch_op.drop_column('process_id')
