"""Known people who may be the person a referral (or a search) describes: candidates come from
indexed blocking keys only, each bounded, then every candidate is scored field by field by the
record-linkage scorer (triage/linkage/, the profile's matching.yaml)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlmodel import Session, select

from config.matching import MatchingProfile
from triage.linkage import Match, Record, score
from triage.models import Household, HouseholdMember, Person
from triage.schemas.contact import uk_phone_key
from triage.services.people.names import name_key, sound_key

CANDIDATES = 500  # each candidate query is bounded so a common surname cannot flood it


@dataclass
class Candidate:
    person: Person
    match: Match
    postcode: str | None = None
    household_ids: list[int] = field(default_factory=list)


def people_where(session: Session, *where) -> list[Person]:
    return list(session.exec(select(Person).where(*where).limit(CANDIDATES)))


def by_name(session: Session, given: str | None, family: str | None) -> dict[int, Person]:
    """People whose names sound like these (either way round) or whose family name is this."""
    given, family = name_key(given), name_key(family)
    found: dict[int, Person] = {}
    pairs = [(given, family)] + ([(family, given)] if given else [])
    for g, f in pairs:
        if not f:
            continue
        where = [Person.family_name_sound == sound_key(f)]
        if g:
            where.append(Person.given_name_sound == sound_key(g))
        for p in people_where(session, *where):
            found[p.id] = p
        for p in people_where(session, Person.family_name_key == f):
            found[p.id] = p
    if given is None and family:
        # One word may be a given name ("Priya").
        for p in people_where(session, Person.given_name_key == family):
            found[p.id] = p
    return found


def households_of(session: Session, person_ids: Collection[int]
                  ) -> dict[int, tuple[list[int], str | None]]:
    """Each person's households (newest membership first) and the newest one's postcode."""
    out: dict[int, tuple[list[int], str | None]] = {}
    if not person_ids:
        return out
    rows = session.exec(
        select(HouseholdMember.person_id, Household.id, Household.postcode)
        .join(Household, Household.id == HouseholdMember.household_id)
        .where(HouseholdMember.person_id.in_(list(person_ids)))
        .order_by(HouseholdMember.since.desc()))
    for person_id, household_id, postcode in rows:
        ids, first = out.get(person_id, ([], None))
        ids.append(household_id)
        out[person_id] = (ids, first or postcode)
    return out


def known_record(person: Person, postcode: str | None) -> Record:
    return Record(given_name=person.given_name, family_name=person.family_name,
                  date_of_birth=person.date_of_birth, postcode=postcode,
                  phone=person.phone_key or person.phone, email=person.email)


def find_candidates(session: Session, typed: Record, matching: MatchingProfile, *,
                    exclude: Collection[int] = ()) -> list[Candidate]:
    """Known people who may be `typed`, best first; only those reaching a band (exact, likely
    or possible). Anonymised people and merged records are never candidates."""
    found = by_name(session, typed.given_name, typed.family_name) if typed.family_name else {}
    if typed.date_of_birth is not None:
        found.update({p.id: p for p in people_where(
            session, Person.date_of_birth == typed.date_of_birth)})
    phone = uk_phone_key(typed.phone) if typed.phone else None
    if phone:
        found.update({p.id: p for p in people_where(session, Person.phone_key == phone)})
    people = {pid: p for pid, p in found.items()
              if pid not in exclude and p.anonymised_at is None and p.merged_into_id is None}
    homes = households_of(session, people)
    out = []
    for pid, person in people.items():
        ids, postcode = homes.get(pid, ([], None))
        match = score(typed, known_record(person, postcode), matching)
        if match.band is not None:
            out.append(Candidate(person, match, postcode, ids))
    out.sort(key=lambda c: (-c.match.score, c.person.id))
    return out


__all__ = ["CANDIDATES", "Candidate", "by_name", "find_candidates", "households_of",
           "known_record", "people_where"]
