"""Staff and partner accounts, and the API tokens they hold (stored hashed, revocable)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from triage.models.base import maybe_stamped, stamped


class Role(StrEnum):
    admin = "admin"
    front_door = "front_door"
    hub_coordinator = "hub_coordinator"
    practitioner = "practitioner"
    manager = "manager"
    partner = "partner"


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str | None = Field(default=None, max_length=200)
    role: str = Field(max_length=32)
    # The team a staff member works in: a service id, or service:instance
    # (e.g. early_help_hub:melton-hub).
    team: str | None = Field(default=None, max_length=128)
    organisation: str | None = Field(default=None, max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = True
    created_at: datetime = stamped()


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    # SHA-256 of the token: tokens are 256-bit random, so a fast hash is enough and a
    # lookup is one indexed query.
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)
    label: str | None = Field(default=None, max_length=100)
    created_at: datetime = stamped()
    last_used_at: datetime | None = maybe_stamped()
    revoked_at: datetime | None = maybe_stamped()
