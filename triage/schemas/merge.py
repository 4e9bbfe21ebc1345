"""Request bodies for merging two records into one, undoing a merge, and deciding a pair on
the "check who this is" worklist."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from triage.models.base import MAX_ID
from triage.schemas.privacy import Reason

DECISIONS = ("same", "not_same")


class MergeInSchema(Schema):
    """Merge the record in the path into `into` (the record that stays), with a reason."""

    class Meta:
        unknown = RAISE

    into = fields.Integer(strict=True, required=True,
                          validate=validate.Range(min=1, max=MAX_ID,
                                                  error="Give the id of the record to keep."))
    reason = Reason()


class MatchReviewInSchema(Schema):
    """Same person (merge the newer record into the known one) or not the same person."""

    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(
        DECISIONS, error="Answer same or not_same."))
    reason = Reason()
