"""Staff and partner accounts, and the API tokens they hold (stored hashed, revocable)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import false as sa_false
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
    # (a profile service id, and one of its instances).
    team: str | None = Field(default=None, max_length=128)
    organisation: str | None = Field(default=None, max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = True
    created_at: datetime = stamped()
    # Bumped by every change an administrator makes (role, team, deactivation, a token
    # revoked, a password reset): each process re-checks it before trusting a remembered
    # API token, so such a change takes effect at once everywhere (accounts.user_for_token).
    generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Set when an administrator gives a one-time password: the web app shows nothing but
    # "change your password" until the person has chosen their own.
    must_change_password: bool = Field(default=False,
                                       sa_column_kwargs={"server_default": sa_false()})
    # Failed sign-ins before this moment no longer count towards a lock-out (an
    # administrator unlocked the account).
    failures_cleared_at: datetime | None = maybe_stamped()


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


class PasswordReset(SQLModel, table=True):
    """A password reset an administrator issued: an emailed one-time link, or a one-time
    password shown to the administrator once. Only the SHA-256 of a link's token is stored;
    the token itself is an HMAC of the row's id and nonce with the app's secret, so the
    email can be composed after commit (through the outbox) without the token ever being
    written down. A link works once, until it expires or a newer reset replaces it."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    method: str = Field(max_length=16)  # email | shown
    nonce: str = Field(max_length=64)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = stamped()
    expires_at: datetime = stamped()
    # When the link was used, or replaced by a newer reset (ended_by says which).
    ended_at: datetime | None = maybe_stamped()
    ended_by: str | None = Field(default=None, max_length=16)  # used | replaced | deactivated
