"""Request bodies for privacy operations: restricting a record, lifting a restriction,
rectifying a person's details (checked by the intake's own person schema), confirming a
retention review."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from triage.models.base import MAX_ID
from triage.schemas.contact import Text

REASON = validate.Length(min=10, max=2000, error="Give the reason in {min} to {max} characters.")


class Reason(Text):
    """Why a privacy operation was done: 10 to 2000 characters; blank is not a reason."""

    default_error_messages = {"blank": "Give the reason in 10 to 2000 characters."}

    def __init__(self, **kwargs):
        super().__init__(required=True, validate=REASON, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            raise self.make_error("blank")
        return text


class RestrictionInSchema(Schema):
    class Meta:
        unknown = RAISE

    users = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
        required=True,
        validate=validate.Length(min=1, max=50,
                                 error="Name between {min} and {max} users who may see it."))
    reason = Reason()


class ReasonInSchema(Schema):
    """Lifting a restriction, or confirming a retention review: why."""

    class Meta:
        unknown = RAISE

    reason = Reason()


class RectificationInSchema(Schema):
    """`changes` holds person fields as in a referral body (names, date_of_birth, contact,
    nhs_number, sex, ethnicity); each is re-checked by the intake's rules."""

    class Meta:
        unknown = RAISE

    changes = fields.Dict(required=True)
    reason = Reason()


class RetentionConfirmSchema(Schema):
    class Meta:
        unknown = RAISE

    review = fields.Integer(strict=True, required=True,
                            validate=validate.Range(min=1, max=MAX_ID))
    reason = Reason()
