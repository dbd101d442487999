"""Schemas of the audit search (``GET /api/v1/audit``, :mod:`server.audit`)."""

from marshmallow import Schema, ValidationError, fields, validate

from sync.catalog import REGISTRY
from sync.fields import is_uuid

#: Entries per page when the query names no ``limit``, and the most it may ask.
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def lowercase_uuid(value: str) -> None:
    """Refuse anything but a UUID in canonical lowercase form (how record ids are stored)."""
    if not is_uuid(value):
        raise ValidationError("must be a lowercase UUID")


def _record_id(description: str) -> fields.String:
    return fields.String(
        load_default=None,
        validate=lowercase_uuid,
        metadata={"description": description, "format": "uuid"},
    )


class AuditArgsSchema(Schema):
    """The query of an audit search; every filter is optional and they combine."""

    cursor = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=400),
        metadata={"description": "Where the page starts: a previous page's `cursor`."},
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Entries per page (default {DEFAULT_LIMIT})."},
    )
    household_id = _record_id(
        "Only the household and the records naming it or one of its residents."
    )
    user_id = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "Only changes this user pushed."},
    )
    record_type = fields.String(
        load_default=None,
        validate=validate.OneOf(sorted(REGISTRY)),
        metadata={"description": "Only records of this type."},
    )
    record_id = _record_id("Only this record.")
    q = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "Text to find in the entry (people, device, type, ids, fields, "
            "values), ignoring case."
        },
    )


class AuditUserSchema(Schema):
    """Who pushed the change."""

    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class AuditEntrySchema(Schema):
    """One change that wrote a record."""

    changeset_id = fields.String(metadata={"format": "uuid"})
    received_at = fields.AwareDateTime(metadata={"description": "When the server received it."})
    made_at = fields.AwareDateTime(
        allow_none=True,
        metadata={
            "description": "The device time of the change (clamped to the receipt), from the "
            "stamps of the fields it wrote that still hold; null when none does."
        },
    )
    user = fields.Nested(AuditUserSchema)
    device = fields.String(
        allow_none=True, metadata={"description": "The name the device signed in with."}
    )
    record_type = fields.String()
    record_id = fields.String(metadata={"format": "uuid"})
    version = fields.Integer(metadata={"description": "The version the change wrote."})
    status = fields.String(metadata={"enum": ["applied", "merged"]})
    deleted = fields.Boolean(metadata={"description": "The change deleted the record."})
    household_id = fields.String(allow_none=True, metadata={"format": "uuid"})
    fields_ = fields.Dict(
        data_key="fields",
        attribute="fields",
        metadata={
            "description": "The fields the change wrote that nobody has overwritten since, "
            "with their values as the caller may see them."
        },
    )
    lost_fields = fields.List(
        fields.String(),
        metadata={"description": "Fields of the change that lost to a newer edit."},
    )


class AuditReplySchema(Schema):
    """A page of audit entries, newest first."""

    entries = fields.List(fields.Nested(AuditEntrySchema))
    cursor = fields.String(
        allow_none=True,
        metadata={"description": "Pass it to get the next page; null at the end of the log."},
    )
    more = fields.Boolean(
        metadata={"description": "Whether a next page may hold more (a page may be short)."}
    )


AUDIT_ARGS = AuditArgsSchema()
AUDIT_REPLY = AuditReplySchema()
