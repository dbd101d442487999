"""Schemas of the gate endpoints: printing a building's pass sheets."""

from marshmallow import Schema, fields


class PassSheetSchema(Schema):
    """Which building's residents get new printed passes, and until when."""

    building_id = fields.UUID(required=True, metadata={"description": "the building"})
    valid_until = fields.AwareDateTime(
        required=True, metadata={"description": "the passes' end, with a zone"}
    )


PASS_SHEET = PassSheetSchema()
