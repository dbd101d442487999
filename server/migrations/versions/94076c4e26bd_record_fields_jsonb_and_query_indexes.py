"""record.fields as jsonb on PostgreSQL; indexes for the queries by field

Revision ID: 94076c4e26bd
Revises: a40e8fb87a3f
Create Date: 2026-11-30 08:05:00.000000

The indexes are partial (one record type each) expression indexes; the
expressions must be written exactly as server/models/expressions.py compiles
them, or the queries of server/queries.py will not use them. They are
spelled out here, per database, so that this migration stays as it is when
the models change.
"""
import json
import re

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '94076c4e26bd'
down_revision = 'a40e8fb87a3f'
branch_labels = None
depends_on = None

# name -> (record type, expressions on SQLite, expressions on PostgreSQL)
INDEXES = {
    'ix_record_visit_household': (
        'visit',
        ["CAST(json_extract(fields, '$.household_id') AS TEXT)"],
        ["(fields ->> 'household_id')"],
    ),
    'ix_record_resident_household': (
        'resident',
        ["CAST(json_extract(fields, '$.household_id') AS TEXT)"],
        ["(fields ->> 'household_id')"],
    ),
    'ix_record_gate_event_time': (
        'gate_event',
        ["CAST(json_extract(fields, '$.compound_id') AS TEXT)", "CAST(json_extract(stamps, '$.compound_id[1]') AS TEXT)"],
        ["(fields ->> 'compound_id')", "((stamps -> 'compound_id') ->> 1)"],
    ),
    'ix_record_order_round': (
        'order',
        ["CAST(json_extract(fields, '$.supply_round_id') AS TEXT)"],
        ["(fields ->> 'supply_round_id')"],
    ),
}


# Text that json took and jsonb refuses (issue 7, item 1): a \u escape of
# U+0000 or of a UTF-16 surrogate (a lone one; a pair is fine, and is looked
# at only to be written back the same).
SUSPECT = r'\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})'
UNSTORABLE = re.compile('[\x00\ud800-\udfff]')


def repaired(value):
    """Return ``value`` with each unpaired surrogate and NUL replaced by U+FFFD."""
    if isinstance(value, str):
        return UNSTORABLE.sub('\ufffd', value)
    if isinstance(value, list):
        return [repaired(item) for item in value]
    if isinstance(value, dict):
        return {repaired(key): repaired(item) for key, item in value.items()}
    return value


def repair_unstorable_text(bind):
    """Rewrite the rows whose fields the cast to jsonb would refuse."""
    rows = bind.execute(
        sa.text('SELECT id, fields::text AS fields FROM record WHERE fields::text ~ :suspect'),
        {'suspect': SUSPECT},
    ).all()
    for row in rows:
        fields = json.dumps(repaired(json.loads(row.fields)))
        bind.execute(
            sa.text('UPDATE record SET fields = CAST(:fields AS json) WHERE id = :id'),
            {'fields': fields, 'id': row.id},
        )


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        repair_unstorable_text(op.get_bind())
        op.alter_column(
            'record', 'fields',
            existing_type=sa.JSON(), type_=postgresql.JSONB(),
            existing_nullable=False, postgresql_using='fields::jsonb',
        )
    for name, (record_type, on_sqlite, on_postgres) in INDEXES.items():
        where = sa.text(f"type = '{record_type}'")
        op.create_index(
            name, 'record',
            [sa.text(e) for e in (on_postgres if postgres else on_sqlite)],
            unique=False, sqlite_where=where, postgresql_where=where,
        )


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name='record')
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column(
            'record', 'fields',
            existing_type=postgresql.JSONB(), type_=sa.JSON(),
            existing_nullable=False, postgresql_using='fields::json',
        )
