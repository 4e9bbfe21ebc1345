"""Drafts of multi-page public forms: kept on the server until sent or expired, never longer."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import select

from triage.models import FormDraft
from triage.models.base import utcnow
from triage.runtime import Runtime

DRAFT_LIFETIME = timedelta(hours=2)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(rt: Runtime, *, kind: str) -> str:
    """A new empty draft; returns the token for the cookie. Expired drafts are purged here."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with rt.db.unit_of_work() as session:
        session.execute(delete(FormDraft).where(FormDraft.updated_at < now - DRAFT_LIFETIME))
        session.add(FormDraft(id=_digest(token), kind=kind, data={}, created_at=now,
                              updated_at=now))
    return token


def load(rt: Runtime, *, kind: str, token: str | None) -> dict[str, Any] | None:
    if not token or len(token) > 100:
        return None
    with rt.db.reader() as session:
        row = session.exec(select(FormDraft).where(FormDraft.id == _digest(token),
                                                   FormDraft.kind == kind)).first()
    if row is None or utcnow() - row.updated_at > DRAFT_LIFETIME:
        return None
    return dict(row.data)


def save(rt: Runtime, *, token: str, data: dict[str, Any]) -> None:
    with rt.db.unit_of_work() as session:
        session.execute(update(FormDraft).where(FormDraft.id == _digest(token))
                        .values(data=data, updated_at=utcnow()))


def discard(rt: Runtime, *, token: str | None) -> None:
    if not token:
        return
    with rt.db.unit_of_work() as session:
        session.execute(delete(FormDraft).where(FormDraft.id == _digest(token)))
