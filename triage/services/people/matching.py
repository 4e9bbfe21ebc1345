"""Finding the people and household a referral is about among those already known."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlmodel import Session

from config.profile import Place
from triage.models import Household, HouseholdMember, Person
from triage.schemas.referral import PersonInput
from triage.services.people.names import name_key, sound_key
from triage.statements import BySize, Row, in_list, new_row, new_rows

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


def match_people(session: Session, people: tuple[PersonInput, ...]) -> list[Row | None]:
    """Each person's known record, or None. Exact match on folded given name, family name
    and date of birth; both names needed.

    A person without both names is never matched (a date of birth alone is not enough to say
    two records are the same child), so it gets a new record.
    """
    keys = [_key(p) for p in people]
    named = [k for k in keys if k[0] and k[1]]
    known: dict[tuple, Row] = {}
    if named:
        params = {}
        for i, (given, family, dob) in enumerate(named):
            params.update({f"g{i}": given, f"f{i}": family, f"d{i}": dob})
        for row in _PEOPLE_NAMED[len(named)].records(session, params):
            # newest first, so the first record of a person wins
            known[(row.given_name_key, row.family_name_key, row.date_of_birth)] = row
    return [known.get(k) if k[0] and k[1] else None for k in keys]


def _key(person: PersonInput) -> tuple:
    return name_key(person.given_name), name_key(person.family_name), person.date_of_birth


def create_people(session: Session, people: tuple[PersonInput, ...],
                  found: list[Row | None], keys: list[int]) -> list[Matched]:
    """The matched people, and a new record (with one of `keys`) for each one not found."""
    new = []
    for p, known in zip(people, found, strict=True):
        if known is None:
            given, family, dob = _key(p)
            new.append({"given_name": p.given_name, "family_name": p.family_name,
                        "given_name_key": given, "family_name_key": family,
                        "given_name_sound": sound_key(given),
                        "family_name_sound": sound_key(family),
                        "date_of_birth": dob})
    for row, key in zip(new, keys, strict=True):
        row["id"] = key
    created = iter(new_rows(session, Person, new))
    return [Matched(known, True) if known is not None else Matched(next(created), False)
            for known in found]


def find_household(session: Session, *, postcode: str, found: list[Row | None]
                   ) -> tuple[Row | None, set[int]]:
    """The household at this postcode that a known person belongs to, if any, and which of
    the known people are its members already."""
    known_ids = [p.id for p in found if p is not None]
    if not known_ids:
        return None, set()
    size, params = in_list("p", known_ids)
    here = [row for row in _HOUSEHOLDS_OF[size].records(session, params)
            if row.postcode == postcode]
    if not here:
        return None, set()
    newest = max(here, key=lambda row: row.id)
    members = {row.member_id for row in here if row.id == newest.id}
    return Row(**{k: v for k, v in vars(newest).items() if k != "member_id"}), members


def create_household(session: Session, *, key: int, postcode: str, place: Place | None
                     ) -> Row:
    sector = place.sector if place else postcode[:-2].strip()
    return new_row(session, Household, id=key, postcode=postcode, sector=sector,
                   district=place.district if place else None)


def add_members(session: Session, household: Row, people: list[Matched],
                members: set[int]) -> None:
    """Make everyone in the referral a member of the household (`members` are already)."""
    rows = []
    for m in people:
        if m.person.id not in members:
            rows.append({"household_id": household.id, "person_id": m.person.id})
            members.add(m.person.id)
    new_rows(session, HouseholdMember, rows)
