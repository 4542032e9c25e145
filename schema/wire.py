"""The protocol's shapes: sign-in, push and pull requests (see docs/sync-protocol.md)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

MAX_CHANGES = 500
MAX_BODY_BYTES = 4 * 1024 * 1024
PULL_LIMIT_DEFAULT = 500
PULL_LIMIT_MAX = 1000
HEX32 = validate.Regexp(r"^[0-9a-f]{32}$", error="Must be 32 lowercase hexadecimal characters.")
UUID = validate.Regexp(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    error="Must be a UUID.",
)


class DeviceSignInSchema(Schema):
    class Meta:
        unknown = RAISE

    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    device_name = fields.String(required=True, validate=validate.Length(min=1, max=80))


class DeviceHandoffSchema(Schema):
    """The one-time code from a single sign-on (server/oidc/handoff.py), for a device token."""

    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Length(min=1, max=200))
    device_name = fields.String(required=True, validate=validate.Length(min=1, max=80))


MAX_INT32 = 2**31 - 1


class DeviceRenameSchema(Schema):
    """A signed-in phone renames itself (the name supervisors see in the console)."""

    class Meta:
        unknown = RAISE

    device_name = fields.String(required=True, validate=validate.Length(min=1, max=80))


class QueueKeySchema(Schema):
    """A signed-in phone asks for the key that opens its encrypted queue (docs/sync-protocol.md)."""

    class Meta:
        unknown = RAISE

    install_id = fields.String(
        required=True,
        validate=[
            validate.Length(min=8, max=64),
            validate.Regexp(r"^[A-Za-z0-9-]+$", error="Letters, digits and hyphens only."),
        ],
    )


class ChangeSchema(Schema):
    """One change's envelope; `data` is validated per change by EngagementSchema."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=UUID)
    op = fields.String(required=True, validate=validate.OneOf(["upsert", "delete"]))
    hlc = fields.String(required=True, validate=validate.Length(min=23, max=90))
    # Revs are 32-bit columns: a bigger number is refused here, not by the database.
    base_rev = fields.Integer(
        required=True, allow_none=True, strict=True, validate=validate.Range(min=0, max=MAX_INT32)
    )
    data = fields.Dict(load_default=dict)


class PushRequestSchema(Schema):
    """The batch envelope. Changes are checked one by one so one bad change rejects only itself."""

    class Meta:
        unknown = RAISE

    device_id = fields.String(required=True, validate=HEX32)
    batch_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    device_now = fields.AwareDateTime(required=True)
    pending = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=MAX_INT32)
    )
    app_version = fields.String(load_default="", validate=validate.Length(max=40))
    changes = fields.List(fields.Raw(), required=True)


class PullQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    since = fields.String(load_default="", validate=validate.Length(max=40))
    limit = fields.Integer(
        load_default=PULL_LIMIT_DEFAULT, validate=validate.Range(1, PULL_LIMIT_MAX)
    )


class ErrorBodySchema(Schema):
    """{"error": {"code", "message", "fields"?}} — documented in the OpenAPI document."""

    class _Error(Schema):
        code = fields.String(required=True)
        message = fields.String(required=True)
        field_errors = fields.Dict(data_key="fields", keys=fields.String(), values=fields.Raw())

    error = fields.Nested(_Error, required=True)
