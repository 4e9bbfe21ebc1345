"""What the retention schedule finds due now: families whose last case closed long enough
ago, referrals that never became a case, audit rows past their keeping. Read-only; the same
functions re-check a report's ids when an admin confirms it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from config.retention import RetentionRule
from triage.models import AuditEvent, Case, Household, Referral, ReferralStatus

BATCH = 1000  # families or referrals per rule per report; the next report finds the rest
# Referrals still waiting at the front door are never due, however old.
OPEN_AT_FRONT_DOOR = (ReferralStatus.received, ReferralStatus.awaiting_consent,
                      ReferralStatus.needs_review)


def cutoff(rule: RetentionRule, now: datetime) -> datetime:
    """The moment before which a record's keeping moment must fall for it to be due."""
    try:
        return now.replace(year=now.year - rule.keep_years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - rule.keep_years, day=28)


def due_families(session: Session, rule: RetentionRule, now: datetime,
                 only: Iterable[int] | None = None) -> list[int]:
    """Households not yet anonymised with at least one case, none open, no referral waiting
    at the front door, and nothing (received, closed) after the cutoff."""
    before = cutoff(rule, now)
    # Every case closed, the last before the cutoff: decided in the database, so only the
    # households due come back (at a million cases, reading every household's row into
    # Python took seconds of CPU in each web process running the embedded timer).
    last_case = (select(Case.household_id)
                 .where(Case.household_id.is_not(None)).group_by(Case.household_id)
                 .having(func.count(Case.id) == func.count(Case.closed_at),
                         func.max(Case.closed_at) <= before))
    if only is not None:
        last_case = last_case.where(Case.household_id.in_(list(only) or [0]))
    found = list(session.exec(last_case))
    if not found:
        return []
    anonymised = set(session.exec(select(Household.id).where(
        Household.id.in_(found), Household.anonymised_at.is_not(None))))
    busy = set(session.exec(select(Referral.household_id).where(
        Referral.household_id.in_(found),
        (Referral.received_at > before) | Referral.status.in_(OPEN_AT_FRONT_DOOR)
        | (Referral.closed_at > before)).distinct()))
    # A case reached through a referral of the family but recorded on another household.
    open_elsewhere = set(session.exec(select(Referral.household_id).join(
        Case, Case.referral_id == Referral.id).where(
        Referral.household_id.in_(found),
        Case.closed_at.is_(None) | (Case.closed_at > before)).distinct()))
    return sorted(set(found) - anonymised - busy - open_elsewhere)[:BATCH]


def due_referrals(session: Session, rule: RetentionRule, now: datetime,
                  only: Iterable[int] | None = None) -> list[int]:
    """Referrals not yet anonymised, received before the cutoff, that never became a case and
    are no longer waiting at the front door."""
    query = (select(Referral.id).where(
        Referral.anonymised_at.is_(None), Referral.received_at <= cutoff(rule, now),
        Referral.status.not_in(OPEN_AT_FRONT_DOOR),
        ~select(Case.id).where(Case.referral_id == Referral.id).exists())
        .order_by(Referral.id).limit(BATCH))
    if only is not None:
        query = query.where(Referral.id.in_(list(only) or [0]))
    return list(session.exec(query))


def due_audit(session: Session, rule: RetentionRule, now: datetime) -> dict[str, Any]:
    """Audit rows recorded before the cutoff: counted, and bounded by the highest id seen, so
    a confirmation erases exactly the rows reported."""
    before = cutoff(rule, now)
    count, max_id = session.exec(select(func.count(AuditEvent.id), func.max(AuditEvent.id))
                                 .where(AuditEvent.at <= before)).one()
    return {"before": before.isoformat(), "max_id": max_id, "count": count}
