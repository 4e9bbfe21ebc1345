"""The "check who this is" worklist: pairs of person records that may be one person, oldest
first, for the front door to answer. Same: the newer record is merged into the known one, the
referral's household joins the known family, and the referral is decided again if that changes
what it is routed to. Not the same: the pair is kept apart for good."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

import rules
from config.profile import parse_postcode
from triage.errors import Conflict, NotFound, ValidationFailed, flatten_errors
from triage.models import (
    Case,
    Decision,
    Household,
    HouseholdMember,
    MatchDecision,
    MatchReview,
    Person,
    RecordMerge,
    Referral,
    ReferralPerson,
    ReferralStatus,
    User,
)
from triage.models.base import MAX_ID, utcnow
from triage.policy import REVIEW_MATCHES, require
from triage.runtime import Runtime
from triage.schemas.merge import MatchReviewInSchema
from triage.services import audit
from triage.services.notices import outbox
from triage.services.people import merge
from triage.services.privacy import visibility
from triage.services.referrals import routing

STATUSES = ("open", "linked", "dismissed", "withdrawn")
# A referral still waiting for the front door's decision: re-decided after a link.
AT_THE_FRONT_DOOR = (ReferralStatus.received, ReferralStatus.needs_review,
                     ReferralStatus.awaiting_consent)
LINKED = "linked to a known family"


class ReviewListQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(load_default="open", validate=validate.OneOf(
        STATUSES, error=f"One of: {', '.join(STATUSES)}."))
    limit = fields.Integer(load_default=50, validate=validate.Range(
        min=1, max=200, error="Between 1 and 200."))
    after = fields.Integer(load_default=None, validate=validate.Range(
        min=1, max=MAX_ID, error="The next_after of the previous page."))


def _load(schema: Schema, body: Any) -> dict:
    if not isinstance(body, dict):
        raise ValidationFailed({"_schema": ["The body must be a JSON object."]})
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None


def _district(postcode: str | None) -> str | None:
    """The outward code only (SW1A): enough to tell two families apart, not an address."""
    parsed = parse_postcode(postcode or "")
    return parsed[0].split()[0] if parsed else None


def _households(session: Session, person_id: int) -> list[Household]:
    """A person's households, newest membership first."""
    return list(session.exec(
        select(Household).join(HouseholdMember, HouseholdMember.household_id == Household.id)
        .where(HouseholdMember.person_id == person_id)
        .order_by(HouseholdMember.since.desc(), Household.id.desc())).all())


def _open_cases(session: Session, household_ids: list[int]) -> list[Case]:
    if not household_ids:
        return []
    return list(session.exec(select(Case).where(Case.household_id.in_(household_ids),
                                                Case.closed_at.is_(None))
                             .order_by(Case.id)).all())


def _person(session: Session, person_id: int) -> dict[str, Any]:
    person = session.get(Person, person_id)
    homes = _households(session, person_id)
    return {"id": person.id, "given_name": person.given_name,
            "family_name": person.family_name, "date_of_birth": person.date_of_birth,
            "postcode_district": _district(homes[0].postcode) if homes else None,
            "household_ids": [h.id for h in homes],
            "open_cases": [{"id": c.id, "service": c.service, "state": c.state}
                           for c in _open_cases(session, [h.id for h in homes])]}


def _shown(session: Session, review: MatchReview) -> dict[str, Any]:
    referral = session.get(Referral, review.referral_id) if review.referral_id else None
    return {"id": review.id, "status": review.status, "source": review.source,
            "band": review.band, "score": round(review.score, 1),
            "reasons": [c.get("reason") for c in review.comparisons or [] if c.get("reason")],
            "comparisons": [{"field": c.get("field"), "level": c.get("level"),
                             "weight": c.get("weight"), "reason": c.get("reason")}
                            for c in review.comparisons or []],
            "referral": referral.reference if referral else None,
            "created_at": review.created_at, "decided_at": review.decided_at,
            "people": [_person(session, review.person_id),
                       _person(session, review.other_person_id)]}


def _of_profile(profile_id: str):
    """The pairs whose people were recorded under this profile (a pair never spans two)."""
    return MatchReview.person_id.in_(select(Person.id).where(Person.profile_id == profile_id))


def list_reviews(rt: Runtime, *, user: User, args: dict[str, str]) -> dict[str, Any]:
    """Pairs in a status (open by default), oldest first, a page at a time (keyset: `after`
    is the last id of the previous page). Pairs naming anyone a restriction hides from the
    user are left out. Audited with ids only."""
    require(user, REVIEW_MATCHES, "see the check-who-this-is worklist")
    query = _load(ReviewListQuerySchema(), args)
    with rt.db.unit_of_work() as session:
        hidden = visibility.hidden_for(session, user).people
        stmt = select(MatchReview).where(MatchReview.status == query["status"],
                                         _of_profile(rt.profile.id))
        if hidden:
            stmt = stmt.where(MatchReview.person_id.not_in(hidden),
                              MatchReview.other_person_id.not_in(hidden))
        if query["after"] is not None:
            last = session.get(MatchReview, query["after"])
            if last is None:
                raise ValidationFailed({"after": ["The next_after of the previous page."]})
            stmt = stmt.where(or_(MatchReview.created_at > last.created_at, and_(
                MatchReview.created_at == last.created_at, MatchReview.id > last.id)))
        reviews = session.exec(stmt.order_by(MatchReview.created_at, MatchReview.id)
                               .limit(query["limit"])).all()
        shown = [_shown(session, r) for r in reviews]
        audit.record(session, actor=user, action="match_review.list",
                     object_type="match_review", object_id=query["status"],
                     review_ids=[r.id for r in reviews])
    return {"reviews": shown, "limit": query["limit"],
            "next_after": reviews[-1].id if len(reviews) == query["limit"] else None}


def open_count(rt: Runtime, *, user: User) -> int:
    """How many pairs wait for the front door (those the user may see)."""
    require(user, REVIEW_MATCHES, "see the check-who-this-is worklist")
    with rt.db.reader() as session:
        hidden = visibility.hidden_for(session, user).people
        stmt = select(func.count()).select_from(MatchReview).where(
            MatchReview.status == "open", _of_profile(rt.profile.id))
        if hidden:
            stmt = stmt.where(MatchReview.person_id.not_in(hidden),
                              MatchReview.other_person_id.not_in(hidden))
        return session.exec(stmt).one()


def _visible_review(session: Session, user: User, review_id: int, profile_id: str
                    ) -> MatchReview:
    review = session.exec(select(MatchReview).where(
        MatchReview.id == review_id, _of_profile(profile_id))
        .with_for_update()).first() if 1 <= review_id <= MAX_ID else None
    hidden = visibility.hidden_for(session, user).people
    if review is None or {review.person_id, review.other_person_id} & hidden:
        raise NotFound("No such pair to check.")
    return review


def newer_and_known(session: Session, review: MatchReview) -> tuple[int, int]:
    """Which record is merged into which: the one without open cases into the one with
    them; otherwise the newer record (the higher id, the one a referral created) into the
    older."""
    low, high = review.person_id, review.other_person_id
    cases = {pid: bool(_open_cases(session, [h.id for h in _households(session, pid)]))
             for pid in (low, high)}
    if cases[low] != cases[high]:
        return (high, low) if cases[low] else (low, high)
    return high, low


def decide(rt: Runtime, *, user: User, review_id: int, body: Any) -> dict[str, Any]:
    """Answer one pair: same (link) or not the same (dismiss), with a reason."""
    require(user, REVIEW_MATCHES, "answer the check-who-this-is worklist")
    data = _load(MatchReviewInSchema(), body)
    with rt.db.unit_of_work() as session:
        review = _visible_review(session, user, review_id, rt.profile.id)
        if review.status != "open":
            raise Conflict(f"This pair was already answered ({review.status}).",
                           status=review.status)
        for pid in (review.person_id, review.other_person_id):
            if session.get(Person, pid).merged_into_id is not None:
                raise Conflict(f"Person {pid} was merged into another record since this "
                               "pair was queued; check the pair again from search.",
                               status=review.status)
        if data["decision"] == "not_same":
            _dismiss(session, user, review)
            outcome: dict[str, Any] = {"merges": [], "redecided": None}
        else:
            outcome = _link(rt, session, user, review, data["reason"])
        audit.record(session, actor=user, action="match_review.decide",
                     object_type="match_review", object_id=review.id,
                     decision=data["decision"], merge_ids=[m["id"] for m in outcome["merges"]])
        session.flush()
        ids = outbox.committed_ids(session)
        session.expire_all()
        answer = {"review": _shown(session, session.get(MatchReview, review.id)), **outcome}
    rt.relay.after_commit(ids)
    return answer


def _dismiss(session: Session, user: User, review: MatchReview) -> None:
    now = utcnow()
    found = session.exec(select(MatchDecision).where(
        MatchDecision.person_id == review.person_id,
        MatchDecision.other_person_id == review.other_person_id)).first()
    if found is None:
        session.add(MatchDecision(person_id=review.person_id,
                                  other_person_id=review.other_person_id, same=False,
                                  source="review", decided_by_id=user.id, decided_at=now))
    else:
        found.same, found.source = False, "review"
        found.decided_by_id, found.decided_at = user.id, now
    review.status, review.decided_by_id, review.decided_at = "dismissed", user.id, now


def is_decided(session: Session, person_id: int, other_person_id: int) -> bool:
    """Whether staff already said whether these two are one person (never ask again)."""
    low, high = sorted((person_id, other_person_id))
    return session.exec(select(MatchDecision.id).where(
        MatchDecision.person_id == low, MatchDecision.other_person_id == high)).first() \
        is not None


def _link(rt: Runtime, session: Session, user: User, review: MatchReview,
          reason: str) -> dict[str, Any]:
    newer, known = newer_and_known(session, review)
    referral = session.get(Referral, review.referral_id) if review.referral_id else None
    merges = [merge.merge_records(session, user=user, kind="person", merged_id=newer,
                                  survivor_id=known, reason=reason)]
    session.expire_all()
    referral = session.get(Referral, referral.id) if referral else None
    theirs = referral.household_id if referral else None
    homes = [h for h in _households(session, known) if h.id != theirs]
    with_cases = [h for h in homes if _open_cases(session, [h.id])]
    family = (with_cases or homes or [None])[0]
    redecided = None
    if theirs is not None and family is not None:
        joined = merge.merge_records(session, user=user, kind="household", merged_id=theirs,
                                     survivor_id=family.id, reason=reason)
        referral = session.get(Referral, referral.id)
        redecided = _redecide(rt, session, user, referral, family.id)
        joined = session.get(RecordMerge, joined.id)
        joined.note = redecided
        merges.append(joined)
    elif referral is not None:
        redecided = _redecide(rt, session, user, referral, referral.household_id)
        merges[0].note = redecided
    session.flush()
    return {"merges": [merge.describe(session, m) for m in merges], "redecided": redecided}


def _redecide(rt: Runtime, session: Session, user: User, referral: Referral,
              family_id: int) -> str:
    """Decide a referral still at the front door again as the known family's (its open
    family-support case counts); a routed one keeps its decision. Says what happened."""
    engine = session.exec(select(Decision).where(
        Decision.referral_id == referral.id, Decision.kind == "engine",
        Decision.current.is_(True))).first()
    if referral.status not in AT_THE_FRONT_DOOR or engine is None:
        return (f"{referral.reference} was already {referral.status} when it was {LINKED}; "
                "its decision stands.")
    open_support = routing.open_family_support_instance(
        session, family_id, rt.profile.family_support_services)
    if open_support == (engine.inputs or {}).get("open_family_support_instance"):
        return f"{referral.reference} {LINKED}: its decision is unchanged."
    people = session.exec(
        select(ReferralPerson.role, ReferralPerson.relationship, Person.date_of_birth)
        .join(Person, Person.id == ReferralPerson.person_id)
        .where(ReferralPerson.referral_id == referral.id).order_by(ReferralPerson.ref)).all()
    on = referral.received_at.date()
    facts = rules.derive_facts(
        rt.profile.checklist, answers=referral.answers,
        people=[rules.Person(role=r, date_of_birth=d, relationship=rel) for r, rel, d in people],
        referral_date=on, place=rt.profile.place_for(referral.postcode),
        information_only=referral.information_only, step_down=referral.step_down,
        open_family_support_instance=open_support, units=rt.profile.localities.columns)
    result = rt.ruleset.evaluate(facts)
    body = routing.decision_body(result)
    if body["routes"] == engine.body.get("routes") and body["level"] == engine.level:
        return f"{referral.reference} {LINKED}: its decision is unchanged."
    engine.current = False
    session.add(Decision(referral_id=referral.id, kind="engine", level=result.level,
                         level_code=result.level_code, body=body,
                         inputs={"referral_date": on.isoformat(),
                                 "open_family_support_instance": open_support},
                         ruleset_id=result.ruleset_id, ruleset_version=result.ruleset_version,
                         decided_by_id=user.id, reason=LINKED))
    overridden = session.exec(select(Decision.id).where(
        Decision.referral_id == referral.id, Decision.kind == "override",
        Decision.current.is_(True))).first()
    audit.record(session, actor=user, action="decision.redecided", object_type="referral",
                 object_id=referral.id, level=result.level_code, reason="linked")
    if overridden is not None:
        return (f"{referral.reference} decided again as {LINKED} (level {result.level_code}); "
                "the staff override stands.")
    session.flush()
    routing.apply_decision(rt, session, referral=referral, body=body, actor=user)
    return (f"{referral.reference} decided again as {LINKED}: level {result.level_code}, now "
            f"{referral.status}.")
