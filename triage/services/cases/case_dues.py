"""A case as its pathway reads it, and what is due on it as the columns the worklist and the
escalation sweep query (next_due_at, overdue_since, escalation_due_at)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, select

from triage.models import Case, CaseEvent
from workflows import Due, Pathway, WorkingCalendar

# History rows that name who holds a case; they keep its state (casework.assign_worker).
WORKER_EVENTS = frozenset({"assign"})


@dataclass
class CaseView:
    """What workflows reads from a case (workflows.CaseLike): the row's fields plus its history.

    The Case row is a table, not a place for a history list; this view is built per request and
    `fire` sets only its `state`."""

    state: str
    history: list[Any] = field(default_factory=list)
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    instance: str | None = None

    @classmethod
    def of(cls, case: Case, history: Sequence[Any]) -> CaseView:
        """The pathway reads the state moves only: who holds the case (an `assign` row) is
        not a step of its pathway, so it never starts or stops a clock nor replays."""
        moves = [row for row in history if row.event not in WORKER_EVENTS]
        return cls(state=case.state, history=moves, opened_at=case.opened_at,
                   closed_at=case.closed_at, instance=case.instance)


@dataclass(frozen=True)
class DueColumns:
    next_due_at: datetime | None
    overdue_since: datetime | None
    escalation_due_at: datetime | None

    def as_values(self) -> dict[str, datetime | None]:
        return {"next_due_at": self.next_due_at, "overdue_since": self.overdue_since,
                "escalation_due_at": self.escalation_due_at}


def deadline(calendar: WorkingCalendar, day: date) -> datetime:
    """The moment something due on `day` becomes overdue: the start of the next day where the
    council is (Due.overdue says the same thing in dates)."""
    zone = calendar.timezone or UTC
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def due_columns(items: Iterable[Due], *, calendar: WorkingCalendar, now: datetime,
                escalated_at: datetime | None) -> DueColumns:
    """The columns for a case from what is due on it. An escalating item counts as escalated
    when the last escalation came after its deadline (the sweep escalates every overdue item
    at once), so a later event does not escalate it again."""
    items = list(items)
    if not items:
        return DueColumns(None, None, None)
    deadlines = [deadline(calendar, d.due_at) for d in items]
    next_due = min(deadlines)
    pending = [when for d, when in zip(items, deadlines, strict=True)
               if d.escalate and (escalated_at is None or when > escalated_at)]
    return DueColumns(next_due_at=next_due,
                      overdue_since=next_due if next_due <= now else None,
                      escalation_due_at=min(pending) if pending else None)


def overdue_to_escalate(items: Iterable[Due], *, calendar: WorkingCalendar, now: datetime,
                        escalated_at: datetime | None) -> list[Due]:
    """The escalating items that are overdue now and were not overdue at the last escalation."""
    out = []
    for d in items:
        when = deadline(calendar, d.due_at)
        if d.escalate and when <= now and (escalated_at is None or when > escalated_at):
            out.append(d)
    return out


def columns_for(pathway: Pathway, view: CaseView, *, calendar: WorkingCalendar, now: datetime,
                escalated_at: datetime | None) -> DueColumns:
    return due_columns(pathway.due(view, now=now, calendar=calendar), calendar=calendar,
                       now=now, escalated_at=escalated_at)


def histories(session: Session, case_ids: Sequence[int]) -> dict[int, list[CaseEvent]]:
    """Every listed case's history, oldest first, in one query."""
    out: dict[int, list[CaseEvent]] = {i: [] for i in case_ids}
    if not case_ids:
        return out
    rows = session.exec(select(CaseEvent).where(CaseEvent.case_id.in_(list(case_ids)))
                        .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)).all()
    for row in rows:
        out[row.case_id].append(row)
    return out
