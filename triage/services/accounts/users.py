"""Staff and partner accounts: users, password hashes, and API tokens (issue, check, revoke)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, update
from sqlmodel import select

from config.teams import Teams
from triage.db import Database
from triage.errors import NotAuthenticated, ValidationFailed
from triage.models import ApiToken, Role, User
from triage.models.base import utcnow
from triage.services import audit
from triage.services.accounts.passwords import password_problems

_hasher = PasswordHasher()
TOKEN_PREFIX = "eht_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(db: Database, *, email: str, role: str, team: str | None = None,
                organisation: str | None = None, name: str | None = None,
                password: str | None = None, teams: Teams | None = None) -> User:
    """A new account. With `teams` (the profile's: the command line, the demo) the team
    must be one of them."""
    errors: dict[str, list[str]] = {}
    if team is not None and teams is not None and team not in teams:
        errors["team"] = [teams.refusal(team)]
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        errors["email"] = ["Must be an email address."]
    if role not in Role.__members__:
        errors["role"] = [f"Must be one of: {', '.join(Role.__members__)}."]
    if role == Role.partner and not organisation:
        errors["organisation"] = ["Partners need an organisation (--team or --organisation)."]
    if password is not None and password_problems(password):
        errors["password"] = password_problems(password)
    if errors:
        raise ValidationFailed(errors)
    with db.unit_of_work() as session:
        if session.exec(select(User).where(User.email == email)).first():
            raise ValidationFailed({"email": [f"A user with email {email} already exists."]})
        user = User(email=email, role=role, team=team, organisation=organisation, name=name,
                    password_hash=hash_password(password) if password else None)
        session.add(user)
        session.flush()
        audit.record(session, actor=None, action="user.create", object_type="user",
                     object_id=user.id, role=role)
    return user


def token_digest(token: str) -> str:
    """How a token is stored and looked up: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


_digest = token_digest


def create_token(db: Database, *, email: str, label: str | None = None) -> str:
    """A new API token for the user; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.unit_of_work() as session:
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None or not user.active:
            raise ValidationFailed({"email": [f"No active user with email {email}."]})
        row = ApiToken(user_id=user.id, token_hash=_digest(token), prefix=token[:12], label=label)
        session.add(row)
        session.flush()
        audit.record(session, actor=user, action="token.create", object_type="api_token",
                     object_id=row.id)
    return token


def revoke_token(db: Database, *, prefix: str) -> int:
    with db.unit_of_work() as session:
        rows = session.exec(select(ApiToken).where(ApiToken.prefix == prefix,
                                                   ApiToken.revoked_at.is_(None))).all()
        for row in rows:
            row.revoked_at = utcnow()
            bump_generation(session, row.user_id)
            audit.record(session, actor=None, action="token.revoke", object_type="api_token",
                         object_id=row.id)
    db.token_cache.clear()
    return len(rows)


def bump_generation(session, user_id: int) -> None:
    """Mark the account changed: every process re-reads it before trusting a remembered
    token (see user_for_token). Call inside the transaction that makes the change."""
    session.execute(update(User).where(User.id == user_id)
                    .values(generation=User.generation + 1))


# A remembered token's user is trusted only while the account's generation is unchanged and
# the account active: one primary-key read outside any transaction (Database.read_row), instead
# of the token lookup and the user row built again.
_GENERATION = select(User.__table__.c.generation).where(
    User.__table__.c.id == bindparam("user_id"), User.__table__.c.active.is_(True))
# How often a token's last use is written (not on every request).
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class _Remembered:
    user: User
    token_id: int
    generation: int
    touched_at: datetime | None


def user_for_token(db: Database, token: str | None) -> User:
    """The active user holding this token, or NotAuthenticated.

    A valid token's user is remembered per process. On PostgreSQL every process hears of a
    change to an account or token as it commits (triage.account_changes) and forgets what it
    remembered; while it is not listening, and on SQLite, every request re-reads the
    account's generation (one primary-key read). Either way a deactivation, a revoked token
    or a changed role takes effect at once in the process that made it and, in every other
    process, on its first request after the change is heard (milliseconds after commit)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        raise NotAuthenticated("Send a valid API token as 'Authorization: Bearer <token>'.")
    digest = _digest(token)
    changes = db.account_changes
    heard = changes.heard if changes is not None else 0
    cached = db.token_cache.get(digest)
    if cached is not None:
        if changes is not None and changes.trusted():
            _touch(db, digest, cached, heard)  # a change since it was read cleared it
            return cached.user
        current = db.read_row(_GENERATION, {"user_id": cached.user.id})
        if current is not None and current[0] == cached.generation:
            _touch(db, digest, cached, heard)
            return cached.user
        db.token_cache.forget(digest)
    with db.reader() as session:
        row = session.exec(
            select(User, ApiToken).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == digest)
        ).first()
    if row is None:
        raise NotAuthenticated("The API token is not recognised.")
    user, api_token = row
    if api_token.revoked_at is not None:
        raise NotAuthenticated("The API token has been revoked.")
    if not user.active:
        raise NotAuthenticated("The account holding this token is disabled.")
    remembered = _Remembered(user=user, token_id=api_token.id, generation=user.generation,
                             touched_at=api_token.last_used_at)
    _remember(db, digest, remembered, heard)
    _touch(db, digest, remembered, heard)
    return user


def _remember(db: Database, digest: str, remembered: _Remembered, heard: int) -> None:
    """Remember a token's user unless a change to some account was heard since `heard` was
    taken (before the read): the account read may be the one just changed."""
    changes = db.account_changes
    if changes is None or changes.heard == heard:
        db.token_cache.put(digest, remembered)


def _touch(db: Database, digest: str, remembered: _Remembered, heard: int) -> None:
    """Record the token's last use, at most once a minute per token and process."""
    now = utcnow()
    if remembered.touched_at is not None and now - remembered.touched_at < TOUCH_EVERY:
        return
    _remember(db, digest, replace(remembered, touched_at=now), heard)
    with db.unit_of_work() as session:
        session.execute(update(ApiToken).where(ApiToken.id == remembered.token_id)
                        .values(last_used_at=now))
