"""Request bodies for recording consent and overriding a decision."""

from __future__ import annotations

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)


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


def override_schema_for(profile) -> Schema:
    """Overriding a decision: a level code of the profile (`level_code`), routes, or both,
    with a reason. The older `level` (a number) is still accepted where it names exactly one
    of the profile's levels; the loaded data carries `level_code` either way."""
    codes = list(profile.levels)
    numbers = sorted({lv.number for lv in profile.levels.values()
                      if len(profile.codes_numbered(lv.number)) == 1})

    class OverrideInSchema(Schema):
        class Meta:
            unknown = RAISE

        level_code = fields.String(load_default=None, validate=validate.OneOf(
            codes, error=f"Choose one of the levels: {', '.join(codes)}."), metadata={
            "description": "The level to decide instead: one of the profile's level codes"})
        level = fields.Integer(load_default=None, validate=validate.OneOf(
            numbers, error=f"Give level_code (one of {', '.join(codes)}); a level number "
                           f"is accepted only where it names one level: "
                           f"{', '.join(map(str, numbers)) or 'none'}."), metadata={
            "description": "Deprecated: the level's number, accepted where exactly one of the "
                           "profile's levels has it; use level_code", "deprecated": True})
        routes = fields.List(fields.Nested(RouteInSchema), load_default=None)
        reason = fields.String(required=True, validate=validate.Length(
            min=10, max=2000, error="Explain the override in {min} to {max} characters."))

        @validates_schema
        def _something(self, data, **kwargs):
            code, number = data.get("level_code"), data.get("level")
            if code is None and number is None and data.get("routes") is None:
                raise ValidationError("Give a level, routes, or both.", "_schema")
            if code is not None and number is not None and \
                    profile.levels[code].number != number:
                raise ValidationError(f"Level {number} is not the number of level {code}; "
                                      "give level_code only.", "level")

        @post_load
        def _code(self, data, **kwargs):
            if data.get("level_code") is None and data.get("level") is not None:
                data["level_code"] = profile.codes_numbered(data["level"])[0]
            data.pop("level", None)
            return data

    return OverrideInSchema()


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
