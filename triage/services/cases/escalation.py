"""The escalation sweep: open cases past a deadline are marked overdue, and for timescales that
escalate, the team's managers are told through the outbox, once per deadline.

A periodic sweep over the database (Celery beat in production, the in-process timer in the
embedded mode), never a countdown task. It reads only the cases whose escalation_due_at or
next_due_at has passed (both indexed). Each case is updated only if it still has the version
and escalated_at it was read with, and afterwards escalation_due_at points past what was
escalated, so a second run, or two sweeps at once, change nothing more.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from triage.models import Case
from triage.models.base import utcnow
from triage.services import audit
from triage.services.cases.case_dues import CaseView, due_columns, histories, overdue_to_escalate
from triage.services.notices import outbox

log = logging.getLogger(__name__)

BATCH = 200


def escalate_overdue(rt: Any, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Mark overdue cases and escalate what is newly overdue; returns how many cases were
    escalated."""
    now = now or utcnow()
    calendar = rt.pathways.calendar
    table = Case.__table__.c
    escalated = 0
    with rt.db.unit_of_work() as session:
        to_escalate_ids = session.exec(
            select(Case.id).where(Case.escalation_due_at <= now, Case.closed_at.is_(None))
            .order_by(Case.escalation_due_at).limit(limit)).all()
        unmarked_ids = session.exec(
            select(Case.id).where(Case.next_due_at <= now, Case.overdue_since.is_(None),
                                  Case.closed_at.is_(None))
            .order_by(Case.next_due_at).limit(limit)).all()
        ids = sorted({*to_escalate_ids, *unmarked_ids})
        if not ids:
            return 0
        cases = session.exec(select(Case).where(Case.id.in_(ids)).order_by(Case.id)).all()
        history = histories(session, ids)
        for case in cases:
            pathway = rt.pathways.for_service(case.service)
            items = pathway.due(CaseView.of(case, history[case.id]), now=now, calendar=calendar)
            overdue = overdue_to_escalate(items, calendar=calendar, now=now,
                                          escalated_at=case.escalated_at)
            escalated_at = now if overdue else case.escalated_at
            values = {**due_columns(items, calendar=calendar, now=now,
                                    escalated_at=escalated_at).as_values(),
                      "escalated_at": escalated_at}
            unchanged = (table.escalated_at.is_(None) if case.escalated_at is None
                         else table.escalated_at == case.escalated_at)
            result = session.execute(
                update(Case.__table__)
                .where(table.id == case.id, table.version == case.version, unchanged)
                .values(**values))
            if result.rowcount != 1 or not overdue:
                continue  # moved or escalated meanwhile: the next sweep looks again
            due = [{"kind": d.kind, "label": d.label, "due_at": d.due_at.isoformat()}
                   for d in overdue]
            audit.record(session, actor=None, action="case.escalated", object_type="case",
                         object_id=case.id, due=[(d["kind"], d["due_at"]) for d in due])
            outbox.enqueue(session, topic="case.escalated",
                           payload={"case_id": case.id, "items": due})
            escalated += 1
        ids_out = outbox.committed_ids(session)
    rt.relay.after_commit(ids_out)
    if escalated:
        log.info("cases.escalated", extra={"count": escalated})
    return escalated
