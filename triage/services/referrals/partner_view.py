"""What a partner sees: only the referrals they submitted, with state and outcome (read-only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import select

from triage.models import Case, Referral, User
from triage.policy import PARTNER_PAGES, require
from triage.runtime import Runtime

PAGE_SIZE = 50


@dataclass
class PartnerReferral:
    reference: str
    received_at: datetime
    status: str
    cases: list[Case] = field(default_factory=list)


def own_referrals(rt: Runtime, *, user: User, page: int = 1
                  ) -> tuple[list[PartnerReferral], int]:
    """The partner's own referrals, newest first, each with its cases' states and outcomes."""
    require(user, PARTNER_PAGES, "see a partner's referrals")
    with rt.db.reader() as session:
        total = session.exec(select(func.count()).select_from(Referral)
                             .where(Referral.submitted_by_id == user.id)).one()
        referrals = session.exec(
            select(Referral).where(Referral.submitted_by_id == user.id)
            .order_by(Referral.received_at.desc())
            .offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        out = {r.id: PartnerReferral(r.reference, r.received_at, r.status) for r in referrals}
        if out:
            for case in session.exec(select(Case).where(Case.referral_id.in_(out))
                                     .order_by(Case.id)).all():
                out[case.referral_id].cases.append(case)
    return list(out.values()), total
