"""Request bodies for privacy operations: restricting a record, lifting a restriction,
rectifying a person's details (checked by the intake's own person schema), confirming a
retention review."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from triage.models.base import MAX_ID
from triage.schemas.contact import Text

REASON = validate.Length(min=10, max=2000, error="Give the reason in {min} to {max} characters.")


class RestrictionInSchema(Schema):
    class Meta:
        unknown = RAISE

    users = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
        required=True,
        validate=validate.Length(min=1, max=50,
                                 error="Name between {min} and {max} users who may see it."))
    reason = Text(required=True, validate=REASON)


class ReasonInSchema(Schema):
    """Lifting a restriction, or confirming a retention review: why."""

    class Meta:
        unknown = RAISE

    reason = Text(required=True, validate=REASON)


class RectificationInSchema(Schema):
    """`changes` holds person fields as in a referral body (names, date_of_birth, contact,
    nhs_number, sex, ethnicity); each is re-checked by the intake's rules."""

    class Meta:
        unknown = RAISE

    changes = fields.Dict(required=True)
    reason = Text(required=True, validate=REASON)


class RetentionConfirmSchema(Schema):
    class Meta:
        unknown = RAISE

    review = fields.Integer(strict=True, required=True,
                            validate=validate.Range(min=1, max=MAX_ID))
    reason = Text(required=True, validate=REASON)
