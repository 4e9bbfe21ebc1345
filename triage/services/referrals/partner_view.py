"""What a partner sees: only the referrals they submitted, with state and outcome (read-only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import select

from triage.models import Case, Referral, User
from triage.policy import PARTNER_PAGES, require
from triage.runtime import Runtime
from triage.services import paging
from triage.services.paging import Listed

PAGE_SIZE = 50


@dataclass
class PartnerReferral:
    reference: str
    received_at: datetime
    status: str
    cases: list[Case] = field(default_factory=list)


def own_referrals(rt: Runtime, *, user: User, after: str | None = None,
                  cap: int | None = None, page_size: int | None = None) -> Listed:
    """The partner's own referrals, newest first, each with its cases' states and outcomes:
    one page starting after the cursor `after`, how many they sent (counted up to `cap`),
    and where the next page starts."""
    require(user, PARTNER_PAGES, "see a partner's referrals")
    page_size = page_size or PAGE_SIZE
    cursor = paging.parse_cursor(after)
    mine = [Referral.submitted_by_id == user.id]
    seek = ([paging.after(Referral.received_at, Referral.id, cursor, descending=True)]
            if cursor and cursor.moment else [])
    with rt.db.reader() as session:
        total = paging.capped_count(session, mine, Referral, cap)
        referrals = session.exec(
            select(Referral).where(*mine, *seek)
            .order_by(Referral.received_at.desc(), Referral.id.desc())
            .limit(page_size + 1)).all()
        more = len(referrals) > page_size
        referrals = referrals[:page_size]
        out = {r.id: PartnerReferral(r.reference, r.received_at, r.status) for r in referrals}
        if out:
            for case in session.exec(select(Case).where(Case.referral_id.in_(out))
                                     .order_by(Case.id)).all():
                out[case.referral_id].cases.append(case)
    last = referrals[-1] if referrals else None
    return Listed(list(out.values()), total,
                  paging.cursor_after(last.received_at, last.id) if more and last else None)
