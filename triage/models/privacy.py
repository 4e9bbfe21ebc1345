"""Privacy operations (UK GDPR): restrictions naming who may see a record, rectifications with
their old and new values, and retention reviews reported before anything is erased."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from triage.models.base import json_column, maybe_stamped, stamped


class RecordRestriction(SQLModel, table=True):
    """A person's record (and their households') restricted to the named users; everyone else
    is answered as if it did not exist. Lifted, not deleted, so the history stays."""

    __tablename__ = "record_restriction"
    __table_args__ = (Index("ix_record_restriction_active", "lifted_at", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    reason: str
    set_by_id: int = Field(foreign_key="user_account.id")
    set_at: datetime = stamped()
    lifted_at: datetime | None = maybe_stamped()
    lifted_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    lift_reason: str | None = None


class RestrictionUser(SQLModel, table=True):
    """One user named on a restriction (who may still see the record)."""

    __tablename__ = "record_restriction_user"

    restriction_id: int = Field(foreign_key="record_restriction.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True)


class PersonChange(SQLModel, table=True):
    """One field of a person corrected (rectification): the old and the new value, why, by
    whom. Shown on the person's page and in their subject-access export."""

    __tablename__ = "person_change"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    field: str = Field(max_length=64)
    old_value: str | None = None
    new_value: str | None = None
    reason: str
    by_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = stamped()


class RetentionReview(SQLModel, table=True):
    """What the retention schedule found due at one moment (ids per rule, no personal data),
    and, once an admin confirmed it, what was erased or anonymised (counts per rule)."""

    __tablename__ = "retention_review"
    __table_args__ = (Index("ix_retention_review_status", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = stamped()
    # reported: waiting for an admin; confirmed: applied; superseded: a newer report replaced it.
    status: str = Field(default="reported", max_length=16)
    profile_version: str = Field(max_length=64)
    # {rule id: {"action", "kind", "ids": [...]}}: household, referral or audit row ids.
    due: dict[str, Any] = json_column()
    counts: dict[str, Any] = json_column()
    confirmed_at: datetime | None = maybe_stamped()
    confirmed_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    # {rule id: {"done": n, "no_longer_due": n}} once confirmed.
    result: dict[str, Any] = json_column()
