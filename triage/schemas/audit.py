"""The audit viewer at the boundary: its filters (API query and the page's form alike) and the
events it answers with."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from triage.models.base import MAX_ID
from triage.schemas.cases import MAX_PAGE

# What an audit row's object_type and action look like (codes the service writes).
OBJECT_TYPE_PATTERN = r"^[a-z][a-z_]{0,31}$"
ACTION_PATTERN = r"^[a-z][a-z_]*(\.[a-z_]+)*$"
# A record's id as audit rows keep it: a number, or a code (`search`, `*`, `service:instance`).
OBJECT_ID_PATTERN = r"^[A-Za-z0-9_.:*,-]{1,64}$"
# Where the next page starts: the last event's time (microseconds since 1970, UTC) and id.
CURSOR_PATTERN = r"^[0-9]{1,17}-[0-9]{1,10}$"
FORMATS = ("json", "csv")
FILTERS = ("person", "user", "object_type", "object_id", "action", "from", "to")

_id = validate.Range(min=1, max=MAX_ID)


class AuditQuerySchema(Schema):
    """GET /api/v1/audit and the /audit page: every filter optional, all of them combined."""

    class Meta:
        unknown = RAISE

    person = fields.Integer(load_default=None, validate=_id, strict=False)
    user = fields.Integer(load_default=None, validate=_id)
    object_type = fields.String(load_default=None, validate=validate.Regexp(
        OBJECT_TYPE_PATTERN, error="A record type in lower case, such as case or referral."))
    object_id = fields.String(load_default=None, validate=validate.Regexp(
        OBJECT_ID_PATTERN, error="A record's id (a number, or a referral's reference)."))
    action = fields.String(load_default=None, validate=[
        validate.Length(max=64),
        validate.Regexp(ACTION_PATTERN, error="An action code, such as case.view.")])
    date_from = fields.Date(load_default=None, data_key="from")
    date_to = fields.Date(load_default=None, data_key="to")
    before = fields.String(load_default=None, validate=validate.Regexp(
        CURSOR_PATTERN, error="Use the next_before of the previous page."))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))

    @pre_load
    def _blank_is_none(self, data: Any, **_: Any) -> Any:
        """A form sends "" for a filter left empty."""
        if not isinstance(data, dict):
            return data
        return {k: (v.strip() or None) if isinstance(v, str) else v for k, v in data.items()
                if not (isinstance(v, str) and not v.strip())}

    @validates_schema
    def _together(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("object_id") and not data.get("object_type"):
            errors["object_type"] = ["Give the record type with its id."]
        if data.get("object_type") and not data.get("object_id"):
            errors["object_id"] = ["Give the record's id with its type."]
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            errors["to"] = ["Must be the same as or after the from date."]
        if errors:
            raise ValidationError(errors)


class AuditUserSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()


class AuditEventOutSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    user = fields.Nested(AuditUserSchema, allow_none=True)
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String()
    reference = fields.String(allow_none=True)
    route = fields.String(allow_none=True)


class AuditPageSchema(Schema):
    events = fields.List(fields.Nested(AuditEventOutSchema))
    limit = fields.Integer()
    next_before = fields.String(allow_none=True)
