"""Drafts of multi-page public forms: kept on the server until sent or expired, never longer.

Sending is claimed atomically (claim: one UPDATE that only one request can win), so two quick
submissions of one draft send it once. While it is being sent the draft's kind carries
":sending"; if sending fails the claim is released and the answers are kept. Once sent, the
answers are erased and only the reference is kept (kind ":sent") until the draft would have
expired, so a repeated submission can be shown the reference instead of sending it again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import select

from triage.models import FormDraft
from triage.models.base import utcnow
from triage.runtime import Runtime

DRAFT_LIFETIME = timedelta(hours=2)
# A claim older than this was left by a request that died mid-send: it may be claimed again
# (the answers are not lost; a referral created just before the crash could be sent twice).
CLAIM_TIMEOUT = timedelta(minutes=2)
SENDING = ":sending"
SENT = ":sent"


@dataclass(frozen=True)
class Status:
    """What became of a draft that can no longer be edited."""

    sending: bool = False  # another request is sending it now
    reference: str | None = None  # it was sent, with this reference


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def purge_expired(rt: Runtime) -> int:
    """Delete drafts past their lifetime (they hold what a member of the public typed).
    Run by the periodic sweep (Celery beat, or the in-process timer) and when a draft starts;
    running it twice changes nothing more."""
    with rt.db.unit_of_work() as session:
        result = session.execute(
            delete(FormDraft).where(FormDraft.updated_at < utcnow() - DRAFT_LIFETIME))
    return result.rowcount or 0


def start(rt: Runtime, *, kind: str) -> str:
    """A new empty draft; returns the token for the cookie. Expired drafts are purged here."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with rt.db.unit_of_work() as session:
        session.execute(delete(FormDraft).where(FormDraft.updated_at < now - DRAFT_LIFETIME))
        session.add(FormDraft(id=_digest(token), kind=kind, data={}, created_at=now,
                              updated_at=now))
    return token


def _row(rt: Runtime, kind: str, token: str | None) -> FormDraft | None:
    if not token or len(token) > 100:
        return None
    with rt.db.reader() as session:
        row = session.exec(select(FormDraft).where(
            FormDraft.id == _digest(token),
            FormDraft.kind.in_([kind, kind + SENDING, kind + SENT]))).first()
    if row is None or utcnow() - row.updated_at > DRAFT_LIFETIME:
        return None
    return row


def _stale_claim(row: FormDraft, kind: str) -> bool:
    return row.kind == kind + SENDING and utcnow() - row.updated_at > CLAIM_TIMEOUT


def load(rt: Runtime, *, kind: str, token: str | None) -> dict[str, Any] | None:
    """The answers so far; None when there is no draft, or it is being sent or was sent
    (see status)."""
    row = _row(rt, kind, token)
    if row is None or not (row.kind == kind or _stale_claim(row, kind)):
        return None
    return dict(row.data)


def status(rt: Runtime, *, kind: str, token: str | None) -> Status | None:
    """For a draft that load() did not return: being sent, or sent (with its reference);
    None when there is no such draft (never started, or expired)."""
    row = _row(rt, kind, token)
    if row is None or row.kind == kind or _stale_claim(row, kind):
        return None
    if row.kind == kind + SENT:
        return Status(reference=row.data.get("reference"))
    return Status(sending=True)


def claim(rt: Runtime, *, kind: str, token: str | None) -> dict[str, Any] | None:
    """Take the draft for sending; returns its answers, or None if another request has it
    (or it was sent, or is gone). Atomic: of two requests at once, exactly one wins."""
    if not token or len(token) > 100:
        return None
    now = utcnow()
    key = _digest(token)
    with rt.db.unit_of_work() as session:
        claimed = session.execute(
            update(FormDraft)
            .where(FormDraft.id == key, FormDraft.updated_at > now - DRAFT_LIFETIME,
                   (FormDraft.kind == kind) | ((FormDraft.kind == kind + SENDING)
                                               & (FormDraft.updated_at < now - CLAIM_TIMEOUT)))
            .values(kind=kind + SENDING, updated_at=now)).rowcount
        if claimed != 1:
            return None
        row = session.get(FormDraft, key)
        return dict(row.data)


def release(rt: Runtime, *, kind: str, token: str) -> None:
    """Sending failed: the draft is the person's to change and send again, answers intact."""
    with rt.db.unit_of_work() as session:
        session.execute(update(FormDraft).where(FormDraft.id == _digest(token),
                                                FormDraft.kind == kind + SENDING)
                        .values(kind=kind, updated_at=utcnow()))


def mark_sent(rt: Runtime, *, kind: str, token: str, reference: str) -> None:
    """Sent: the answers are erased; the reference is kept until the draft would expire."""
    with rt.db.unit_of_work() as session:
        session.execute(update(FormDraft).where(FormDraft.id == _digest(token))
                        .values(kind=kind + SENT, data={"reference": reference}))


def save(rt: Runtime, *, token: str, data: dict[str, Any], kind: str | None = None) -> None:
    """Keep the answers (with kind: only while the draft is still being filled in, so a page
    sent while the draft is being sent cannot put answers back into a sent draft)."""
    where = [FormDraft.id == _digest(token)]
    if kind is not None:
        where.append(FormDraft.kind == kind)
    with rt.db.unit_of_work() as session:
        session.execute(update(FormDraft).where(*where).values(data=data, updated_at=utcnow()))


def discard(rt: Runtime, *, token: str | None) -> None:
    if not token:
        return
    with rt.db.unit_of_work() as session:
        session.execute(delete(FormDraft).where(FormDraft.id == _digest(token)))
