"""Notifications to teams and referrers: stored always, emailed when SMTP is configured."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from triage.models.base import maybe_stamped, stamped


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        # One notification per recipient per outbox message: redelivery cannot duplicate it.
        UniqueConstraint("outbox_id", "recipient", name="uq_notification_outbox_recipient"),
        Index("ix_notification_recipient", "recipient", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id")
    # team:<service>[:<instance>] or user:<id>
    recipient: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    kind: str = Field(max_length=64)
    subject: str = Field(max_length=200)
    # References, services and states only: a notification is not a place for personal data.
    body: str
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case_record.id")
    created_at: datetime = stamped()
    sent_at: datetime | None = maybe_stamped()
    read_at: datetime | None = maybe_stamped()
