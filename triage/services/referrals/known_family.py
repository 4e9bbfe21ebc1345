"""What intake needs to know about a family already known, read in one statement: the
household at the referral's postcode that a known person belongs to (the newest, and which
of them are its members already), the case most recently closed within the re-referral
window for any household of theirs (a person who moved is still a member of the old
household, so its cases follow them), and the instance of that household's open
family-support case (the most recently opened).

These were three reads one after another for every referral about a known person; the
test's oracle (tests/profiles/test_known_family.py) still asks each question on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from triage.models import Case, Household, HouseholdMember
from triage.services.referrals.re_referral import ReReferral, months_before
from triage.services.referrals.routing import open_support_instance
from triage.statements import BySize, Row, in_list

_CASE = Case.__table__
_HOUSEHOLD = Household.__table__
_MEMBER = HouseholdMember.__table__
_HOUSEHOLD_COLUMNS = tuple(c.name for c in _HOUSEHOLD.columns)


def _statement(sizes: tuple[int, int]):
    """One row per (known person, household of theirs): the household's columns, the person,
    the household's case most recently closed since `since` and its open family-support
    case's instance (each picked by a correlated subquery on ix_case_household_closed; the
    only filter is on the people, so every plan starts from the person index however many
    households share a postcode or people a household)."""
    people, services = sizes
    latest = _CASE.alias("latest")
    closed = (select(latest.c.id)
              .where(latest.c.household_id == _HOUSEHOLD.c.id,
                     latest.c.closed_at >= bindparam("since"))
              .order_by(latest.c.closed_at.desc(), latest.c.id.desc()).limit(1)
              .correlate(_HOUSEHOLD).scalar_subquery())
    # The same question routing.open_family_support_instance asks, for each household here.
    open_instance = (open_support_instance(_CASE.alias("support"), _HOUSEHOLD.c.id, services)
                     .correlate(_HOUSEHOLD).scalar_subquery())
    again = _CASE.alias("again")
    return (select(_HOUSEHOLD, _MEMBER.c.person_id.label("member_id"),
                   again.c.id.label("again_case_id"), again.c.service.label("again_service"),
                   again.c.closed_at.label("again_closed_at"),
                   open_instance.label("open_instance"))
            .select_from(_HOUSEHOLD.join(_MEMBER, _MEMBER.c.household_id == _HOUSEHOLD.c.id)
                         .outerjoin(again, again.c.id == closed))
            .where(_MEMBER.c.person_id.in_([bindparam(f"p{i}") for i in range(people)])))


_FAMILY_OF = BySize(_statement)


@dataclass(frozen=True)
class KnownFamily:
    household: Row | None  # at the referral's postcode; None: a new household
    members: set[int]  # the known people already its members (add_members adds to it)
    again: ReReferral | None  # the case that makes the referral a re-referral
    open_family_support: str | None  # the household's open family-support case's instance


def known_family(session: Session, *, postcode: str, found: list[Any], now: datetime,
                 re_referral_months: int | None, services: tuple[str, ...]) -> KnownFamily:
    """What is known of the family of the people matched (`found`, None for a new person):
    no read at all when none of them is known. `members` is the caller's to add to."""
    known_ids = [p.id for p in found if p is not None]
    if not known_ids:
        return KnownFamily(None, set(), None, None)
    people, params = in_list("p", known_ids)
    size, service_params = in_list("s", services)
    since = months_before(now, re_referral_months) if re_referral_months is not None else None
    rows = _FAMILY_OF[people, size].records(session, {**params, **service_params,
                                                      "since": since})
    closed = [r for r in rows if r.again_case_id is not None]
    latest = max(closed, key=lambda r: (r.again_closed_at, r.again_case_id)) if closed else None
    again = ReReferral(latest.again_case_id, latest.again_service, latest.again_closed_at) \
        if latest else None
    here = [r for r in rows if r.postcode == postcode]
    if not here:
        return KnownFamily(None, set(), again, None)
    newest = max(here, key=lambda row: row.id)
    return KnownFamily(
        household=Row(**{name: getattr(newest, name) for name in _HOUSEHOLD_COLUMNS}),
        members={r.member_id for r in here if r.id == newest.id},
        again=again,
        open_family_support=newest.open_instance,
    )


__all__ = ["KnownFamily", "known_family"]
