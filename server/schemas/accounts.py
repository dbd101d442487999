"""Schemas for signing in and for users."""

from datetime import UTC
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server import passwords
from server.models.accounts import ROLES, SCOPE_KINDS


class LoginSchema(Schema):
    """A sign-in request."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    device_name = fields.String(load_default="unnamed device", validate=validate.Length(max=200))


class UserSchema(Schema):
    """A user as the API shows it."""

    id = fields.Integer(dump_only=True)
    username = fields.String(required=True, validate=validate.Length(min=2, max=64))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    scope_kind = fields.String(required=True, validate=validate.OneOf(SCOPE_KINDS))
    scope_ids = fields.List(fields.String(validate=validate.Length(equal=36)), load_default=list)
    neighbourhood_id = fields.String(dump_only=True)


class PersonSchema(Schema):
    """A user as others in their scope see them: a name to show, and a role."""

    id = fields.Integer()
    display_name = fields.String()
    role = fields.String()


class DeviceSchema(Schema):
    """An install a conflict names, by the name its user gave the device when signing in."""

    client_id = fields.String()
    name = fields.String()


class DirectorySchema(Schema):
    """The people a user works alongside (``GET /api/v1/users/directory``).

    ``devices``: for coordinators, the names of the installs their unresolved
    conflicts name (``conflict.kept_device``, ``lost_device``); empty for others.
    """

    users = fields.List(fields.Nested(PersonSchema))
    devices = fields.List(fields.Nested(DeviceSchema))


class NewUserSchema(UserSchema):
    """A user a coordinator creates, with a first password (``server/passwords.py``)."""

    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=passwords.MIN_LENGTH, max=1024),
    )

    @validates_schema
    def check_password(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse a common or easily guessed password (NIST SP 800-63B 5.1.1.2)."""
        found = passwords.problems(data["password"], data["username"], data["display_name"])
        if found:
            raise ValidationError({"password": found})


class SyncMarkSchema(Schema):
    """The user's last changeset the server accepted, from any device.

    A device that holds no sync state while the server remembers one was
    wiped (or is new): the app says so plainly.
    """

    last_changeset_id = fields.String(allow_none=True)
    last_changeset_at = fields.AwareDateTime(allow_none=True, default_timezone=UTC)


class LoginReplySchema(Schema):
    """The answer to a successful sign-in."""

    token = fields.String()
    user = fields.Nested(UserSchema)
    sync = fields.Nested(SyncMarkSchema)


class LoginAlertSchema(Schema):
    """A count of failed sign-ins that reached its limit (``server/login_throttle.py``)."""

    at = fields.AwareDateTime(default_timezone=UTC)
    reason = fields.String(
        metadata={"description": "pair (this username at this address), account or address"}
    )
    username = fields.String(metadata={"description": "as typed; absent for an address"})
    address = fields.String()
    failures = fields.Integer()


class LoginAlertsSchema(Schema):
    """The recent sign-in alerts a coordinator may see, newest first."""

    alerts = fields.List(fields.Nested(LoginAlertSchema))


class HealthSchema(Schema):
    """The health check's answer."""

    status = fields.String(metadata={"enum": ["ok", "degraded"]})
    #: The database's dialect (``sqlite``, ``postgresql``).
    database = fields.String()
    version = fields.String()
    #: Each dependency: ``"ok"``, ``"off"`` (not configured) or why it does not answer.
    checks = fields.Dict(keys=fields.String(), values=fields.String())


LOGIN = LoginSchema()
USER = UserSchema()
NEW_USER = NewUserSchema()
LOGIN_REPLY = LoginReplySchema()
LOGIN_ALERTS = LoginAlertsSchema()
DIRECTORY = DirectorySchema()
HEALTH = HealthSchema()
