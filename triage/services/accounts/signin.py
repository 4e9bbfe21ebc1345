"""Signing staff and partners in and out of the web app: server-side sessions in the database.

The browser holds a random token; the database holds its SHA-256, the user, when the session
began and when it was last used. A session ends after the idle timeout, at the absolute
lifetime, or at sign-out (the row is deleted). Failed passwords are capped per account and
source address per hour (so a stranger guessing at one address stops long before the
account's owner is locked out) and, higher, per account per hour. Every sign-in, failure,
refusal and sign-out is an audit event (ids only).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from triage.errors import TriageError, ValidationFailed
from triage.models import SignInAttempt, User, WebSession
from triage.models.base import utcnow
from triage.runtime import Runtime
from triage.services import audit
from triage.services.accounts import rate_limits, users
from triage.services.accounts.passwords import password_problems

# A session's last-seen time is written at most this often (not on every page view).
TOUCH_EVERY = timedelta(seconds=60)
# Checked against whenever a sign-in is refused without a real check (unknown email, locked,
# disabled or no password), so every refusal costs as much time as a wrong password and
# response times do not reveal which emails have accounts.
_DUMMY_HASH = PasswordHasher().hash("not-a-real-password-" + secrets.token_hex(8))


# The one answer to every refused sign-in (unknown email, wrong password, locked, disabled,
# no password set): telling them apart would reveal which emails have accounts.
REFUSED = "Enter a correct email address and password."


class SignInRefused(TriageError):
    """The email and password were not accepted (or the account is locked, disabled or has no
    password: the person is not told which)."""

    status = 401


class SessionEnd(StrEnum):
    none = "none"
    idle = "idle"
    expired = "expired"


@dataclass(frozen=True)
class SignedIn:
    token: str  # for the cookie only; never stored
    session: WebSession
    user: User


@dataclass(frozen=True)
class Found:
    session: WebSession | None
    user: User | None
    ended: SessionEnd = SessionEnd.none


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _limits(rt: Runtime) -> tuple[timedelta, timedelta]:
    s = rt.settings
    return timedelta(minutes=s.session_idle_minutes), timedelta(hours=s.session_absolute_hours)


def sign_in(rt: Runtime, *, email: str, password: str, previous_token: str | None = None,
            source: str | None = None, now: datetime | None = None) -> SignedIn:
    """Check the password and start a new session (a new id: any session the browser had
    before is deleted, so a planted session id is worthless after sign-in)."""
    now = now or utcnow()
    email = (email or "").strip().lower()
    errors = {}
    if not email:
        errors["email"] = ["Enter your email address."]
    if not password:
        errors["password"] = ["Enter your password."]
    if errors:
        raise ValidationFailed(errors, message="Enter your email address and password.")
    # Decide, count and record in one write transaction, before any password is checked:
    # the user's row is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite's BEGIN
    # IMMEDIATE already serialises writers), so parallel guesses queue here and at most the
    # hourly limit of them ever reaches the password check. The attempt is recorded as a
    # failure at once and only marked a success after the password is verified.
    with rt.db.unit_of_work() as session:
        user = session.exec(select(User).where(User.email == email).with_for_update()).first()
        why, failures, attempt_id = _admit(rt, session, user, now,
                                           rate_limits.source_key(rt, source or "unknown"))
    if why is None:
        ok = users.verify_password(user, password)
    else:
        # Every refusal spends the same time as a real check; the result does not matter.
        ok = False
        with contextlib.suppress(Exception):
            PasswordHasher().verify(_DUMMY_HASH, password)
    if not ok:
        why = why or "wrong_password"
        locked = why.startswith("locked")
        with rt.db.unit_of_work() as session:
            # Which refusal it was is recorded here only: the person is told the same thing
            # in every case, so the answer does not reveal whether (or how) an account exists.
            audit.record(session, actor=None,
                         action="signin.locked" if locked else "signin.failed",
                         object_type="user", object_id=user.id if user else "unknown",
                         why=why, **({"failures": failures} if locked else {}))
        raise SignInRefused(REFUSED)
    token = secrets.token_urlsafe(32)
    with rt.db.unit_of_work() as session:
        session.execute(update(SignInAttempt).where(SignInAttempt.id == attempt_id)
                        .values(succeeded=True))
        if previous_token:
            session.execute(delete(WebSession).where(WebSession.id == _digest(previous_token)))
        row = WebSession(id=_digest(token), user_id=user.id, created_at=now,
                         last_seen_at=now, csrf_token=secrets.token_urlsafe(32))
        session.add(row)
        audit.record(session, actor=user, action="signin.ok", object_type="user",
                     object_id=user.id)
    return SignedIn(token=token, session=row, user=user)


def _admit(rt: Runtime, session: Session, user: User | None, now: datetime,
           source: str) -> tuple[str | None, int, int | None]:
    """Inside the sign-in's write transaction: (why refused or None, the failures in the
    last hour that count for it (from this address when refused for the address), the id
    of the attempt recorded). An attempt on a known account is always recorded (as failed
    until the password is verified), so it counts against the limits at once."""
    if user is None:
        return "unknown_account", 0, None
    failures, from_source = session.exec(
        select(func.count(), func.count().filter(SignInAttempt.source == source))
        .select_from(SignInAttempt).where(
            SignInAttempt.user_id == user.id, SignInAttempt.succeeded.is_(False),
            SignInAttempt.at > counted_since(user, now))).one()
    attempt = SignInAttempt(user_id=user.id, at=now, succeeded=False, source=source)
    session.add(attempt)
    session.flush()
    if not user.active:
        return "inactive", failures, attempt.id
    if not user.password_hash:
        return "no_password", failures, attempt.id
    per_hour = rt.settings.signin_max_failures_per_hour
    if from_source >= min(rt.settings.signin_max_failures_per_source_per_hour, per_hour):
        return "locked_for_source", from_source, attempt.id
    if failures >= per_hour:
        return "locked", failures, attempt.id
    return None, failures, attempt.id


def counted_since(user: User, now: datetime) -> datetime:
    """Failed sign-ins after this moment count towards a lock-out: the last hour, or less
    when an administrator unlocked the account since."""
    since = now - timedelta(hours=1)
    cleared = user.failures_cleared_at
    return max(since, cleared) if cleared is not None else since


def session_for(rt: Runtime, token: str | None, *, now: datetime | None = None) -> Found:
    """The live session and its user for a cookie token; an idle or expired one is deleted."""
    if not token or len(token) > 100:
        return Found(None, None)
    now = now or utcnow()
    key = _digest(token)
    with rt.db.reader() as session:
        row = session.exec(select(WebSession, User).join(User, User.id == WebSession.user_id)
                           .where(WebSession.id == key)).first()
    if row is None:
        return Found(None, None)
    web_session, user = row
    idle, absolute = _limits(rt)
    ended = SessionEnd.none
    if now - web_session.created_at > absolute:
        ended = SessionEnd.expired
    elif now - web_session.last_seen_at > idle:
        ended = SessionEnd.idle
    if ended is not SessionEnd.none or not user.active:
        with rt.db.unit_of_work() as session:
            session.execute(delete(WebSession).where(WebSession.id == key))
            audit.record(session, actor=user, action="session.ended", object_type="user",
                         object_id=user.id, why=ended.value if user.active else "inactive")
        return Found(None, None, ended if user.active else SessionEnd.none)
    if now - web_session.last_seen_at > TOUCH_EVERY:
        with rt.db.unit_of_work() as session:
            session.execute(update(WebSession).where(WebSession.id == key)
                            .values(last_seen_at=now))
        web_session.last_seen_at = now
    return Found(web_session, user)


def sign_out(rt: Runtime, token: str | None) -> None:
    """End the session on the server: the row is deleted, so the cookie is worthless."""
    if not token:
        return
    key = _digest(token)
    with rt.db.unit_of_work() as session:
        row = session.get(WebSession, key)
        if row is None:
            return
        session.delete(row)
        audit.record(session, actor=None, action="signout", object_type="user",
                     object_id=row.user_id)


def record_refused(rt: Runtime, *, user: User | None, what: str) -> None:
    """A security event: someone was refused a page or action (ids and route names only)."""
    with rt.db.unit_of_work() as session:
        audit.record(session, actor=user, action="access.refused", object_type="page",
                     object_id=what[:64])


def change_password(rt: Runtime, *, user: User, current: str, new: str, confirm: str) -> None:
    """Change one's own password; every other session of the account is ended."""
    errors: dict[str, list[str]] = {}
    if not users.verify_password(user, current or ""):
        errors["current_password"] = ["Your current password is not correct."]
    problems = password_problems(new)
    if problems:
        errors["new_password"] = problems
    elif new != confirm:
        errors["confirm_password"] = ["The passwords do not match."]
    elif new == current:
        errors["new_password"] = ["Choose a new password, different from your current one."]
    if errors:
        raise ValidationFailed(errors)
    with rt.db.unit_of_work() as session:
        session.execute(update(User).where(User.id == user.id)
                        .values(password_hash=users.hash_password(new),
                                must_change_password=False))
        audit.record(session, actor=user, action="password.changed", object_type="user",
                     object_id=user.id)


def end_other_sessions(rt: Runtime, *, user: User, keep_token: str | None) -> None:
    keep = _digest(keep_token) if keep_token else ""
    with rt.db.unit_of_work() as session:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id,
                                                 WebSession.id != keep))
