"""Finding the people and household a referral is about among those already known."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlmodel import Session

from config.profile import Place
from triage.models import Household, HouseholdMember, Person
from triage.schemas.referral import PersonInput
from triage.statements import BySize, Row, in_list, new_row, new_rows


def name_key(name: str | None) -> str | None:
    """Lower-case letters only, accents folded: 'O'Néil' and 'oneil' compare equal."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower()) or None


_PERSON = Person.__table__
_HOUSEHOLD = Household.__table__
_MEMBER = HouseholdMember.__table__

# Everyone known with one of n (given name, family name, date of birth) keys, newest first.
_PEOPLE_NAMED = BySize(lambda n: select(_PERSON).where(or_(*[
    (_PERSON.c.family_name_key == bindparam(f"f{i}"))
    & (_PERSON.c.date_of_birth == bindparam(f"d{i}"))
    & (_PERSON.c.given_name_key == bindparam(f"g{i}")) for i in range(n)
])).order_by(_PERSON.c.id.desc()))

# The households n people belong to: one row per (person, household), with the household's
# columns and the person's id. The only filter is on the people, so every plan starts from
# the person index, however many households share a postcode or people a household.
_HOUSEHOLDS_OF = BySize(lambda n: select(_HOUSEHOLD, _MEMBER.c.person_id.label("member_id"))
                        .join(_MEMBER, _MEMBER.c.household_id == _HOUSEHOLD.c.id)
                        .where(_MEMBER.c.person_id.in_([bindparam(f"p{i}") for i in range(n)])))


@dataclass
class Matched:
    person: Row | Person
    known_before: bool


def match_or_create_people(session: Session, people: tuple[PersonInput, ...]) -> list[Matched]:
    """Exact match on folded given name, family name and date of birth; both names needed.

    A person without both names is never matched (a date of birth alone is not enough to say
    two records are the same child), so it gets a new record.
    """
    keys = [(name_key(p.given_name), name_key(p.family_name), p.date_of_birth) for p in people]
    named = [k for k in keys if k[0] and k[1]]
    known: dict[tuple, Row] = {}
    if named:
        params = {}
        for i, (given, family, dob) in enumerate(named):
            params.update({f"g{i}": given, f"f{i}": family, f"d{i}": dob})
        for row in _PEOPLE_NAMED[len(named)].records(session, params):
            # newest first, so the first record of a person wins
            known[(row.given_name_key, row.family_name_key, row.date_of_birth)] = row
    result: list[Matched | None] = []
    new: list[dict] = []
    for p, (given, family, dob) in zip(people, keys, strict=True):
        found = known.get((given, family, dob)) if given and family else None
        result.append(Matched(found, True) if found is not None else None)
        if found is None:
            new.append({"given_name": p.given_name, "family_name": p.family_name,
                        "given_name_key": given, "family_name_key": family,
                        "date_of_birth": p.date_of_birth})
    created = iter(new_rows(session, Person, new))
    return [m if m is not None else Matched(next(created), False) for m in result]


def match_or_create_household(session: Session, *, postcode: str, place: Place | None,
                              people: list[Matched]) -> tuple[Row, bool]:
    """The household at this postcode that a known person belongs to (True), or a new one."""
    known_ids = [m.person.id for m in people if m.known_before]
    household = None
    existing: set[int] = set()
    if known_ids:
        size, params = in_list("p", known_ids)
        here = [row for row in _HOUSEHOLDS_OF[size].records(session, params)
                if row.postcode == postcode]
        if here:
            newest = max(here, key=lambda row: row.id)
            # Only known people can be members already; new ones are added below.
            existing = {row.member_id for row in here if row.id == newest.id}
            household = Row(**{k: v for k, v in vars(newest).items() if k != "member_id"})
    known = household is not None
    if household is None:
        sector = place.sector if place else postcode[:-2].strip()
        household = new_row(session, Household, postcode=postcode, sector=sector,
                            district=place.district if place else None)
    members = []
    for m in people:
        if m.person.id not in existing:
            members.append({"household_id": household.id, "person_id": m.person.id})
            existing.add(m.person.id)
    new_rows(session, HouseholdMember, members)
    return household, known
