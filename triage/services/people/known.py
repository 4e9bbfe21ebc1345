"""Before a referral is sent: are the people already known, and does the family have open cases?

Read-only: the same exact match on folded names and date of birth that intake uses
(triage.services.matching), so what staff are warned about is what intake will link to. Who
is told what is the family record's rule (policy.CHECK_KNOWN_PEOPLE): a hub coordinator or
practitioner hears only of families their team works with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import select

from triage.models import Case, HouseholdMember, Person, Referral, ReferralPerson, User
from triage.models.base import utcnow
from triage.policy import CHECK_KNOWN_PEOPLE, require, sees_all_people
from triage.runtime import Runtime
from triage.schemas.referral import ReferralInput
from triage.services import audit
from triage.services.people.names import name_key
from triage.services.people.search import linked_people
from triage.services.privacy import visibility
from triage.services.referrals import re_referral

MAX_REFERRALS_SHOWN = 5


@dataclass
class KnownPerson:
    ref: str
    given_name: str | None
    family_name: str | None
    date_of_birth: date
    referrals: list[tuple[str, datetime, str]] = field(default_factory=list)
    open_cases: list[Case] = field(default_factory=list)
    # Closed within the profile's re-referral window: a new referral will be a re-referral.
    recently_closed: list[Case] = field(default_factory=list)


def known_people(rt: Runtime, *, user: User, data: ReferralInput) -> list[KnownPerson]:
    """The people on this referral who are already known, each with their recent referrals
    and the open cases of the households they belong to (audited: ids only)."""
    require(user, CHECK_KNOWN_PEOPLE, "see whether people are already known")
    wanted = {(name_key(p.given_name), name_key(p.family_name), p.date_of_birth): p.ref
              for p in data.people if name_key(p.given_name) and name_key(p.family_name)}
    if not wanted:
        return []
    with rt.db.reader() as session:
        people = session.exec(select(Person).where(or_(*[
            (Person.family_name_key == family) & (Person.date_of_birth == dob)
            & (Person.given_name_key == given) for given, family, dob in wanted
        ]), Person.merged_into_id.is_(None)).order_by(Person.id)).all()
        if not sees_all_people(user):
            ours = linked_people(session, user, [p.id for p in people],
                                 rt.profile.teams)
            people = [p for p in people if p.id in ours]
        hidden = visibility.hidden_for(session, user)
        people = [p for p in people if p.id not in hidden.people]
        found: dict[str, KnownPerson] = {}
        person_ids: dict[int, KnownPerson] = {}
        for person in people:
            ref = wanted[(person.given_name_key, person.family_name_key, person.date_of_birth)]
            known = found.setdefault(ref, KnownPerson(
                ref=ref, given_name=person.given_name, family_name=person.family_name,
                date_of_birth=person.date_of_birth))
            person_ids[person.id] = known
        if not person_ids:
            return []
        for person_id, reference, received_at, status in session.exec(
                select(ReferralPerson.person_id, Referral.reference, Referral.received_at,
                       Referral.status)
                .join(Referral, Referral.id == ReferralPerson.referral_id)
                .where(ReferralPerson.person_id.in_(person_ids))
                .order_by(Referral.received_at.desc())).all():
            known = person_ids[person_id]
            if len(known.referrals) < MAX_REFERRALS_SHOWN and reference not in {
                    r[0] for r in known.referrals}:
                known.referrals.append((reference, received_at, status))
        months = rt.profile.front_door.re_referral_months
        since = re_referral.months_before(utcnow(), months) if months else None
        for person_id, case in session.exec(
                select(HouseholdMember.person_id, Case)
                .join(Case, Case.household_id == HouseholdMember.household_id)
                .where(HouseholdMember.person_id.in_(person_ids),
                       Case.closed_at.is_(None) if since is None
                       else or_(Case.closed_at.is_(None), Case.closed_at >= since))
                .order_by(Case.opened_at.desc())).all():
            known = person_ids[person_id]
            kept = known.open_cases if case.closed_at is None else known.recently_closed
            if case.id not in {c.id for c in kept}:
                kept.append(case)
    with rt.db.unit_of_work() as session:
        audit.record(session, actor=user, action="person.match_view", object_type="person",
                     object_id=",".join(str(i) for i in sorted(person_ids))[:64],
                     count=len(person_ids))
    return list(found.values())
