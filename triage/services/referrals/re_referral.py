"""Re-referrals: a referral for a person or family with a case closed within the profile's
window (front_door.re_referral_months), worked out once at intake (known_family reads the
case) and kept on the referral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from triage.models import Case, Referral, User
from triage.policy import can_view_case
from triage.runtime import Runtime
from triage.services.privacy import visibility
from triage.statements import Row


@dataclass(frozen=True)
class ReReferral:
    """The closed case that makes a referral a re-referral."""

    case_id: int
    service: str
    closed_at: datetime


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when it
    is shorter: 31 March less one month is 28 or 29 February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = datetime(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - datetime(year, month, 1)).days
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def of_referral(session: Session, referral: Referral | Row) -> ReReferral | None:
    """The re-referral kept on a recorded referral (worked out when it was received). A
    restriction that hides the case hides the referral too: the case's household has one of
    the referral's people as a member, and a restriction covers every member's referrals."""
    case_id = getattr(referral, "re_referral_of_case_id", None)
    if case_id is None:
        return None
    case = session.get(Case, case_id)
    service = case.service if case is not None else ""
    return ReReferral(case_id, service, referral.re_referral_closed_at)


def whole_months(earlier: datetime, later: datetime) -> int:
    """Calendar months from `earlier` to `later`, rounded down (3 March to 2 November: 7)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - 1 if months and months_before(later, months) < earlier else months


def may_open_case(rt: Runtime, *, user: User, case_id: int) -> bool:
    """Whether the referral page may link to the closed case (the case page would show it)."""
    with rt.db.reader() as session:
        case = session.get(Case, case_id)
        return (case is not None and can_view_case(user, case, rt.profile.teams)
                and case_id not in visibility.hidden_for(session, user).cases)
