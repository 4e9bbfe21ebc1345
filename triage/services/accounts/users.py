"""Staff and partner accounts: users, password hashes, and API tokens (issue, check, revoke)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import select

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
                password: str | None = None) -> User:
    errors: dict[str, list[str]] = {}
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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
            audit.record(session, actor=None, action="token.revoke", object_type="api_token",
                         object_id=row.id)
    db.token_cache.clear()
    return len(rows)


def user_for_token(db: Database, token: str | None) -> User:
    """The active user holding this token, or NotAuthenticated."""
    if not token or not token.startswith(TOKEN_PREFIX):
        raise NotAuthenticated("Send a valid API token as 'Authorization: Bearer <token>'.")
    digest = _digest(token)
    cached = db.token_cache.get(digest)
    if cached is not None:
        return cached
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
    # Only valid tokens are remembered; a revocation or a disabled account takes effect at
    # once in this process and within db.token_cache.seconds (10 s) in the others.
    db.token_cache.put(digest, user)
    return user
