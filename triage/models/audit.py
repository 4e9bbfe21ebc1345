"""Append-only audit events: who saw or changed which record, never what it said."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from triage.models.base import json_column, stamped


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    # The audit viewer reads newest first (at, id), alone or by one filter; each filter has
    # an index that hands its rows over in that order (keyset pagination, no sort).
    __table_args__ = (
        Index("ix_audit_object", "object_type", "object_id", "at", "id"),
        Index("ix_audit_at", "at", "id"),
        Index("ix_audit_actor_at", "actor_id", "at", "id"),
        Index("ix_audit_action_at", "action", "at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = stamped()
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    action: str = Field(max_length=64)  # e.g. referral.view, referral.create, token.create
    object_type: str = Field(max_length=32)
    # "service:instance" for a service instance: two ids of up to 64 characters.
    object_id: str = Field(max_length=160)
    # Ids and codes only; never names, dates of birth, addresses or free text.
    detail: dict[str, Any] = json_column()
    # The page or endpoint it happened on, as its route pattern (/cases/<int:case_id>), never
    # the path or query string; None outside a request (the escalation sweep, the CLI).
    route: str | None = Field(default=None, max_length=200)
