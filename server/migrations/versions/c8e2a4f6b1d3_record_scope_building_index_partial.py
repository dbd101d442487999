"""record_scope: the building change index holds only rows with a building

Revision ID: c8e2a4f6b1d3
Revises: b3d5f7a9c1e2
Create Date: 2026-12-02 05:00:00

``ix_record_scope_building_version`` serves the pulls and counts of a
building's records (``building_id = ?`` or ``IN (...)``, which imply
``building_id IS NOT NULL``, so both SQLite and PostgreSQL use the partial
index). The rows of records with no building, such as a coordinator's tasks,
each wrote an entry no query reads; a push of 250 tasks now writes none of
them (issue #16).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8e2a4f6b1d3'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None

COLUMNS = ['building_id', 'version', 'record_type']


def upgrade():
    op.drop_index('ix_record_scope_building_version', table_name='record_scope')
    placed = sa.text('building_id IS NOT NULL')
    op.create_index(
        'ix_record_scope_building_version',
        'record_scope',
        COLUMNS,
        sqlite_where=placed,
        postgresql_where=placed,
    )


def downgrade():
    op.drop_index('ix_record_scope_building_version', table_name='record_scope')
    op.create_index('ix_record_scope_building_version', 'record_scope', COLUMNS)
