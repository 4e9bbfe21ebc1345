"""Request bodies for recording consent and overriding a decision."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema


class ConsentSchema(Schema):
    class Meta:
        unknown = RAISE

    consent = fields.String(required=True, validate=validate.OneOf(("given", "refused")))
    note = fields.String(validate=validate.Length(max=2000), load_default=None)


class RouteInSchema(Schema):
    class Meta:
        unknown = RAISE

    service = fields.String(required=True)
    instance = fields.String(required=True)


class OverrideInSchema(Schema):
    class Meta:
        unknown = RAISE

    level = fields.Integer(validate=validate.Range(min=1, max=4), load_default=None)
    routes = fields.List(fields.Nested(RouteInSchema), load_default=None)
    reason = fields.String(required=True, validate=validate.Length(
        min=10, max=2000, error="Explain the override in {min} to {max} characters."))

    @validates_schema
    def _something(self, data, **kwargs):
        if data.get("level") is None and data.get("routes") is None:
            raise ValidationError("Give a level, routes, or both.", "_schema")


def close_schema_for(closures: dict[str, str]) -> Schema:
    """Closing a referral at the front door: one of the profile's closure codes and a note
    saying what was done (kept with the referral; the referrer is told the closure only)."""

    class CloseSchema(Schema):
        class Meta:
            unknown = RAISE

        closure = fields.String(required=True, validate=validate.OneOf(
            list(closures), error=f"Choose one of: {', '.join(closures)}."))
        note = fields.String(required=True, validate=validate.Length(
            min=10, max=2000, error="Say what was done in {min} to {max} characters."))

    return CloseSchema()
