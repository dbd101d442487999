"""auth_state: one counter that ends every process's cached sign-ins when it moves

Revision ID: c3d9e1f4a7b2
Revises: 5e7a0c1d9b3f
Create Date: 2026-11-30 14:45:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d9e1f4a7b2'
down_revision = '5e7a0c1d9b3f'
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
