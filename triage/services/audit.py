"""Writing audit events: ids and codes only, never the personal data itself."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlmodel import Session

from triage.models import AuditEvent, User
from triage.statements import new_rows

# The route pattern of the request being served (/cases/<int:case_id>), set by the app for
# each request (triage.errors_http) so that services need not know about Flask; None outside
# a request.
current_route: ContextVar[str | None] = ContextVar("audit_route", default=None)


def record(session: Session, *, actor: User | None, action: str, object_type: str,
           object_id: str | int, **detail: Any) -> None:
    """Add an audit row to the caller's transaction (it commits with the change it describes),
    naming the page or endpoint it happened on."""
    new_rows(session, AuditEvent, [{
        "actor_id": actor.id if actor else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "detail": detail,
        "route": current_route.get(),
    }], ids=False)


def record_each(session: Session, *, actor: User | None,
                events: list[tuple[str, str, str | int, dict[str, Any]]]) -> None:
    """Add many audit rows at once, (action, object_type, object_id, detail) each: one
    statement for a page that shows many records (a meeting pack's cases and referrals)."""
    if events:
        new_rows(session, AuditEvent, [{
            "actor_id": actor.id if actor else None, "action": action,
            "object_type": object_type, "object_id": str(object_id), "detail": detail,
        } for action, object_type, object_id, detail in events], ids=False)
