"""Password resets an administrator issues: a one-time link by email, or a one-time password
shown to the administrator once.

A link's token is `<reset id>.<HMAC of the id and a random nonce with the app's secret>`;
only its SHA-256 is stored. The email is written by an outbox handler after the reset
commits and composed when it is sent (mail.LINKS), so the token is never written down: a
copy of the database cannot be used to reset anyone's password. A link works once, until
it expires (TRIAGE_PASSWORD_RESET_HOURS), a newer reset replaces it or the account is
deactivated. Using it sets the new password and ends every session of the account.

A one-time password replaces the account's password at once, ends its sessions, and makes
the web app ask for a new password before anything else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import delete, update
from sqlmodel import Session, select

from triage import policy
from triage.errors import Conflict, NotFound, TriageError, ValidationFailed, flatten_errors
from triage.models import Notification, PasswordReset, User, WebSession
from triage.models.base import utcnow
from triage.runtime import Runtime
from triage.schemas.accounts import NewPasswordSchema, ResetInSchema
from triage.services import audit
from triage.services.accounts.passwords import password_problems
from triage.services.accounts.users import bump_generation, hash_password
from triage.services.notices import mail, outbox
from triage.services.notices.notify import add_notification

TOPIC = "account.password_reset"
KIND = "account.password_reset"


class ResetLinkInvalid(TriageError):
    """The link is not one we issued, or it was used, replaced or has expired (the person
    is not told which)."""

    status = 404


@dataclass(frozen=True)
class ResetIssued:
    method: str
    expires_at: datetime | None = None
    password: str | None = None  # a one-time password: shown once, never stored


def _token(secret: str, reset_id: int, nonce: str) -> str:
    mac = hmac.new(secret.encode(), f"password-reset:{reset_id}:{nonce}".encode(),
                   hashlib.sha256).hexdigest()
    return f"{reset_id}.{mac}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _end_open_resets(session: Session, user_id: int, now: datetime, why: str) -> None:
    session.execute(update(PasswordReset).where(PasswordReset.user_id == user_id,
                                                PasswordReset.ended_at.is_(None))
                    .values(ended_at=now, ended_by=why))


def issue(rt: Runtime, *, admin: User, user_id: int, body: dict[str, Any]) -> ResetIssued:
    """Reset an active account's password by the method chosen; any earlier link stops
    working. Emailing needs TRIAGE_SMTP_URL (otherwise the email could never be sent)."""
    policy.require(admin, policy.ADMINISTER_ACCOUNTS, "administer accounts")
    try:
        method = ResetInSchema().load(body)["method"]
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None
    if method == "email" and not rt.settings.smtp_url:
        raise ValidationFailed({"method": [
            "Email is not set up for this service (TRIAGE_SMTP_URL): give a one-time "
            "password instead."]})
    now = utcnow()
    password = None
    with rt.db.unit_of_work() as session:
        user = session.get(User, user_id, with_for_update=not rt.db.is_sqlite)
        if user is None:
            raise NotFound("No such account.")
        if not user.active:
            raise Conflict("This account is deactivated: reactivate it first.")
        _end_open_resets(session, user.id, now, "replaced")
        reset = PasswordReset(user_id=user.id, created_by_id=admin.id, method=method,
                              nonce=secrets.token_hex(16), created_at=now, expires_at=now)
        if method == "email":
            reset.expires_at = now + timedelta(hours=rt.settings.password_reset_hours)
        else:
            reset.ended_at, reset.ended_by = now, "used"
        session.add(reset)
        session.flush()
        if method == "email":
            reset.token_hash = _digest(_token(rt.settings.secret_key, reset.id, reset.nonce))
            outbox.enqueue(session, topic=TOPIC, payload={"reset_id": reset.id})
        else:
            # Long enough to be unguessable, short enough to read out; it must be changed at
            # the first sign-in.
            password = secrets.token_urlsafe(12)
            session.execute(update(User).where(User.id == user.id).values(
                password_hash=hash_password(password), must_change_password=True))
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            bump_generation(session, user.id)
        audit.record(session, actor=admin, action="password.reset_issued",
                     object_type="user", object_id=user.id, method=method,
                     reset_id=reset.id)
        ids = outbox.committed_ids(session)
    rt.relay.after_commit(ids)
    return ResetIssued(method=method, password=password,
                       expires_at=reset.expires_at if method == "email" else None)


@outbox.handler(TOPIC)
def reset_requested(session: Session, rt: Any, payload: dict, outbox_id: int) -> None:
    """Write the reset email's notification (its link is added when it is sent); nothing if
    the reset has ended or the account is no longer active."""
    found = session.exec(select(PasswordReset, User).join(User, User.id == PasswordReset.user_id)
                         .where(PasswordReset.id == payload["reset_id"])).first()
    if found is None:
        return
    reset, user = found
    if reset.ended_at is not None or not user.active or reset.method != "email":
        return
    hours = rt.settings.password_reset_hours
    add_notification(
        session, outbox_id=outbox_id, recipient=f"password_reset:{reset.id}",
        email=user.email, kind=KIND, subject="Set a new password for Early Help triage",
        body=(f"An administrator has reset your password. Use the link below to choose a "
              f"new one. It works once, for {hours} hours. If you did not expect this, "
              f"tell your administrator."),
        referral_id=None)


@mail.link_for(KIND)
def _reset_link(rt: Any, session: Session, row: Notification) -> str | None:
    """The link in a reset email, composed as it is sent (the token is never stored)."""
    reset_id = int(row.recipient.rpartition(":")[2])
    reset = session.get(PasswordReset, reset_id)
    if reset is None or reset.ended_at is not None or reset.expires_at <= utcnow():
        return None
    token = _token(rt.settings.secret_key, reset.id, reset.nonce)
    return f"{rt.settings.base_url.rstrip('/')}/account/reset/{token}"


def _find(session: Session, rt: Runtime, token: str, now: datetime) -> PasswordReset:
    reset_id, _, mac = (token or "").partition(".")
    if not reset_id.isdigit() or len(reset_id) > 10 or len(mac) != 64:
        raise ResetLinkInvalid("This link has expired or has already been used.")
    reset = session.get(PasswordReset, int(reset_id))
    if (reset is None or reset.token_hash is None
            or not hmac.compare_digest(reset.token_hash, _digest(token))
            or reset.ended_at is not None or reset.expires_at <= now):
        raise ResetLinkInvalid("This link has expired or has already been used.")
    user = session.get(User, reset.user_id)
    if user is None or not user.active:
        raise ResetLinkInvalid("This link has expired or has already been used.")
    return reset


def check_link(rt: Runtime, *, token: str) -> None:
    """Raise ResetLinkInvalid unless the link can still be used."""
    with rt.db.reader() as session:
        _find(session, rt, token, utcnow())


def use_link(rt: Runtime, *, token: str, body: dict[str, Any]) -> None:
    """Set the account's new password from a reset link (once); every session ends."""
    try:
        data = NewPasswordSchema().load(body)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None
    problems = password_problems(data["new_password"])
    if problems:
        raise ValidationFailed({"new_password": problems})
    if data["new_password"] != data["confirm_password"]:
        raise ValidationFailed({"confirm_password": ["The passwords do not match."]})
    now = utcnow()
    with rt.db.unit_of_work() as session:
        reset = _find(session, rt, token, now)
        # The row's end is written only if nobody used the link meanwhile: a link works once.
        ended = session.execute(update(PasswordReset).where(PasswordReset.id == reset.id,
                                                            PasswordReset.ended_at.is_(None))
                                .values(ended_at=now, ended_by="used"))
        if ended.rowcount != 1:
            raise ResetLinkInvalid("This link has expired or has already been used.")
        session.execute(update(User).where(User.id == reset.user_id).values(
            password_hash=hash_password(data["new_password"]), must_change_password=False))
        session.execute(delete(WebSession).where(WebSession.user_id == reset.user_id))
        bump_generation(session, reset.user_id)
        audit.record(session, actor=None, action="password.reset_used", object_type="user",
                     object_id=reset.user_id, reset_id=reset.id)
