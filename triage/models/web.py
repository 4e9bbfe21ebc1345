"""Web app tables: sign-in sessions and attempts, rate-limit hits, form drafts, case notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from triage.models.base import json_column, stamped


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    copy of the database cannot be used to sign in."""

    __tablename__ = "web_session"

    id: str = Field(primary_key=True, max_length=64)  # sha256 of the cookie token
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = stamped()
    last_seen_at: datetime = stamped()
    csrf_token: str = Field(max_length=64)


class SignInAttempt(SQLModel, table=True):
    """One sign-in attempt on a known account (failed until its password is verified):
    counted to cap failures per account and per account and source address per hour. The
    address is kept only as an HMAC with the app's secret (see rate_limits.source_key)."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("ix_sign_in_attempt_user_at", "user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    at: datetime = stamped()
    succeeded: bool = False
    source: str | None = Field(default=None, max_length=64)


class RateLimitHit(SQLModel, table=True):
    """One counted request (e.g. a public self-referral submitted) from a keyed source.

    The key is an HMAC of the source (an IP address) with the app's secret: the table never
    holds an address, and counts are shared by every web process."""

    __tablename__ = "rate_limit_hit"
    __table_args__ = (Index("ix_rate_limit_bucket_key_at", "bucket", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=32)
    key: str = Field(max_length=64)
    at: datetime = stamped()


class FormDraft(SQLModel, table=True):
    """A multi-page form in progress (the public self-referral), kept only until it is sent or
    it expires; the cookie holds a random token whose SHA-256 is the id."""

    __tablename__ = "form_draft"

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32)
    data: dict[str, Any] = json_column()
    created_at: datetime = stamped()
    updated_at: datetime = stamped()


class CaseNote(SQLModel, table=True):
    """A note on a case written by a worker (no state change); shown in the case's timeline."""

    __tablename__ = "case_note"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id", index=True)
    by_id: int | None = Field(default=None, foreign_key="user_account.id")
    by_label: str = Field(max_length=200)
    at: datetime = stamped()
    text: str
