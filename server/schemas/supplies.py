"""Schemas of the supplies endpoints: the chain-list import, the delivery tasks."""

from marshmallow import Schema, fields, validate

#: The most text one paste may hold (a 接龙 of a few hundred households is ~20 kB).
MAX_CHAIN_LIST_CHARS = 100_000


class ChainListSchema(Schema):
    """A pasted WeChat 接龙 list."""

    text = fields.String(required=True, validate=validate.Length(1, MAX_CHAIN_LIST_CHARS))


class ChainProblemSchema(Schema):
    """Why an entry is not ready: a code and the text it is about."""

    code = fields.String(required=True)
    text = fields.String(required=True)


class ChainEntrySchema(Schema):
    """One non-blank line of the list, read."""

    line = fields.Integer(required=True, metadata={"description": "line in the paste, from 1"})
    text = fields.String(required=True)
    number = fields.Integer(allow_none=True)
    household_id = fields.String(allow_none=True)
    order_id = fields.String(
        allow_none=True, metadata={"description": "the household's order id in the round"}
    )
    candidates = fields.List(fields.String())
    lines = fields.List(fields.Dict())
    problems = fields.List(fields.Nested(ChainProblemSchema))
    ready = fields.Boolean(required=True)


class ChainListReplySchema(Schema):
    """Proposed orders for the leader to fix or skip, then push as orders."""

    supply_round_id = fields.String(required=True)
    entries = fields.List(fields.Nested(ChainEntrySchema), required=True)
    households = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "household id → address, for every household named"},
    )


class DeliveriesReplySchema(Schema):
    """The round's delivery tasks after the request: one per unit with confirmed orders."""

    supply_round_id = fields.String(required=True)
    created = fields.List(fields.String(), metadata={"description": "task ids made now"})
    updated = fields.List(
        fields.String(), metadata={"description": "open tasks given late confirmations"}
    )
    cursor = fields.Integer(allow_none=True, metadata={"description": "the push's cursor"})


CHAIN_LIST = ChainListSchema()
DELIVERIES_REPLY = DeliveriesReplySchema()
CHAIN_LIST_REPLY = ChainListReplySchema()
