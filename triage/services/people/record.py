"""The family record as staff read it: a person with contact, households, referrals and cases;
a household with members and one chronology. Every read (and refusal) is audited."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, or_, select

from triage.errors import NotFound, ValidationFailed
from triage.models import Case, Household, HouseholdMember, Person, Referral, ReferralPerson, User
from triage.policy import SEARCH_PEOPLE, require, sees_all_people
from triage.runtime import Runtime
from triage.services import audit
from triage.services.people import chronology, merge
from triage.services.people.search import linked_household, linked_people
from triage.services.privacy import rectification, visibility

MAX_ID = 2**63 - 1


def _check_id(value: int, what: str) -> None:
    if value < 1 or value > MAX_ID:
        raise NotFound(f"No such {what}.")


def contact(p: Person) -> dict[str, Any]:
    return {"phone": p.phone, "email": p.email, "preferred": p.preferred_contact,
            "safe_to_contact": p.safe_to_contact, "safe_contact_notes": p.safe_contact_notes,
            "language": p.language, "interpreter": p.interpreter}


def _workers(session: Session, cases: list[Case]) -> dict[int, dict[str, Any]]:
    ids = {c.worker_id for c in cases if c.worker_id}
    if not ids:
        return {}
    return {u.id: {"id": u.id, "name": u.name}
            for u in session.exec(select(User).where(User.id.in_(ids)))}


def _cases(session: Session, cases: list[Case]) -> list[dict[str, Any]]:
    workers = _workers(session, cases)
    return [{"id": c.id, "service": c.service, "instance": c.instance, "state": c.state,
             "opened_at": c.opened_at, "closed_at": c.closed_at,
             "worker": workers.get(c.worker_id) if c.worker_id else None} for c in cases]


def _referrals(referrals: list[Referral]) -> list[dict[str, Any]]:
    return [{"reference": r.reference, "status": r.status, "received_at": r.received_at,
             "re_referral_closed_at": r.re_referral_closed_at} for r in referrals]


def get_person(rt: Runtime, *, user: User, person_id: int) -> dict[str, Any]:
    require(user, SEARCH_PEOPLE, "see the family record")
    _check_id(person_id, "person")
    with rt.db.unit_of_work() as session:
        person = session.get(Person, person_id)
        # A merged record is seen by whoever may see the record it was merged into.
        anchor = _anchor(session, Person, person)
        hidden = visibility.hidden_for(session, user)
        # A record of another council's profile is not found, as if it did not exist.
        if person is None or person.profile_id != rt.profile.id or anchor in hidden.people or not (
                sees_all_people(user)
                or anchor in linked_people(session, user, [anchor], rt.profile.teams)):
            audit.record(session, actor=user, action="person.view_refused",
                         object_type="person", object_id=person_id)
            session.commit()
            raise NotFound("No such person.")
        households = list(session.exec(
            select(Household).join(HouseholdMember, HouseholdMember.household_id == Household.id)
            .where(HouseholdMember.person_id == person_id).order_by(Household.id)))
        referrals = list(session.exec(
            select(Referral).join(ReferralPerson, ReferralPerson.referral_id == Referral.id)
            .where(ReferralPerson.person_id == person_id).order_by(Referral.received_at)))
        household_ids = [h.id for h in households]
        cases = list(session.exec(select(Case).where(or_(
            Case.household_id.in_(household_ids or [0]),
            Case.referral_id.in_([r.id for r in referrals] or [0]))).order_by(Case.id)))
        body = {"id": person.id, "given_name": person.given_name,
                "family_name": person.family_name, "date_of_birth": person.date_of_birth,
                "contact": contact(person), "nhs_number": person.nhs_number,
                "sex": person.sex, "ethnicity": person.ethnicity,
                "households": [_household_summary(h) for h in households],
                "referrals": _referrals(referrals), "cases": _cases(session, cases),
                "changes": rectification.history(session, person_id),
                "restriction": visibility.restriction_of(session, person_id),
                "merged_into": person.merged_into_id,
                "merges": merge.history(session, "person", person_id)}
        audit.record(session, actor=user, action="person.view", object_type="person",
                     object_id=person_id, referrals=len(referrals), cases=len(cases))
    return body


def _anchor(session: Session, model, record) -> int | None:
    """The record a merged one now lives in (after every later merge), or its own id."""
    seen: set[int] = set()
    while record is not None and record.merged_into_id and record.id not in seen:
        seen.add(record.id)
        record = session.get(model, record.merged_into_id)
    return record.id if record is not None else None


def _household_summary(h: Household) -> dict[str, Any]:
    return {"id": h.id, "postcode": h.postcode, "address": _address(h)}


def _address(h: Household) -> dict[str, Any]:
    return {"line1": h.address_line1, "line2": h.address_line2, "town": h.town,
            "postcode": h.postcode, "district": h.district}


def get_household(rt: Runtime, *, user: User, household_id: int,
                  kinds: str | None = None) -> dict[str, Any]:
    require(user, SEARCH_PEOPLE, "see the family record")
    _check_id(household_id, "household")
    wanted = {k for k in (kinds or "").split(",") if k}
    unknown = wanted - set(chronology.KINDS)
    if unknown:
        raise ValidationFailed({"kind": [f"Unknown kind; any of: {', '.join(chronology.KINDS)}."]})
    with rt.db.unit_of_work() as session:
        household = session.get(Household, household_id)
        anchor = _anchor(session, Household, household)
        hidden = visibility.hidden_for(session, user)
        if household is None or household.profile_id != rt.profile.id \
                or anchor in hidden.households or not (
                sees_all_people(user) or linked_household(session, user, anchor, rt.profile.teams)):
            audit.record(session, actor=user, action="household.view_refused",
                         object_type="household", object_id=household_id)
            session.commit()
            raise NotFound("No such household.")
        members = list(session.exec(
            select(Person, HouseholdMember.relationship)
            .join(HouseholdMember, HouseholdMember.person_id == Person.id)
            .where(HouseholdMember.household_id == household_id).order_by(Person.date_of_birth)))
        referrals = list(session.exec(select(Referral).where(
            Referral.household_id == household_id).order_by(Referral.received_at)))
        cases = list(session.exec(select(Case).where(Case.household_id == household_id)
                                  .order_by(Case.id)))
        merges = merge.history(session, "household", household_id)
        for p, _ in members:
            merges += [m for m in merge.history(session, "person", p.id)
                       if m["survivor_id"] == p.id]
        body = {"id": household.id, "postcode": household.postcode,
                "address": _address(household), "merged_into": household.merged_into_id,
                "merges": [m for m in merges if m["kind"] == "household"],
                "members": [{"id": p.id, "given_name": p.given_name,
                             "family_name": p.family_name, "date_of_birth": p.date_of_birth,
                             "relationship": rel, "contact": contact(p)}
                            for p, rel in members],
                "referrals": _referrals(referrals), "cases": _cases(session, cases),
                "chronology": chronology.timeline(session, referrals, cases, wanted or None,
                                                  merges)}
        audit.record(session, actor=user, action="household.view", object_type="household",
                     object_id=household_id, members=len(members), referrals=len(referrals),
                     cases=len(cases))
    return body


def household_of_referral(rt: Runtime, *, user: User, reference: str) -> int:
    """The household a referral was recorded against (the family page checks who may see it)."""
    require(user, SEARCH_PEOPLE, "see the family record")
    with rt.db.reader() as session:
        found = session.exec(select(Referral.id, Referral.household_id).where(
            Referral.reference == reference.upper(),
            Referral.profile_id == rt.profile.id)).first()
        referral_id, household_id = found if found else (None, None)
        # The same rule as the family page: a family another team works with, or a restricted
        # one, is not named (not even by its id in a redirect) to someone who may not open it.
        hidden = household_id is not None and (
            referral_id in visibility.hidden_for(session, user).referrals
            or not (sees_all_people(user) or linked_household(session, user, household_id,
                                                                  rt.profile.teams)))
    if household_id is None or hidden:
        raise NotFound("No such referral.")
    return household_id
