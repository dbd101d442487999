"""record_scope: keyed by (compound_id, version), the change index itself

Revision ID: 7b3e9c1a5d2f
Revises: e9d1b3f5a7c2
Create Date: 2026-12-02 14:10:00

The table was keyed by (record_id, compound_id) with the change index
(compound_id, version, record_type) beside it: each edit rewrote a scattered
page of the table and one of the index (issue #16). A version is one
record's, so (compound_id, version) keys a record's place at its latest
version as well; pulls read that key in order, and a write replaces the
rows of the version it supersedes (``server.store.SqlStore.flush``).

SQLite: the table is rebuilt ``WITHOUT ROWID`` (its rows are the key's
index). PostgreSQL: the key is replaced in place, the type carried in its
index (``INCLUDE``) for index-only pulls, and the change index dropped.
Rows of a version their record no longer has (which no pull could return)
are dropped on the way: the new key holds only latest versions.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b3e9c1a5d2f'
down_revision = 'e9d1b3f5a7c2'
branch_labels = None
depends_on = None

COLUMNS = ('compound_id', 'version', 'record_type', 'record_id', 'building_id')
BUILDING_INDEX = ('ix_record_scope_building_version', ['building_id', 'version', 'record_type'])
COMPOUND_INDEX = ('ix_record_scope_compound_version', ['compound_id', 'version', 'record_type'])
WITH_BUILDING = sa.text('building_id IS NOT NULL')
LATEST = (
    'record_scope.version = (SELECT record.version FROM record'
    ' WHERE record.id = record_scope.record_id)'
)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'DELETE FROM record_scope WHERE NOT ({LATEST})')
        op.execute('ALTER TABLE record_scope DROP CONSTRAINT record_scope_pkey')
        op.execute(
            'ALTER TABLE record_scope ADD CONSTRAINT record_scope_pkey'
            ' PRIMARY KEY (compound_id, version) INCLUDE (record_type)'
        )
        op.drop_index(COMPOUND_INDEX[0], table_name='record_scope')
        return
    _rebuild(('compound_id', 'version'), f'WHERE {LATEST}', with_rowid=False)
    _building_index()


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE record_scope DROP CONSTRAINT record_scope_pkey')
        op.execute(
            'ALTER TABLE record_scope ADD CONSTRAINT record_scope_pkey'
            ' PRIMARY KEY (record_id, compound_id)'
        )
        op.create_index(COMPOUND_INDEX[0], 'record_scope', COMPOUND_INDEX[1])
        return
    _rebuild(('record_id', 'compound_id'), '', with_rowid=True)
    op.create_index(COMPOUND_INDEX[0], 'record_scope', COMPOUND_INDEX[1])
    _building_index()


def _rebuild(key, where, *, with_rowid):
    """Copy SQLite's ``record_scope`` into a table of ``key`` (its indexes go with the old one)."""
    op.create_table(
        'record_scope_rebuilt',
        sa.Column('compound_id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('record_type', sa.String(length=40), nullable=False),
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('building_id', sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint(*key, name='record_scope_pkey'),
        sqlite_with_rowid=with_rowid,
    )
    names = ', '.join(COLUMNS)
    op.execute(
        f'INSERT INTO record_scope_rebuilt ({names}) SELECT {names} FROM record_scope {where}'
    )
    op.drop_table('record_scope')
    op.rename_table('record_scope_rebuilt', 'record_scope')


def _building_index():
    name, columns = BUILDING_INDEX
    op.create_index(
        name, 'record_scope', columns, sqlite_where=WITH_BUILDING, postgresql_where=WITH_BUILDING
    )
