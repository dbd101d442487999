"""record.fields_text: the fields as JSON text, kept by the database

Revision ID: b3d5f7a9c1e2
Revises: a7c1e3f5b9d2
Create Date: 2026-12-02 02:00:00

Every read of records selects the fields as text (``server.store.RECORD_COLUMNS``).
On PostgreSQL that text was made from the jsonb at every read, a third of
the database's time of a first sync's page (issue #16); a generated column
keeps it, computed once per write (``STORED``: PostgreSQL writes every row
again here). On SQLite, whose ``fields`` is JSON text already, the column is
virtual: nothing is stored.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d5f7a9c1e2'
down_revision = 'a7c1e3f5b9d2'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite adds only a virtual generated column to a table.
    stored = op.get_bind().dialect.name == 'postgresql'
    computed = sa.Computed('CAST(fields AS TEXT)', persisted=stored)
    op.add_column('record', sa.Column('fields_text', sa.Text(), computed, nullable=False))


def downgrade():
    op.drop_column('record', 'fields_text')
