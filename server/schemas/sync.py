"""Schemas at the sync boundary: pull arguments, and push and pull bodies for the docs.

A push body's top level is checked by :func:`sync.wire.push_from_wire`, not
by marshmallow, because the contract rejects a bad changeset alone (as a
result) rather than the request; these schemas describe the bodies in the
API description.
"""

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import MultiDict

from sync.catalog import EXTENSION_TYPES, RECORD_TYPES
from sync.pull import DEFAULT_LIMIT
from sync.wire import MAX_CHANGES, MAX_CHANGESETS, MAX_VERSION


class TypeList(fields.String):
    """A comma-separated list of record types, loaded as a frozenset."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        names = frozenset(
            filter(None, super()._deserialize(value, attr, data, **kwargs).split(","))
        )
        unknown = sorted(names - RECORD_TYPES - EXTENSION_TYPES)
        if unknown or not names:
            raise ValidationError(f"unknown record types: {', '.join(unknown) or '(none given)'}")
        return names


class PullArgsSchema(Schema):
    """The query of a pull."""

    cursor = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_VERSION))
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1))
    types = TypeList(
        load_default=None,
        metadata={
            "description": "Extension: only these record types, comma-separated "
            "(a first sync fetches tasks and buildings first)."
        },
    )


class RecordSchema(Schema):
    """A record's envelope."""

    type = fields.String(required=True)
    id = fields.String(required=True)
    version = fields.Integer(required=True)
    deleted = fields.Boolean(required=True)
    fields = fields.Dict(required=True)


class ChangeSchema(Schema):
    """One change of a changeset."""

    type = fields.String(required=True)
    id = fields.String(required=True)
    op = fields.String(required=True, validate=validate.OneOf(("create", "update", "delete")))
    base_version = fields.Integer(load_default=0)
    fields = fields.Dict(load_default=dict)


class ChangesetSchema(Schema):
    """Changes made together on one device, applied all or none."""

    id = fields.String(required=True)
    made_at = fields.String(required=True, metadata={"format": "date-time"})
    changes = fields.List(
        fields.Nested(ChangeSchema),
        required=True,
        validate=validate.Length(max=MAX_CHANGES),
        metadata={"description": f"At most {MAX_CHANGES}; more makes the changeset invalid."},
    )


class PushSchema(Schema):
    """A push request, as :func:`sync.wire.push_from_wire` parses it."""

    client_id = fields.String(
        load_default="",
        metadata={"description": "This install's id (a UUID); optional, a string when given."},
    )
    changesets = fields.List(
        fields.Nested(ChangesetSchema),
        required=True,
        validate=validate.Length(max=MAX_CHANGESETS),
        metadata={"description": f"At most {MAX_CHANGESETS}; more is refused whole (413)."},
    )


class ConflictSchema(Schema):
    """Why a change was rejected."""

    code = fields.String()
    detail = fields.String()
    record = fields.Nested(RecordSchema, allow_none=True)
    holder = fields.Integer()
    field = fields.String()


class ChangeResultSchema(Schema):
    """The outcome of one change."""

    type = fields.String()
    id = fields.String()
    status = fields.String(validate=validate.OneOf(("applied", "merged", "rejected")))
    version = fields.Integer(allow_none=True)
    lost_fields = fields.List(fields.String())
    conflict = fields.Nested(ConflictSchema, allow_none=True)


class ChangesetResultSchema(Schema):
    """The outcome of one changeset."""

    id = fields.String()
    status = fields.String(validate=validate.OneOf(("applied", "rejected")))
    changes = fields.List(fields.Nested(ChangeResultSchema))


class PushReplySchema(Schema):
    """The answer to a push."""

    results = fields.List(fields.Nested(ChangesetResultSchema))
    cursor = fields.Integer(allow_none=True)


class GrantInForceSchema(Schema):
    """A grant that widens the caller's scope now: which compound, until when."""

    compound_id = fields.String()
    expires_at = fields.DateTime()


class PullReplySchema(Schema):
    """One page of a pull."""

    changes = fields.List(fields.Nested(RecordSchema))
    cursor = fields.Integer()
    more = fields.Boolean()
    epoch = fields.String(
        metadata={
            "description": "Names the database: another than before means it was restored "
            "from a backup, and the client pulls everything again from 0."
        }
    )
    grants = fields.List(
        fields.Nested(GrantInForceSchema),
        metadata={
            "description": "The caller's break-the-glass grants in force (docs/security.md): "
            "when one the client held is gone or past `expires_at`, the client forgets its "
            "synced records and pulls everything again; when one is new, it pulls from 0."
        },
    )


PULL_ARGS = PullArgsSchema()
#: What :func:`load_pull_args` reads itself: these arguments, each once, as plain digits.
PLAIN_PULL_ARGS = frozenset({"cursor", "limit"})
# 18 digits stay below MAX_VERSION (2**63 - 1, 19 digits); ASCII only, as
# ``str.isdigit`` would take "²" and ``int`` would read "٣".
PLAIN_NUMBER = re.compile("[0-9]{1,18}")


def load_pull_args(query: MultiDict[str, str]) -> dict[str, Any]:
    """Load a pull's query as :data:`PULL_ARGS` does: ``{"cursor", "limit", "types"}``.

    A query of :data:`PLAIN_PULL_ARGS` only, each given once as plain
    digits (a limit of 1 or more), is read here: what nearly every pull
    sends, loaded as the schema would load it in 3 µs instead of 37, a
    twentieth of an empty pull's CPU (issue #16). Anything else goes to
    the schema, which loads it or refuses it as ever.

    :raises marshmallow.ValidationError: as :data:`PULL_ARGS` raises it (a 422).
    """
    loaded: dict[str, Any] = {"cursor": 0, "limit": DEFAULT_LIMIT, "types": None}
    for name, values in query.lists():
        plain = name in PLAIN_PULL_ARGS and len(values) == 1 and PLAIN_NUMBER.fullmatch(values[0])
        if not plain:
            return PULL_ARGS.load(query)
        loaded[name] = int(values[0])
    return loaded if loaded["limit"] >= 1 else PULL_ARGS.load(query)


PUSH = PushSchema()
PUSH_REPLY = PushReplySchema()
PULL_REPLY = PullReplySchema()
