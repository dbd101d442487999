"""Schemas of the attachment endpoints (``server/attachments.py``)."""

from marshmallow import Schema, fields, validate

from sync.attachments import KINDS


class AttachmentArgsSchema(Schema):
    """The query of an upload: which kind of photo, of which record."""

    kind = fields.String(required=True, validate=validate.OneOf(sorted(KINDS)))
    record_id = fields.UUID(required=True)


class RecordArgsSchema(Schema):
    """The query of a listing: the record whose photos to list."""

    record_id = fields.UUID(required=True)


class AttachmentSchema(Schema):
    """A stored photo, without its bytes."""

    id = fields.String()
    kind = fields.String()
    record_id = fields.String()
    content_type = fields.String()
    bytes = fields.Integer(attribute="byte_count")
    created_at = fields.DateTime()


class AttachmentListSchema(Schema):
    """The photos of a record the caller may see."""

    attachments = fields.List(fields.Nested(AttachmentSchema))


ATTACHMENT_ARGS = AttachmentArgsSchema()
RECORD_ARGS = RecordArgsSchema()
ATTACHMENT = AttachmentSchema()
ATTACHMENT_LIST = AttachmentListSchema()
