"""pass_key: the compounds' gate pass signing keys, private parts sealed

Revision ID: 5e7a0c1d9b3f
Revises: 2b2cb61cde2e
Create Date: 2026-11-30 11:10:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e7a0c1d9b3f'
down_revision = '2b2cb61cde2e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pass_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.String(length=36), nullable=False),
        sa.Column('kid', sa.String(length=64), nullable=False),
        sa.Column('public_jwk', sa.JSON(), nullable=False),
        sa.Column('sealed_private', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kid'),
    )
    with op.batch_alter_table('pass_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pass_key_compound_id'), ['compound_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pass_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pass_key_compound_id'))
    op.drop_table('pass_key')
