"""Known people who may be the person a referral (or a search) describes: candidates come from
blocking keys stored with each person (triage/services/people/keys.py), each block one indexed
query bounded by the profile's `blocking.limit`, all in one statement; then every candidate is
scored field by field by the record-linkage scorer (triage/linkage/, the profile's
matching.yaml), and only those reaching a band are read as people."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, true, union
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from config.matching import MatchingProfile
from triage.linkage import Match, Record, score
from triage.linkage.compare import name_parts, postcode_parts
from triage.models import Household, HouseholdMember, Person
from triage.services.people.keys import email_hash, phone_hash
from triage.services.people.names import name_key, sound_key

CANDIDATES = 500  # each search query is bounded so a common surname cannot flood it
_PERSON = Person.__table__
_HOUSEHOLD = Household.__table__
_MEMBER = HouseholdMember.__table__
# What scoring reads of a candidate, with the postcode of their newest household (the rest of
# the person, and their households, are read only for those banded).
_NEWEST_POSTCODE = (core_select(_HOUSEHOLD.c.postcode)
                    .select_from(_MEMBER.join(_HOUSEHOLD,
                                              _HOUSEHOLD.c.id == _MEMBER.c.household_id))
                    .where(_MEMBER.c.person_id == _PERSON.c.id)
                    .order_by(_MEMBER.c.since.desc()).limit(1).scalar_subquery())
_SCORED = (_PERSON.c.id, _PERSON.c.given_name, _PERSON.c.family_name, _PERSON.c.date_of_birth,
           _PERSON.c.phone_key, _PERSON.c.phone, _PERSON.c.email,
           _NEWEST_POSTCODE.label("postcode"))


@dataclass
class Candidate:
    person: Person
    match: Match
    postcode: str | None = None
    household_ids: list[int] = field(default_factory=list)


def people_where(session: Session, profile_id: str, *where) -> list[Person]:
    """At most CANDIDATES people recorded under this profile meeting `where`."""
    return list(session.exec(select(Person).where(Person.profile_id == profile_id, *where)
                             .limit(CANDIDATES)))


def by_name(session: Session, profile_id: str, given: str | None, family: str | None
            ) -> dict[int, Person]:
    """People under this profile whose names sound like these (either way round) or whose
    family name is this."""
    given, family = name_key(given), name_key(family)
    found: dict[int, Person] = {}
    pairs = [(given, family)] + ([(family, given)] if given else [])
    for g, f in pairs:
        if not f:
            continue
        where = [Person.family_name_sound == sound_key(f)]
        if g:
            where.append(Person.given_name_sound == sound_key(g))
        for p in people_where(session, profile_id, *where):
            found[p.id] = p
        for p in people_where(session, profile_id, Person.family_name_key == f):
            found[p.id] = p
    if given is None and family:
        # One word may be a given name ("Priya").
        for p in people_where(session, profile_id, Person.given_name_key == family):
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


def _swapped(dob: date) -> date | None:
    try:
        return dob.replace(month=dob.day, day=dob.month) if dob.day != dob.month else None
    except ValueError:
        return None


def _given_sounds(given: str, matching: MatchingProfile) -> set[str]:
    """The sound of a given name and of each name it is a short or long form of."""
    names = {given}.union(*(g for g in matching.nicknames if given in g))
    return {k for k in map(sound_key, names) if k}


def _tail(sound: str | None) -> str | None:
    """A sound key without its first letter: "Katie" and "Catie" share it."""
    return sound[1:] if sound and len(sound) > 1 else None


def blocks(typed: Record, matching: MatchingProfile, *, trigrams: bool, profile_id: str
           ) -> list:
    """The blocking queries for `typed`: each selects the ids of people recorded under this
    profile through one index, at most `blocking.limit` of them (the profile is part of each
    block, so another profile's people never take a block's places). A block read through a
    broad key (a date of birth, a given name and year) keeps only people whose names or date
    could still let the pair reach a band, so a common name or birthday does not fill it with
    strangers.
    Trigram similarity (PostgreSQL's pg_trgm) only when `trigrams`."""
    limit = matching.blocking.limit
    p = _PERSON.c
    out = []

    def block(*where, frm=_PERSON, column=p.id, order=None, size=limit) -> None:
        query = core_select(column.label("id")).select_from(frm).where(
            p.profile_id == profile_id, *where)
        out.append((query.order_by(order) if order is not None else query).limit(size))

    given, family = name_key(typed.given_name), name_key(typed.family_name)
    dob = typed.date_of_birth
    year = dob.year if dob else None
    dates = {d for d in (dob, _swapped(dob)) if d} if dob else set()
    sounds = _given_sounds(given, matching) if given else set()
    family_sound = sound_key(family)
    keys = {family} | set(name_parts(typed.family_name)) if family else set()
    names_near = []  # either name sounds like, or is, the one typed (either way round)
    if family:
        names_near += [p.family_name_sound == family_sound, p.family_name_key.in_(keys)]
        if _tail(family_sound):
            names_near.append(func.substr(p.family_name_sound, 2) == _tail(family_sound))
    if given:
        names_near.append(p.given_name_sound.in_(sounds))
    if given and family:
        names_near += [p.family_name_sound == sound_key(given),
                       p.given_name_sound == family_sound]
    if family and given:
        for pair in ((p.family_name_sound == family_sound, p.given_name_sound.in_(sounds)),
                     (p.family_name_sound == sound_key(given),
                      p.given_name_sound == family_sound)):
            if year:
                # The same names score a band whatever the date of birth: those born nearest
                # the year typed, a few either side (a year typed one digit out is still near).
                nearest = max(limit // 5, 1)
                block(*pair, p.birth_year >= year, order=p.birth_year.asc(), size=nearest)
                block(*pair, p.birth_year < year, order=p.birth_year.desc(), size=nearest)
            else:
                block(*pair)
    elif family:
        block(p.family_name_sound == family_sound)
    if family and dob:
        block(p.family_name_key.in_(keys), p.date_of_birth.in_(dates))
    elif family:
        block(p.family_name_key.in_(keys))
    # Family names alike by trigrams (pg_trgm): `%` reads the trigram index (at pg_trgm's own
    # threshold, 0.3 unless set) and similarity() holds it to the profile's. With a date of
    # birth it filters the given name and year block instead of reading on its own.
    alike = (p.family_name_key.bool_op("%")(family)
             & (func.similarity(p.family_name_key, family)
                >= matching.blocking.trigram_similarity)) if family and trigrams else None
    if alike is not None and not dob:
        block(alike, p.family_name_key != family,
              *([p.given_name_key == given] if given else []))
    if given and year:
        block(p.given_name_key == given, p.birth_year == year,
              or_(p.date_of_birth.in_(dates), *names_near,
                  *([alike] if alike is not None else [])) if family else true())
    elif given and not family:
        block(p.given_name_key == given)
    if dob:
        block(p.date_of_birth.in_(dates), p.anonymised_at.is_(None),
              or_(*names_near) if names_near else true())
    if typed.phone and (hashed := phone_hash(typed.phone)):
        block(p.phone_hash == hashed)
    if typed.email and (hashed := email_hash(typed.email)):
        block(p.email_hash == hashed)
    unit = postcode_parts(typed.postcode)
    if unit and year:
        block(_HOUSEHOLD.c.postcode == unit[0], p.birth_year == year,
              frm=_HOUSEHOLD.join(_MEMBER, _MEMBER.c.household_id == _HOUSEHOLD.c.id)
              .join(_PERSON, _PERSON.c.id == _MEMBER.c.person_id), column=_MEMBER.c.person_id)
    return out


def find_candidates(session: Session, typed: Record, matching: MatchingProfile, *,
                    profile_id: str, exclude: Collection[int] = ()) -> list[Candidate]:
    """Known people recorded under this profile who may be `typed`, best first; only those
    reaching a band (exact, likely or possible). Anonymised people and merged records are
    never candidates."""
    trigrams = session.get_bind().dialect.name == "postgresql"
    queries = blocks(typed, matching, trigrams=trigrams, profile_id=profile_id)
    if not queries:
        return []
    ids = union(*[core_select(q.subquery().c.id) for q in queries]).subquery()
    where = [_PERSON.c.id.in_(core_select(ids.c.id)), _PERSON.c.anonymised_at.is_(None),
             _PERSON.c.merged_into_id.is_(None)]
    if exclude:
        where.append(_PERSON.c.id.not_in(list(exclude)))
    scored = []
    for row in session.execute(core_select(*_SCORED).where(*where)):
        known = Record(given_name=row.given_name, family_name=row.family_name,
                       date_of_birth=row.date_of_birth, postcode=row.postcode,
                       phone=row.phone_key or row.phone, email=row.email)
        match = score(typed, known, matching)
        if match.band is not None:
            scored.append((row.id, match, row.postcode))
    if not scored:
        return []
    ids = [pid for pid, _, _ in scored]
    people = {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))}
    homes = households_of(session, ids)
    out = [Candidate(people[pid], match, postcode, homes.get(pid, ([], None))[0])
           for pid, match, postcode in scored]
    out.sort(key=lambda c: (-c.match.score, c.person.id))
    return out


__all__ = ["CANDIDATES", "Candidate", "blocks", "by_name", "find_candidates", "households_of",
           "known_record", "people_where"]
