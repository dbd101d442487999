"""auth_state: one counter that ends every process's cached sign-ins when it moves

Revision ID: c3d9e1f4a7b2
Revises: c3d81f20a6b4
Create Date: 2026-11-30 14:45:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d9e1f4a7b2'
down_revision = 'c3d81f20a6b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'auth_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    # Its one row is made by the first change it counts (server/sign_ins.py).


def downgrade():
    op.drop_table('auth_state')
