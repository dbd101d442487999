"""record_scope: drop the (place, record_id) indexes no query needs

Revision ID: f2c4a6e8b0d1
Revises: e5b7a3c9d1f0
Create Date: 2026-12-01 11:30:00

A record's scope rows are read by the primary key (record_id, compound_id),
a place's by the change indexes (compound_id, version, record_type) and
(building_id, version, record_type). ``ix_record_scope_compound`` and
``ix_record_scope_building``, keyed on random record ids, only made every push
rewrite scattered index pages (issue #16): EXPLAIN on a loaded database
showed no query whose plan got worse without them, on SQLite or PostgreSQL.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2c4a6e8b0d1'
down_revision = 'e5b7a3c9d1f0'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_record_scope_compound', table_name='record_scope')
    op.drop_index('ix_record_scope_building', table_name='record_scope')


def downgrade():
    op.create_index(
        'ix_record_scope_building', 'record_scope', ['building_id', 'record_id'], unique=False
    )
    op.create_index(
        'ix_record_scope_compound', 'record_scope', ['compound_id', 'record_id'], unique=False
    )
