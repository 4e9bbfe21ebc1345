"""The front door's worklists: new today, awaiting consent, needs review, overdue (read-only).

Every list is one indexed count that stops at a cap and one page of rows read from where the
last page ended, so a list costs the same with a million referrals as with fifty. (A team's
own case worklist is triage.services.worklists.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from triage.models import Case, Decision, Referral, ReferralStatus, User
from triage.models.base import utcnow
from triage.policy import FRONT_DOOR_PAGES, require
from triage.runtime import Runtime
from triage.services import paging
from triage.services.paging import Count, Listed
from triage.services.privacy import visibility

PAGE_SIZE = 50
LONDON = ZoneInfo("Europe/London")

WORKLISTS = {
    "new_today": "New today",
    "awaiting_consent": "Awaiting consent",
    "needs_review": "Needs review",
    "overdue": "Overdue cases",
}
DESCRIPTIONS = {
    "new_today": "Referrals received since midnight.",
    "awaiting_consent": "Decided, but no case is opened until the person agrees.",
    "needs_review": "Out of area, postcode not found, or declined by a service and returned "
                    "for re-triage.",
    "overdue": "Open cases past a timescale of their pathway.",
}


@dataclass
class ReferralRow:
    reference: str
    received_at: datetime
    channel: str
    status: str
    urgent: bool
    level: int | None
    level_code: str | None
    due: date
    overdue: bool
    review_reasons: list[str]
    re_referral: bool = False  # a case for the family had closed within the profile's window


@dataclass
class CaseRow:
    case: Case
    reference: str
    due: date | None
    overdue_since: datetime | None


def _start_of_today(now: datetime) -> datetime:
    local = now.astimezone(LONDON).date()
    return datetime.combine(local, time(0), tzinfo=LONDON).astimezone(UTC)


def _where(name: str, now: datetime) -> list[Any]:
    if name == "new_today":
        return [Referral.received_at >= _start_of_today(now)]
    if name == "awaiting_consent":
        return [Referral.status == ReferralStatus.awaiting_consent]
    if name == "needs_review":
        return [Referral.status == ReferralStatus.needs_review]
    raise KeyError(name)


def _overdue_where(now: datetime) -> list[Any]:
    return [Case.closed_at.is_(None), Case.next_due_at <= now]


def _visible(session: Session, user: User) -> tuple[list[Any], list[Any]]:
    """Extra conditions leaving off referrals and cases a restriction hides from the user."""
    hidden = visibility.hidden_for(session, user)
    return ([Referral.id.not_in(hidden.referrals)] if hidden.referrals else [],
            [Case.id.not_in(hidden.cases)] if hidden.cases else [])


def counts(rt: Runtime, *, user: User, now: datetime | None = None,
           cap: int | None = None) -> dict[str, Count]:
    """How many are in each worklist, counted up to `cap` ("1,000 or more" beyond)."""
    require(user, FRONT_DOOR_PAGES, "see the front door's worklists")
    now = now or utcnow()
    out = {}
    with rt.db.reader() as session:
        referrals, cases = _visible(session, user)
        for name in ("new_today", "awaiting_consent", "needs_review"):
            out[name] = paging.capped_count(session, [*_where(name, now), *referrals],
                                            Referral, cap)
        out["overdue"] = paging.capped_count(session, [*_overdue_where(now), *cases], Case, cap)
    return out


def referral_rows(rt: Runtime, *, user: User, name: str, after: str | None = None,
                  now: datetime | None = None, cap: int | None = None,
                  page_size: int | None = None) -> Listed:
    """One page of a referral worklist (oldest first: the longest waiting at the top; new
    today newest first), starting after the cursor `after`, and the list's count."""
    require(user, FRONT_DOOR_PAGES, "see the front door's worklists")
    now = now or utcnow()
    page_size = page_size or PAGE_SIZE
    cursor = paging.parse_cursor(after)
    calendar = rt.pathways.calendar
    within = rt.profile.front_door.decision_within_working_days
    today = now.astimezone(LONDON).date()
    newest_first = name == "new_today"
    order = ([Referral.received_at.desc(), Referral.id.desc()] if newest_first
             else [Referral.received_at, Referral.id])
    seek = ([paging.after(Referral.received_at, Referral.id, cursor, descending=newest_first)]
            if cursor and cursor.moment else [])
    with rt.db.reader() as session:
        visible, _ = _visible(session, user)
        total = paging.capped_count(session, [*_where(name, now), *visible], Referral, cap)
        referrals = session.exec(select(Referral).where(*_where(name, now), *visible, *seek)
                                 .order_by(*order).limit(page_size + 1)).all()
        more = len(referrals) > page_size
        referrals = referrals[:page_size]
        decisions = _decisions(session, [r.id for r in referrals])
    rows = []
    for r in referrals:
        due = calendar.add_working_days(r.received_at.astimezone(LONDON).date(), within)
        body = decisions.get(r.id, {})
        rows.append(ReferralRow(
            reference=r.reference, received_at=r.received_at, channel=r.channel,
            status=r.status, urgent=r.urgent, level=body.get("level"),
            level_code=str(body.get("level_code", body.get("level"))) if body else None, due=due,
            overdue=today > due and r.status != ReferralStatus.routed,
            review_reasons=list(body.get("review_reasons") or []),
            re_referral=r.re_referral_of_case_id is not None))
    last = referrals[-1] if referrals else None
    return Listed(rows, total, paging.cursor_after(last.received_at, last.id)
                  if more and last else None)


def _decisions(session: Session, ids: list[int]) -> dict[int, dict]:
    """The decision in force for each referral: the override when there is one."""
    if not ids:
        return {}
    out: dict[int, dict] = {}
    for d in session.exec(select(Decision).where(Decision.referral_id.in_(ids),
                                                 Decision.current.is_(True))).all():
        if d.referral_id not in out or d.kind == "override":
            out[d.referral_id] = d.body
    return out


def overdue_rows(rt: Runtime, *, user: User, after: str | None = None,
                 now: datetime | None = None, cap: int | None = None,
                 page_size: int | None = None) -> Listed:
    """One page of the open cases past a timescale, longest overdue first, starting after the
    cursor `after` (read in order from ix_case_open_next_due), and the list's count."""
    require(user, FRONT_DOOR_PAGES, "see the front door's worklists")
    now = now or utcnow()
    page_size = page_size or PAGE_SIZE
    cursor = paging.parse_cursor(after)
    seek = ([paging.after(Case.next_due_at, Case.id, cursor)]
            if cursor and cursor.moment else [])
    with rt.db.reader() as session:
        _, visible = _visible(session, user)
        total = paging.capped_count(session, [*_overdue_where(now), *visible], Case, cap)
        rows = session.exec(select(Case, Referral.reference)
                            .join(Referral, Referral.id == Case.referral_id)
                            .where(*_overdue_where(now), *visible, *seek)
                            .order_by(Case.next_due_at, Case.id).limit(page_size + 1)).all()
    more = len(rows) > page_size
    rows = rows[:page_size]
    last = rows[-1][0] if rows else None
    # next_due_at is the moment the case becomes overdue: the start of the day after it is due.
    return Listed([CaseRow(case=c, reference=ref,
                           due=(c.next_due_at - timedelta(microseconds=1)).astimezone(LONDON)
                           .date() if c.next_due_at else None,
                           overdue_since=c.overdue_since) for c, ref in rows],
                  total, paging.cursor_after(last.next_due_at, last.id) if more and last
                  else None)
