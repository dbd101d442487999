"""Schemas of the break-the-glass endpoints (``server/break_glass.py``)."""

from marshmallow import Schema, fields, validate

from server.scopes import LONGEST_GRANT

#: The longest a grant lasts, in minutes: one night shift.
MAX_MINUTES = int(LONGEST_GRANT.total_seconds()) // 60
#: A grant's length when the request names none.
DEFAULT_MINUTES = 240


class BreakGlassSchema(Schema):
    """A request to open one compound: why, and for how many minutes."""

    compound_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))
    minutes = fields.Integer(
        load_default=DEFAULT_MINUTES, validate=validate.Range(min=1, max=MAX_MINUTES)
    )


class GrantSchema(Schema):
    """A grant in force: who, which compound, why, from when until when."""

    id = fields.Integer()
    user_id = fields.Integer()
    username = fields.String()
    role = fields.String()
    compound_id = fields.String()
    reason = fields.String()
    granted_at = fields.DateTime()
    expires_at = fields.DateTime()


class CompoundSchema(Schema):
    """A compound the caller may open: its id and name."""

    id = fields.String()
    name = fields.String()


class GrantListSchema(Schema):
    """The grants in force the caller may see, and the compounds they may open."""

    grants = fields.List(fields.Nested(GrantSchema))
    compounds = fields.List(fields.Nested(CompoundSchema))


BREAK_GLASS = BreakGlassSchema()
GRANT = GrantSchema()
GRANT_LIST = GrantListSchema()
