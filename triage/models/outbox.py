"""The transactional outbox and idempotency records: what happens after a commit, exactly once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from triage.models.base import JSONType, json_column, maybe_stamped, stamped


class OutboxStatus(StrEnum):
    pending = "pending"  # written with the business change; not yet handed to the broker
    dispatched = "dispatched"  # handed to Celery; the task has not reported back
    done = "done"  # the task finished; never run again
    failed = "failed"  # gave up after max attempts; needs a person


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_status_available", "status", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=64)  # the Celery task name, e.g. triage.referral.received
    payload: dict[str, Any] = json_column()
    status: str = Field(default=OutboxStatus.pending, max_length=16)
    attempts: int = 0
    created_at: datetime = stamped()
    available_at: datetime = stamped()
    dispatched_at: datetime | None = maybe_stamped()
    completed_at: datetime | None = maybe_stamped()
    last_error: str | None = Field(default=None, max_length=500)


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a request sent with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    created_at: datetime = stamped()


class BatchFingerprint(SQLModel, table=True):
    """A CSV batch that was recorded: its file's fingerprint (SHA-256 of its bytes without a
    BOM, line endings normalised) and who sent it, so the same file sent again is caught.
    Ids and counts only: nothing of the file's rows."""

    __tablename__ = "batch_fingerprint"
    __table_args__ = (Index("ix_batch_fingerprint_sender", "sender", "fingerprint", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # "organisation:<name>" for an account with an organisation, else "user:<id>".
    sender: str = Field(max_length=255)
    user_id: int = Field(foreign_key="user_account.id")
    fingerprint: str = Field(max_length=64)
    count: int
    references: list[str] = Field(sa_column=Column(JSONType, nullable=False))
    sent_at: datetime = stamped()
