"""Signing staff and partners in and out of the web app: server-side sessions in the database.

The browser holds a random token; the database holds its SHA-256, the user, when the session
began and when it was last used. A session ends after the idle timeout, at the absolute
lifetime, or at sign-out (the row is deleted). Failed passwords are capped per account per
hour. Every sign-in, failure, refusal and sign-out is an audit event (ids only).
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
from sqlmodel import select

from triage.errors import TriageError, ValidationFailed
from triage.models import SignInAttempt, User, WebSession
from triage.models.base import utcnow
from triage.runtime import Runtime
from triage.services import accounts, audit
from triage.services.passwords import password_problems

# A session's last-seen time is written at most this often (not on every page view).
TOUCH_EVERY = timedelta(seconds=60)
# Checked against when the email is unknown, so an unknown account costs as much time as a
# known one and response times do not reveal which emails have accounts.
_DUMMY_HASH = PasswordHasher().hash("not-a-real-password-" + secrets.token_hex(8))


class SignInRefused(TriageError):
    """The email and password were not accepted (or the account is locked for now)."""

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
            now: datetime | None = None) -> SignedIn:
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
    with rt.db.reader() as session:
        user = session.exec(select(User).where(User.email == email)).first()
        failures = 0
        if user is not None:
            failures = session.exec(
                select(func.count()).select_from(SignInAttempt).where(
                    SignInAttempt.user_id == user.id, SignInAttempt.succeeded.is_(False),
                    SignInAttempt.at > now - timedelta(hours=1))).one()
    if user is None or not user.active:
        # Only spending the same time as a real check; the result does not matter.
        with contextlib.suppress(Exception):
            PasswordHasher().verify(_DUMMY_HASH, password)
        with rt.db.unit_of_work() as session:
            audit.record(session, actor=None, action="signin.failed", object_type="user",
                         object_id=user.id if user else "unknown",
                         why="inactive" if user else "unknown_account")
        raise SignInRefused("Enter a correct email address and password.")
    if failures >= rt.settings.signin_max_failures_per_hour:
        with rt.db.unit_of_work() as session:
            audit.record(session, actor=None, action="signin.locked", object_type="user",
                         object_id=user.id, failures=failures)
        raise SignInRefused("There have been too many failed attempts to sign in to this "
                            "account. Try again in an hour, or ask your administrator.")
    ok = accounts.verify_password(user, password)
    token = secrets.token_urlsafe(32)
    with rt.db.unit_of_work() as session:
        session.add(SignInAttempt(user_id=user.id, at=now, succeeded=ok))
        if not ok:
            audit.record(session, actor=None, action="signin.failed", object_type="user",
                         object_id=user.id, why="wrong_password")
        else:
            if previous_token:
                session.execute(delete(WebSession).where(
                    WebSession.id == _digest(previous_token)))
            row = WebSession(id=_digest(token), user_id=user.id, created_at=now,
                             last_seen_at=now, csrf_token=secrets.token_urlsafe(32))
            session.add(row)
            audit.record(session, actor=user, action="signin.ok", object_type="user",
                         object_id=user.id)
    if not ok:
        raise SignInRefused("Enter a correct email address and password.")
    return SignedIn(token=token, session=row, user=user)


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
    if not accounts.verify_password(user, current or ""):
        errors["current_password"] = ["Your current password is not correct."]
    problems = password_problems(new)
    if problems:
        errors["new_password"] = problems
    elif new != confirm:
        errors["confirm_password"] = ["The passwords do not match."]
    if errors:
        raise ValidationFailed(errors)
    with rt.db.unit_of_work() as session:
        session.execute(update(User).where(User.id == user.id)
                        .values(password_hash=accounts.hash_password(new)))
        audit.record(session, actor=user, action="password.changed", object_type="user",
                     object_id=user.id)


def end_other_sessions(rt: Runtime, *, user: User, keep_token: str | None) -> None:
    keep = _digest(keep_token) if keep_token else ""
    with rt.db.unit_of_work() as session:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id,
                                                 WebSession.id != keep))
