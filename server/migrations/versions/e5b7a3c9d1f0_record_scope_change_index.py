"""record_scope carries its record's version and type: the per-scope change index of pulls

Revision ID: e5b7a3c9d1f0
Revises: c3d9e1f4a7b2
Create Date: 2026-11-30 18:50:00

A pull reads one compound's (or building's) changes in version order from
(compound_id, version, record_type) and (building_id, version, record_type)
instead of walking every record's version and
testing its scope (issue #16). The existing rows are filled from ``record``.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b7a3c9d1f0'
down_revision = 'c3d9e1f4a7b2'
branch_labels = None
depends_on = None


def upgrade():
    # Added NOT NULL with a placeholder default, which the backfill replaces:
    # SQLite adds such a column in place (no table rebuild), and keeps the
    # default (it cannot drop one without a rebuild); writers always set both.
    op.add_column(
        'record_scope',
        sa.Column('record_type', sa.String(length=40), nullable=False, server_default=''),
    )
    op.add_column(
        'record_scope',
        sa.Column('version', sa.BigInteger(), nullable=False, server_default='0'),
    )
    op.execute(
        "UPDATE record_scope SET"
        " record_type = (SELECT record.type FROM record WHERE record.id = record_scope.record_id),"
        " version = (SELECT record.version FROM record WHERE record.id = record_scope.record_id)"
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('record_scope', 'record_type', server_default=None)
        op.alter_column('record_scope', 'version', server_default=None)
    op.create_index(
        'ix_record_scope_compound_version',
        'record_scope',
        ['compound_id', 'version', 'record_type'],
        unique=False,
    )
    op.create_index(
        'ix_record_scope_building_version',
        'record_scope',
        ['building_id', 'version', 'record_type'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_record_scope_building_version', table_name='record_scope')
    op.drop_index('ix_record_scope_compound_version', table_name='record_scope')
    # SQLite drops a column in place since 3.35, once no index names it.
    op.drop_column('record_scope', 'version')
    op.drop_column('record_scope', 'record_type')
