"""changeset_log: indexes for the audit search and the device names of conflicts

Revision ID: c3d81f20a6b4
Revises: 6c1f3e8a2d47
Create Date: 2026-11-30 14:40:00

The audit (server/audit.py) pages through the log newest first by receipt
time, optionally one user's; the conflict inbox names devices by the
install (client_id) that pushed. Without these each read sorted or scanned
the whole log. The user index gains the receipt time and id, so the plain
user_id index it starts with goes.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3d81f20a6b4'
down_revision = '6c1f3e8a2d47'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('changeset_log', schema=None) as batch_op:
        batch_op.create_index('ix_changeset_log_received', ['received_at', 'id'], unique=False)
        batch_op.create_index(
            'ix_changeset_log_user_received', ['user_id', 'received_at', 'id'], unique=False
        )
        batch_op.create_index('ix_changeset_log_client_id', ['client_id'], unique=False)
        batch_op.drop_index('ix_changeset_log_user_id')


def downgrade():
    with op.batch_alter_table('changeset_log', schema=None) as batch_op:
        batch_op.create_index('ix_changeset_log_user_id', ['user_id'], unique=False)
        batch_op.drop_index('ix_changeset_log_client_id')
        batch_op.drop_index('ix_changeset_log_user_received')
        batch_op.drop_index('ix_changeset_log_received')
