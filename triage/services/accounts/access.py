"""What an administrator sees and does about an account's access: its API tokens (list,
issue, revoke), its recent sign-ins and lock-outs, and unlocking it.

Sign-in sources are stored only as HMACs (rate_limits.source_key), so this shows counts and
times, never an address."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, update
from sqlmodel import select

from triage import policy
from triage.errors import Conflict, NotFound, ValidationFailed, flatten_errors
from triage.models import ApiToken, RateLimitHit, SignInAttempt, User
from triage.models.base import utcnow
from triage.runtime import Runtime
from triage.schemas.accounts import TokenInSchema
from triage.services import audit
from triage.services.accounts import signin
from triage.services.accounts.users import TOKEN_PREFIX, bump_generation, token_digest

RECENT_ATTEMPTS = 20
OVERVIEW_WINDOW = timedelta(hours=24)
SELF_REFERRAL_BUCKET = "self_referral"


def _allowed(admin: User) -> None:
    policy.require(admin, policy.ADMINISTER_ACCOUNTS, "administer accounts")


# -- API tokens ------------------------------------------------------------------------------
def tokens_of(rt: Runtime, *, admin: User, user_id: int) -> list[ApiToken]:
    """The account's tokens, newest first (prefix, label, created, last used, revoked)."""
    _allowed(admin)
    with rt.db.reader() as session:
        return list(session.exec(select(ApiToken).where(ApiToken.user_id == user_id)
                                 .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
                    .all())


def issue_token(rt: Runtime, *, admin: User, user_id: int, body: dict[str, Any]) -> str:
    """A new token for an active account; the plain token is returned once, never stored."""
    _allowed(admin)
    try:
        data = TokenInSchema().load(body)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with rt.db.unit_of_work() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("No such account.")
        if not user.active:
            raise Conflict("This account is deactivated: reactivate it first.")
        row = ApiToken(user_id=user.id, token_hash=token_digest(token), prefix=token[:12],
                       label=data["label"])
        session.add(row)
        session.flush()
        audit.record(session, actor=admin, action="token.create", object_type="api_token",
                     object_id=row.id, user_id=user.id)
    return token


def revoke(rt: Runtime, *, admin: User, user_id: int, token_id: int) -> None:
    """Revoke one of the account's tokens: refused from the next request on, everywhere."""
    _allowed(admin)
    with rt.db.unit_of_work() as session:
        row = session.get(ApiToken, token_id)
        if row is None or row.user_id != user_id:
            raise NotFound("No such token for this account.")
        if row.revoked_at is not None:
            raise Conflict("This token is already revoked.")
        row.revoked_at = utcnow()
        session.flush()
        bump_generation(session, user_id)
        audit.record(session, actor=admin, action="token.revoke", object_type="api_token",
                     object_id=row.id, user_id=user_id)
    rt.db.token_cache.clear()


# -- sign-ins and lock-outs ------------------------------------------------------------------
@dataclass(frozen=True)
class SignInState:
    attempts: list[SignInAttempt]  # the most recent, newest first (source: an HMAC, unshown)
    failures_counted: int  # failures that count towards the account's hourly limit now
    limit: int
    locked: bool  # refused everywhere until failures age out or an administrator unlocks
    sources_locked: int  # addresses refused for this account (how many, never which)
    last_success: datetime | None
    cleared_at: datetime | None


def sign_in_state(rt: Runtime, *, admin: User, user_id: int,
                  now: datetime | None = None) -> SignInState:
    _allowed(admin)
    now = now or utcnow()
    settings = rt.settings
    with rt.db.reader() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("No such account.")
        attempts = session.exec(select(SignInAttempt).where(SignInAttempt.user_id == user_id)
                                .order_by(SignInAttempt.at.desc(), SignInAttempt.id.desc())
                                .limit(RECENT_ATTEMPTS)).all()
        counted = signin.counted_since(user, now)
        failed = (SignInAttempt.user_id == user_id, SignInAttempt.succeeded.is_(False),
                  SignInAttempt.at > counted)
        failures = session.exec(select(func.count()).select_from(SignInAttempt)
                                .where(*failed)).one()
        per_source = min(settings.signin_max_failures_per_source_per_hour,
                         settings.signin_max_failures_per_hour)
        sources_locked = len(session.exec(
            select(SignInAttempt.source).where(*failed).group_by(SignInAttempt.source)
            .having(func.count() >= per_source)).all())
        last_success = session.exec(select(func.max(SignInAttempt.at)).where(
            SignInAttempt.user_id == user_id, SignInAttempt.succeeded.is_(True))).one()
    return SignInState(attempts=list(attempts), failures_counted=failures,
                       limit=settings.signin_max_failures_per_hour,
                       locked=failures >= settings.signin_max_failures_per_hour,
                       sources_locked=sources_locked, last_success=last_success,
                       cleared_at=user.failures_cleared_at)


def unlock(rt: Runtime, *, admin: User, user_id: int) -> int:
    """Stop the account's failed sign-ins so far counting towards any lock-out (for the
    account and for each address). Returns how many stopped counting."""
    _allowed(admin)
    now = utcnow()
    with rt.db.unit_of_work() as session:
        user = session.get(User, user_id, with_for_update=not rt.db.is_sqlite)
        if user is None:
            raise NotFound("No such account.")
        cleared = session.exec(select(func.count()).select_from(SignInAttempt).where(
            SignInAttempt.user_id == user_id, SignInAttempt.succeeded.is_(False),
            SignInAttempt.at > signin.counted_since(user, now))).one()
        session.execute(update(User).where(User.id == user_id)
                        .values(failures_cleared_at=now))
        audit.record(session, actor=admin, action="signin.unlock", object_type="user",
                     object_id=user_id, failures=cleared)
    return cleared


@dataclass(frozen=True)
class AccountSignIns:
    user: User
    attempts: int
    failures: int
    last_at: datetime
    locked: bool


@dataclass(frozen=True)
class Overview:
    accounts: list[AccountSignIns]  # accounts with sign-in attempts in the window
    since: datetime
    self_referral_sources_at_limit: int  # public self-referral addresses at the hourly cap


def overview(rt: Runtime, *, admin: User, now: datetime | None = None) -> Overview:
    """Sign-ins of the last day per account, failures first, and who is locked out now."""
    _allowed(admin)
    now = now or utcnow()
    since = now - OVERVIEW_WINDOW
    settings = rt.settings
    with rt.db.reader() as session:
        rows = session.exec(
            select(User, func.count(), func.count().filter(SignInAttempt.succeeded.is_(False)),
                   func.max(SignInAttempt.at))
            .join(User, User.id == SignInAttempt.user_id)
            .where(SignInAttempt.at > since).group_by(User.id)).all()
        # The last hour's failures of these accounts, in one read; each counts from the
        # account's own start (an unlock moves it).
        recent = session.exec(select(SignInAttempt.user_id, SignInAttempt.at).where(
            SignInAttempt.user_id.in_([user.id for user, *_ in rows]),
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.at > now - timedelta(hours=1))).all() if rows else []
        accounts = []
        for user, attempts, failures, last_at in rows:
            since = signin.counted_since(user, now)
            counting = sum(1 for uid, at in recent if uid == user.id and at > since)
            accounts.append(AccountSignIns(
                user=user, attempts=attempts, failures=failures, last_at=last_at,
                locked=counting >= settings.signin_max_failures_per_hour))
        at_limit = len(session.exec(
            select(RateLimitHit.key).where(RateLimitHit.bucket == SELF_REFERRAL_BUCKET,
                                           RateLimitHit.at > now - timedelta(hours=1))
            .group_by(RateLimitHit.key)
            .having(func.count() >= settings.self_referral_per_ip_per_hour)).all())
    accounts.sort(key=lambda a: (not a.locked, -a.failures, -a.last_at.timestamp()))
    return Overview(accounts=accounts, since=since, self_referral_sources_at_limit=at_limit)
