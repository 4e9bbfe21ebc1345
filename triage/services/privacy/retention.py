"""The retention schedule's work: a periodic report of what is due (ids per rule in a review
row, counts in the log), and, only on an admin's confirmation, anonymising or erasing exactly
what was reported and is still due. Anonymised rows keep level, services, dates and outcomes
for reports; names, contact details, free text and answers' free text go. All audited."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, select

from config.profile import parse_postcode
from triage.errors import Conflict, NotFound
from triage.models import (
    AuditEvent,
    Case,
    CaseEvent,
    CaseNote,
    Decision,
    Household,
    HouseholdMember,
    Person,
    PersonChange,
    RecordRestriction,
    Referral,
    ReferralPerson,
    RetentionReview,
    User,
)
from triage.models.base import MAX_ID, utcnow
from triage.policy import REVIEW_RETENTION, require
from triage.runtime import Runtime
from triage.schemas.privacy import ReasonInSchema
from triage.services import audit
from triage.services.people import merge
from triage.services.people.keys import KEY_COLUMNS
from triage.services.privacy.restrictions import load
from triage.services.privacy.retention_due import due_audit, due_families, due_referrals

log = logging.getLogger(__name__)
ANONYMISED = "(anonymised)"
# A review waits for an admin (reported), was applied (confirmed) or replaced by a newer
# report (superseded).
STATUSES = ("reported", "confirmed", "superseded")


def _find_due(rt: Runtime, session: Session, now: datetime) -> dict[str, dict[str, Any]]:
    due: dict[str, dict[str, Any]] = {}
    for rule in rt.profile.retention.rules if rt.profile.retention else ():
        entry: dict[str, Any] = {"records": rule.records, "action": rule.action}
        if rule.records == "family":
            entry["ids"] = due_families(session, rule, now)
        elif rule.records == "referral":
            entry["ids"] = due_referrals(session, rule, now)
        else:
            entry.update(due_audit(session, rule, now))
        due[rule.id] = entry
    return due


def _counts(due: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {rule: entry["count"] if "count" in entry else len(entry["ids"])
            for rule, entry in due.items()}


def report_due(rt: Runtime, *, user: User | None = None, now: datetime | None = None
               ) -> int | None:
    """Record what is due in a review row for an admin to confirm (the periodic job). Safe to
    run twice: an unchanged finding keeps the review waiting; a changed one supersedes it.
    Returns the waiting review's id (None when nothing is due)."""
    now = now or utcnow()
    with rt.db.unit_of_work() as session:
        due = _find_due(rt, session, now)
        counts = _counts(due)
        waiting = session.exec(select(RetentionReview).where(
            RetentionReview.status == "reported").with_for_update()).all()
        same = next((r for r in waiting if _counts(r.due) == counts and _ids(r.due) == _ids(due)),
                    None)
        if same is not None:
            return same.id
        for old in waiting:
            old.status = "superseded"
            session.add(old)
        if not any(counts.values()):
            return None
        review = RetentionReview(profile_version=rt.profile.content_hash, due=due,
                                 counts=counts, created_at=now)
        session.add(review)
        session.flush()
        audit.record(session, actor=user, action="retention.reported",
                     object_type="retention_review", object_id=review.id, counts=counts)
        review_id = review.id
    log.info("retention.reported", extra={"review_id": review_id, "counts": counts})
    return review_id


def _ids(due: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {rule: entry.get("ids", entry.get("max_id")) for rule, entry in due.items()}


def reviews(rt: Runtime, *, user: User, limit: int = 10) -> list[RetentionReview]:
    """The latest reviews, newest first (the admin's page). Audited."""
    require(user, REVIEW_RETENTION, "see the retention schedule's reports")
    with rt.db.unit_of_work() as session:
        rows = list(session.exec(select(RetentionReview)
                                 .order_by(RetentionReview.id.desc()).limit(limit)))
        audit.record(session, actor=user, action="retention.view",
                     object_type="retention_review", object_id="*")
    return rows


def confirm(rt: Runtime, *, user: User, review_id: int, body: Any,
            now: datetime | None = None) -> dict[str, Any]:
    """Apply a waiting review: for each rule, what it reported that is still due (re-checked
    now: a family with a new referral is no longer due) is anonymised or erased, in one
    transaction. 409 unless the review is the one waiting. Returns the result per rule id,
    and the review as `describe` shows it (each rule with its result)."""
    require(user, REVIEW_RETENTION, "confirm erasure")
    data = load(ReasonInSchema(), body)
    if review_id < 1 or review_id > MAX_ID:
        raise NotFound("No such retention review.")
    now = now or utcnow()
    with rt.db.unit_of_work() as session:
        review = session.exec(select(RetentionReview).where(
            RetentionReview.id == review_id).with_for_update()).first()
        if review is None:
            raise NotFound("No such retention review.")
        if review.status != "reported":
            raise Conflict(f"Review {review_id} is {review.status}; only the waiting review "
                           "may be confirmed. Reload the page.", review_status=review.status)
        result: dict[str, dict[str, int]] = {}
        for rule_id, entry in review.due.items():
            rule = rt.profile.retention.rule(rule_id) if rt.profile.retention else None
            if rule is None:
                result[rule_id] = {"done": 0, "no_longer_due": _counts({rule_id: entry})[rule_id]}
                continue
            if rule.records == "family":
                still = due_families(session, rule, now, only=entry["ids"])
                for household_id in still:
                    anonymise_family(session, household_id, now)
            elif rule.records == "referral":
                still = due_referrals(session, rule, now, only=entry["ids"])
                for referral_id in still:
                    anonymise_referral_and_people(session, referral_id, now)
            else:
                still = erase_audit(session, entry)
            done = still if isinstance(still, int) else len(still)
            result[rule_id] = {"done": done, "no_longer_due": max(
                _counts({rule_id: entry})[rule_id] - done, 0)}
            if not isinstance(still, int):
                audit.record(session, actor=user, action=f"retention.{rule.action}d",
                             object_type=rule.records, object_id=rule_id, ids=still)
        review.status = "confirmed"
        review.confirmed_at = now
        review.confirmed_by_id = user.id
        review.result = result
        session.add(review)
        audit.record(session, actor=user, action="retention.confirmed",
                     object_type="retention_review", object_id=review.id, result=result)
        described = describe(rt, review)
    log.info("retention.confirmed", extra={"review_id": review_id, "result": result})
    return {"id": review_id, "status": "confirmed", "result": result, "reason": data["reason"],
            "review": described}


# -- anonymising -------------------------------------------------------------------------
def _sector(postcode: str | None) -> str:
    parsed = parse_postcode(postcode or "")
    return parsed[1] if parsed else (postcode or "")[:6]


def anonymise_person(session: Session, person: Person, now: datetime) -> None:
    """Names, contact and identity go, and every blocking key with them (an anonymised person
    is never a candidate); sex, ethnicity and the year of birth (in the date of birth) stay
    for equality and age-band reports; the corrections history (old values) goes."""
    for column in ("given_name", "family_name", *KEY_COLUMNS, "phone", "email",
                   "preferred_contact", "safe_to_contact", "safe_contact_notes", "language",
                   "interpreter", "nhs_number"):
        setattr(person, column, None)
    person.date_of_birth = date(person.date_of_birth.year, 1, 1)
    person.anonymised_at = now
    session.add(person)
    session.execute(delete(PersonChange).where(PersonChange.person_id == person.id))
    for restriction in session.exec(select(RecordRestriction).where(
            RecordRestriction.person_id == person.id)):
        restriction.reason = ANONYMISED
        restriction.lift_reason = ANONYMISED if restriction.lift_reason else None
        session.add(restriction)
    _forget_merges(session, "person", person.id, now)


def _forget_merges(session: Session, kind: str, record_id: int, now: datetime) -> None:
    """Merges into or out of an anonymised record keep no personal data (and can no longer
    be undone), and a record merged into it is anonymised with it: it is the same person or
    family, and nothing else refers to it any more."""
    merge.forget(session, kind, record_id, now=now, reason=ANONYMISED)
    model = Person if kind == "person" else Household
    for merged in session.exec(select(model).where(model.merged_into_id == record_id,
                                                   model.anonymised_at.is_(None))).all():
        if kind == "person":
            anonymise_person(session, merged, now)
        else:
            _anonymise_household(session, merged, now)


def anonymise_referral(session: Session, referral: Referral, now: datetime) -> None:
    """The referrer's name and contact, the concerns, notes and raw body go; channel, level,
    decisions' rules, consent, dates, status and the answers' yes/no stay."""
    referral.referrer_name = referral.referrer_email = referral.referrer_phone = None
    referral.concerns = referral.closure_note = None
    referral.raw_body = {}
    referral.answers = {k: v for k, v in (referral.answers or {}).items()
                        if isinstance(v, bool) or v is None}
    referral.postcode = _sector(referral.postcode)
    referral.anonymised_at = now
    session.add(referral)
    for decision in session.exec(select(Decision).where(Decision.referral_id == referral.id)):
        decision.reason = None
        session.add(decision)
    cases = list(session.exec(select(Case.id).where(Case.referral_id == referral.id)))
    _anonymise_cases(session, cases)


def _anonymise_cases(session: Session, case_ids: list[int]) -> None:
    """Each event keeps from, to, event, when and the outcome; reasons and payloads go, and
    notes are deleted."""
    if not case_ids:
        return
    for event in session.exec(select(CaseEvent).where(CaseEvent.case_id.in_(case_ids))):
        event.reason = None
        event.payload = {k: v for k, v in (event.payload or {}).items() if k == "outcome"}
        session.add(event)
    session.execute(delete(CaseNote).where(CaseNote.case_id.in_(case_ids)))


def _anonymise_household(session: Session, household: Household, now: datetime) -> None:
    household.address_line1 = household.address_line2 = household.town = None
    household.postcode = household.sector
    household.anonymised_at = now
    session.add(household)
    _forget_merges(session, "household", household.id, now)


def _kept_elsewhere(session: Session, person_id: int, household_ids: set[int],
                    referral_ids: set[int]) -> bool:
    """Whether the person is part of a record that is not being anonymised."""
    other_households = session.exec(select(Household.id).join(
        HouseholdMember, HouseholdMember.household_id == Household.id).where(
        HouseholdMember.person_id == person_id, Household.id.not_in(household_ids or {0}),
        Household.anonymised_at.is_(None)).limit(1)).first()
    other_referrals = session.exec(select(Referral.id).join(
        ReferralPerson, ReferralPerson.referral_id == Referral.id).where(
        ReferralPerson.person_id == person_id, Referral.id.not_in(referral_ids or {0}),
        Referral.anonymised_at.is_(None)).limit(1)).first()
    return other_households is not None or other_referrals is not None


def anonymise_family(session: Session, household_id: int, now: datetime) -> None:
    household = session.get(Household, household_id)
    if household is None or household.anonymised_at is not None:
        return
    referrals = list(session.exec(select(Referral).where(Referral.household_id == household_id)))
    for referral in referrals:
        if referral.anonymised_at is None:
            anonymise_referral(session, referral, now)
    _anonymise_cases(session, list(session.exec(select(Case.id).where(
        Case.household_id == household_id))))
    _anonymise_household(session, household, now)
    session.flush()
    members = session.exec(select(Person).join(
        HouseholdMember, HouseholdMember.person_id == Person.id).where(
        HouseholdMember.household_id == household_id, Person.anonymised_at.is_(None))).all()
    for person in members:
        if not _kept_elsewhere(session, person.id, {household_id}, {r.id for r in referrals}):
            anonymise_person(session, person, now)


def anonymise_referral_and_people(session: Session, referral_id: int, now: datetime) -> None:
    referral = session.get(Referral, referral_id)
    if referral is None or referral.anonymised_at is not None:
        return
    anonymise_referral(session, referral, now)
    session.flush()
    household = session.get(Household, referral.household_id) if referral.household_id \
        else None
    if household is not None and household.anonymised_at is None:
        others = session.exec(select(Referral.id).where(
            Referral.household_id == household.id, Referral.anonymised_at.is_(None))
            .limit(1)).first()
        cases = session.exec(select(Case.id).where(Case.household_id == household.id)
                             .limit(1)).first()
        if others is None and cases is None:
            _anonymise_household(session, household, now)
            session.flush()
    for person in session.exec(select(Person).join(
            ReferralPerson, ReferralPerson.person_id == Person.id).where(
            ReferralPerson.referral_id == referral_id, Person.anonymised_at.is_(None))).all():
        if not _kept_elsewhere(session, person.id, set(), {referral_id}):
            anonymise_person(session, person, now)


def erase_audit(session: Session, entry: dict[str, Any]) -> int:
    """Delete exactly the audit rows reported: recorded before the cutoff, up to its last id."""
    if not entry.get("max_id"):
        return 0
    before = datetime.fromisoformat(entry["before"])
    result = session.execute(delete(AuditEvent).where(AuditEvent.id <= entry["max_id"],
                                                      AuditEvent.at <= before))
    return result.rowcount or 0


def describe(rt: Runtime, review: RetentionReview) -> dict[str, Any]:
    """A review as the API and the admin page show it: per rule, what it means, what is due
    (ids of families or referrals; a count of audit rows) and, once confirmed, what was done."""
    schedule = rt.profile.retention
    rules = []
    for rule_id, entry in review.due.items():
        rule = schedule.rule(rule_id) if schedule else None
        rules.append({"id": rule_id, "records": entry["records"], "action": entry["action"],
                      "description": rule.description if rule else None,
                      "keep_years": rule.keep_years if rule else None,
                      "count": review.counts.get(rule_id, 0), "ids": entry.get("ids"),
                      "result": review.result.get(rule_id)})
    return {"id": review.id, "created_at": review.created_at, "status": review.status,
            "rules": rules, "confirmed_at": review.confirmed_at,
            "confirmed_by": review.confirmed_by_id}


def run_report(rt: Runtime, *, user: User) -> RetentionReview | None:
    """An admin asks for a report now (the periodic job's work, on demand)."""
    require(user, REVIEW_RETENTION, "run the retention schedule")
    review_id = report_due(rt, user=user)
    if review_id is None:
        return None
    with rt.db.reader() as session:
        return session.get(RetentionReview, review_id)
