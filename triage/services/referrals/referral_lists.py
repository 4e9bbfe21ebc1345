"""Lists of referrals with their cases' current states and outcomes: a partner's (or any
referrer's) own, and for the front door and managers, everyone's. No personal data is listed."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlmodel import select

from triage.errors import Forbidden, ValidationFailed, flatten_errors
from triage.models import Case, Referral, Role, User
from triage.policy import SEE_ALL_REFERRALS
from triage.runtime import Runtime
from triage.schemas.cases import ReferralListQuerySchema, ReferralListSchema
from triage.services import audit, paging
from triage.services.privacy import visibility


def list_referrals(rt: Runtime, *, user: User, args: dict[str, str]) -> dict[str, Any]:
    """GET /api/v1/referrals: with mine=1 (always, for partners) the caller's own referrals,
    newest first, each with its cases' states and outcomes; the listing is audited."""
    try:
        query = ReferralListQuerySchema().load(args)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None
    mine = query["mine"] or user.role == Role.partner
    if not mine and user.role not in SEE_ALL_REFERRALS:
        raise Forbidden("Your role may list only the referrals you made: add mine=1.")
    stmt = select(Referral)
    if mine:
        stmt = stmt.where(Referral.submitted_by_id == user.id)
    if query["status"]:
        stmt = stmt.where(Referral.status == query["status"])
    with rt.db.reader() as session:
        hidden = visibility.hidden_for(session, user)
    # A partner's own list keeps what they sent (policy.restriction_spares_own_referral).
    if hidden.referrals and user.role != Role.partner:
        stmt = stmt.where(Referral.id.not_in(hidden.referrals))
    cursor = paging.parse_cursor(query["after"])
    if cursor is not None:
        if query["offset"]:
            raise ValidationFailed({"after": ["Give after or offset, not both."]})
        if cursor.moment is None:
            raise ValidationFailed({"after": ["Give the `next` value of the previous page."]})
        stmt = stmt.where(paging.after(Referral.received_at, Referral.id, cursor,
                                       descending=True))
    limit = query["limit"]
    stmt = (stmt.order_by(Referral.received_at.desc(), Referral.id.desc())
            .offset(query["offset"]).limit(limit + 1))
    with rt.db.unit_of_work() as session:
        referrals = session.exec(stmt).all()
        more = len(referrals) > limit
        referrals = referrals[:limit]
        ids = [r.id for r in referrals]
        cases = session.exec(select(Case).where(Case.referral_id.in_(ids))
                             .order_by(Case.id)).all() if ids else []
        linked = {r.id: r.reference for r in session.exec(select(Referral).where(
            Referral.id.in_({r.linked_referral_id for r in referrals
                             if r.linked_referral_id}))).all()} if ids else {}
        audit.record(session, actor=user, action="referral.list", object_type="referral",
                     object_id="mine" if mine else "*", referral_ids=ids)
    by_referral: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for case in cases:
        pathway = rt.pathways.for_service(case.service)
        service = rt.profile.services.get(case.service)
        by_referral[case.referral_id].append({
            "id": case.id, "service": case.service,
            "service_name": service.name if service else case.service,
            "instance": case.instance, "state": case.state,
            "status": pathway.status_of(case.state), "opened_at": case.opened_at,
            "closed_at": case.closed_at, "outcome": case.outcome,
            "outcome_label": pathway.data.outcomes.get(case.outcome) if case.outcome else None,
        })
    items = [{"reference": r.reference, "status": r.status, "received_at": r.received_at,
              "channel": r.channel, "linked_referral": linked.get(r.linked_referral_id),
              "cases": by_referral[r.id]} for r in referrals]
    last = referrals[-1] if referrals else None
    return ReferralListSchema().dump({
        "referrals": items, "limit": limit, "offset": query["offset"],
        "next_offset": query["offset"] + len(items) if more and cursor is None else None,
        "next": paging.cursor_after(last.received_at, last.id) if more and last else None})
