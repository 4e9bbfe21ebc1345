"""Who a record is: decisions that two person records are (or are not) one person, and the
review queue of pairs a person must look at (from intake and the nightly duplicate finder)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from triage.models.base import JSONType, maybe_stamped, stamped


class MatchDecision(SQLModel, table=True):
    """A person's answer for one pair of person records: the same person or not. Kept for
    good, so the pair is never asked about or suggested again. The pair is stored lower id
    first."""

    __tablename__ = "match_decision"
    __table_args__ = (
        UniqueConstraint("person_id", "other_person_id", name="uq_match_decision_pair"),
        CheckConstraint("person_id < other_person_id", name="ck_match_decision_order"),
        Index("ix_match_decision_other", "other_person_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    other_person_id: int = Field(foreign_key="person.id")
    same: bool
    # intake (the worker at the staff form), review (the "check who this is" worklist),
    # merge (a merge says the two are one person).
    source: str = Field(max_length=16)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime = stamped()


class MatchReview(SQLModel, table=True):
    """A pair of person records that may be one person, waiting for staff to say: from a
    partner's or the public's referral (never linked on a guess), or from the nightly duplicate
    finder. The pair is stored lower id first; `referral_id` names the referral that brought
    the newer record, if any."""

    __tablename__ = "match_review"
    __table_args__ = (
        UniqueConstraint("person_id", "other_person_id", name="uq_match_review_pair"),
        CheckConstraint("person_id < other_person_id", name="ck_match_review_order"),
        Index("ix_match_review_open", "status", "created_at", "id"),
        Index("ix_match_review_other", "other_person_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    other_person_id: int = Field(foreign_key="person.id")
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    # intake or duplicate_finder
    source: str = Field(max_length=24)
    score: float
    band: str = Field(max_length=16)
    # Each field's comparison: [{"field", "level", "weight", "reason"}], no personal data.
    comparisons: list[dict[str, Any]] = Field(default_factory=list,
                                              sa_column=Column(JSONType, nullable=False))
    # open, linked (merged into one person), dismissed (not the same), withdrawn (one of the
    # pair was merged away or erased before anyone looked).
    status: str = Field(default="open", max_length=16)
    created_at: datetime = stamped()
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = maybe_stamped()
