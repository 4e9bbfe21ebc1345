"""Referrals as received (answers, people, consent, raw body) and the decisions made on them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from triage.models.base import JSONType, json_column, maybe_stamped, stamped


class ReferralStatus(StrEnum):
    received = "received"
    awaiting_consent = "awaiting_consent"
    needs_review = "needs_review"
    routed = "routed"
    closed = "closed"


class Referral(SQLModel, table=True):
    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_status_received", "status", "received_at"),
        Index("ix_referral_submitted_by", "submitted_by_id", "received_at"),
        # The front door's "new today" worklist reads referrals by time received alone.
        Index("ix_referral_received_at", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Set in the same transaction as the insert, from the row id: EH-2026-000123.
    reference: str | None = Field(default=None, max_length=32, unique=True)
    status: str = Field(default=ReferralStatus.received, max_length=32)
    received_at: datetime = stamped()
    profile_id: str = Field(max_length=64)
    checklist_id: str = Field(max_length=64)
    checklist_version: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    referrer_organisation: str | None = Field(default=None, max_length=200)
    referrer_name: str | None = Field(default=None, max_length=200)
    referrer_email: str | None = Field(default=None, max_length=254)
    referrer_phone: str | None = Field(default=None, max_length=32)
    submitted_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    postcode: str = Field(max_length=10)
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    consent: str = Field(max_length=16)
    consent_recorded_at: datetime | None = maybe_stamped()
    information_only: bool = False
    step_down: bool = False
    urgent: bool = False
    concerns: str | None = None
    answers: dict[str, Any] = json_column()
    raw_body: dict[str, Any] = json_column()
    linked_referral_id: int | None = Field(default=None, foreign_key="referral.id")
    version: int = Field(default=1)
    # Closed at the front door without a service: when, why (a code of the profile's
    # front_door.closures), the note kept with it and by whom.
    closed_at: datetime | None = maybe_stamped()
    closure: str | None = Field(default=None, max_length=32)
    closure_note: str | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    # Set when the retention schedule anonymised it: level, service, dates and outcomes stay
    # for reports; the referrer, free text and raw body go.
    anonymised_at: datetime | None = maybe_stamped()
    # A re-referral: the case of this family (any household of its known people) most
    # recently closed within the profile's front_door.re_referral_months when it was
    # received, and when that case closed (kept, so reports count re-referrals per period
    # without recomputing). Not a foreign key: case_record already refers to referral, and
    # the cycle would leave the tables without an order to create or sort them in.
    re_referral_of_case_id: int | None = None
    re_referral_closed_at: datetime | None = maybe_stamped()


class ReferralPerson(SQLModel, table=True):
    """A person as named on one referral (their ref in the body, role and relationship)."""

    __tablename__ = "referral_person"

    referral_id: int = Field(foreign_key="referral.id", primary_key=True)
    ref: str = Field(max_length=32, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16)
    relationship: str | None = Field(default=None, max_length=50)
    matched: bool = False


class Decision(SQLModel, table=True):
    """A triage decision as it was made: by the rules engine, or a staff override beside it."""

    __tablename__ = "decision"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    kind: str = Field(max_length=16)  # engine | override
    level: int  # the level's number (rank) on the continuum
    level_code: str = Field(max_length=16)  # the profile's level code ("4", "4a", "adult")
    body: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    # Facts known only at decision time (e.g. the family's open case), so it can be re-run.
    inputs: dict[str, Any] = json_column()
    ruleset_id: str = Field(max_length=64)
    ruleset_version: str = Field(max_length=64)
    decided_at: datetime = stamped()
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    reason: str | None = None
    current: bool = True
