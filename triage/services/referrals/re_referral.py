"""Re-referrals: a referral for a person or family with a case closed within the profile's
window (front_door.re_referral_months), worked out once at intake and kept on the referral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlmodel import Session

from triage.models import Case, HouseholdMember, Referral, User
from triage.policy import can_view_case
from triage.runtime import Runtime
from triage.services.privacy import visibility
from triage.statements import BySize, Row, in_list

_CASE = Case.__table__
_MEMBER = HouseholdMember.__table__

# The most recently closed case, closed since a moment, of any household n people belong
# to: the person index of household_member, then ix_case_household_closed per household.
# A person who moved is still a member of the old household, so its cases follow them.
_CLOSED_SINCE = BySize(lambda n: select(_CASE.c.id, _CASE.c.service, _CASE.c.closed_at)
                       .join(_MEMBER, _MEMBER.c.household_id == _CASE.c.household_id)
                       .where(_MEMBER.c.person_id.in_([bindparam(f"p{i}") for i in range(n)]),
                              _CASE.c.closed_at >= bindparam("since"))
                       .order_by(_CASE.c.closed_at.desc(), _CASE.c.id.desc()).limit(1))


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


def case_closed_within(session: Session, *, person_ids: list[int], months: int | None,
                       now: datetime) -> ReReferral | None:
    """The case most recently closed within `months` of `now` for any household these known
    people belong to; None without known people or a window (one indexed read at most)."""
    if months is None or not person_ids:
        return None
    size, params = in_list("p", person_ids)
    found = _CLOSED_SINCE[size].first(session, {**params,
                                                "since": months_before(now, months)})
    return ReReferral(*found) if found else None


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
