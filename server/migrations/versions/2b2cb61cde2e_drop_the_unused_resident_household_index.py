"""drop the resident household index: no query uses it

Revision ID: 2b2cb61cde2e
Revises: 373a2142e7b2
Create Date: 2026-11-30 09:26:00.000000

94076c4e26bd made it for a residents-per-building count that screening
progress no longer gives (on SQLite it cost a row read per resident); an
index no query uses only slows the writes of residents.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2b2cb61cde2e'
down_revision = '373a2142e7b2'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_record_resident_household', table_name='record')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        expression = "(fields ->> 'household_id')"
    else:
        expression = "CAST(json_extract(fields, '$.household_id') AS TEXT)"
    where = sa.text("type = 'resident'")
    op.create_index(
        'ix_record_resident_household', 'record', [sa.text(expression)],
        unique=False, sqlite_where=where, postgresql_where=where,
    )
