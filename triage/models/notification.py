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
        Index("ix_notification_unsent", "sent_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id")
    # user:<id>, team:<service>:<instance>, team:front_door, managers, or referrer:<referral id>
    # (a referrer who has no account: reached by email only)
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
    # Email delivery: a sender claims the row before sending, so two senders never both send
    # it; a claim older than the mailer's timeout is taken over (the sender died).
    email_claimed_at: datetime | None = maybe_stamped()
    email_attempts: int = 0
    email_error: str | None = Field(default=None, max_length=200)


class NotificationRead(SQLModel, table=True):
    """That one user has read one notification. A team's notifications are shared by its
    members, so read state is per user, not a column of the notification."""

    __tablename__ = "notification_read"
    # A user's reads, for the anti-join that finds what they have not read.
    __table_args__ = (Index("ix_notification_read_user", "user_id", "notification_id"),)

    notification_id: int = Field(foreign_key="notification.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    read_at: datetime = stamped()
