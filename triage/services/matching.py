"""Finding the people and household a referral is about among those already known."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import Session, select

from config.profile import Place
from triage.db import insert_rows
from triage.models import Case, Household, HouseholdMember, Person
from triage.schemas.referral import PersonInput


def name_key(name: str | None) -> str | None:
    """Lower-case letters only, accents folded: 'O'Néil' and 'oneil' compare equal."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower()) or None


@dataclass
class Matched:
    person: Person
    known_before: bool


def match_or_create_people(session: Session, people: tuple[PersonInput, ...]) -> list[Matched]:
    """Exact match on folded given name, family name and date of birth; both names needed.

    A person without both names is never matched (a date of birth alone is not enough to say
    two records are the same child), so it gets a new record.
    """
    keys = [(name_key(p.given_name), name_key(p.family_name), p.date_of_birth) for p in people]
    named = [k for k in keys if k[0] and k[1]]
    known: dict[tuple, Person] = {}
    if named:
        rows = session.exec(
            select(Person).where(or_(*[
                (Person.family_name_key == family) & (Person.date_of_birth == dob)
                & (Person.given_name_key == given) for given, family, dob in named
            ])).order_by(Person.id.desc())
        ).all()
        for row in rows:  # oldest last, so the first record of a person wins
            known[(row.given_name_key, row.family_name_key, row.date_of_birth)] = row
    result: list[Matched] = []
    for p, (given, family, dob) in zip(people, keys, strict=True):
        found = known.get((given, family, dob)) if given and family else None
        if found is not None:
            result.append(Matched(found, True))
            continue
        person = Person(given_name=p.given_name, family_name=p.family_name,
                        given_name_key=given, family_name_key=family,
                        date_of_birth=p.date_of_birth)
        result.append(Matched(person, False))
    insert_rows(session, [m.person for m in result if not m.known_before])
    return result


def match_or_create_household(session: Session, *, postcode: str, place: Place | None,
                              people: list[Matched]) -> tuple[Household, bool]:
    """The household at this postcode that a known person belongs to (True), or a new one."""
    known_ids = [m.person.id for m in people if m.known_before]
    household = None
    if known_ids:
        household = session.exec(
            select(Household)
            .join(HouseholdMember, HouseholdMember.household_id == Household.id)
            .where(HouseholdMember.person_id.in_(known_ids), Household.postcode == postcode)
            .order_by(Household.id.desc())
        ).first()
    known = household is not None
    if household is None:
        sector = place.sector if place else postcode[:-2].strip()
        household = Household(postcode=postcode, sector=sector,
                              district=place.district if place else None)
        insert_rows(session, [household])
        existing: set[int] = set()
    else:
        existing = set(session.exec(
            select(HouseholdMember.person_id)
            .where(HouseholdMember.household_id == household.id)
        ).all())
    members = []
    for m in people:
        if m.person.id not in existing:
            members.append(HouseholdMember(household_id=household.id, person_id=m.person.id))
            existing.add(m.person.id)
    insert_rows(session, members)
    return household, known


def open_cases_for_household(session: Session, household_id: int | None,
                             services: tuple[str, ...] | None = None) -> list[Case]:
    if household_id is None:
        return []
    query = select(Case).where(Case.household_id == household_id, Case.closed_at.is_(None))
    if services is not None:
        query = query.where(Case.service.in_(services))
    return list(session.exec(query.order_by(Case.opened_at.desc())).all())
