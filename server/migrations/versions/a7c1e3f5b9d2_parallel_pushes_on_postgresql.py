"""PostgreSQL: the marks of a pull, below the claims of pushes in flight

Revision ID: a7c1e3f5b9d2
Revises: d4a9c2e6f8b1
Create Date: 2026-12-01 20:00:00

On PostgreSQL a large push no longer holds the row of ``sync_state`` from
its first statement to its commit: it claims its versions and takes them
in a transaction of their own (``docs/sync.md``, "Parallel pushes on
PostgreSQL", issue #16). A pull's high-water mark is then the lower of
``sync_state.high_water`` and the lowest claim minus one, which
``weiguang_marks()`` reads, with the exits' mark, in that order, each
statement in a snapshot of its own. SQLite is unchanged: nothing here runs
on it.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c1e3f5b9d2'
down_revision = 'd4a9c2e6f8b1'
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION weiguang_marks(OUT high_water bigint, OUT exits_high_water bigint)
LANGUAGE plpgsql AS $$
DECLARE
    oldest_claim bigint;
BEGIN
    SELECT m.high_water INTO high_water FROM sync_state m WHERE m.id = 1;
    -- A claim is a bigint-form advisory lock of this database: the lowest
    -- version its transaction may still commit.
    SELECT min((l.classid::bigint << 32) | l.objid::bigint) INTO oldest_claim
      FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.objsubid = 1
       AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
    high_water := least(high_water, oldest_claim - 1);
    SELECT m.exits_high_water INTO exits_high_water FROM sync_state m WHERE m.id = 1;
END $$;
"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(UPGRADE)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION weiguang_marks()')
