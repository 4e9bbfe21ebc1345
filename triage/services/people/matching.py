"""Finding the people and household a referral is about among those already known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select, update
from sqlmodel import Session

from config.profile import Place
from triage.models import Household, HouseholdMember, Person
from triage.schemas.referral import PersonInput
from triage.services.people.keys import contact_keys, person_keys
from triage.services.people.names import name_key
from triage.statements import BySize, Prepared, Row, new_row, new_rows

_PERSON = Person.__table__
_HOUSEHOLD = Household.__table__

# Everyone known under the profile with one of n (given name, family name, date of birth)
# keys, newest first; never a record merged into another (its survivor is found instead).
_PEOPLE_NAMED = BySize(lambda n: select(_PERSON).where(
    _PERSON.c.profile_id == bindparam("profile"), or_(*[
    (_PERSON.c.family_name_key == bindparam(f"f{i}"))
    & (_PERSON.c.date_of_birth == bindparam(f"d{i}"))
    & (_PERSON.c.given_name_key == bindparam(f"g{i}")) for i in range(n)
]), _PERSON.c.merged_into_id.is_(None)).order_by(_PERSON.c.id.desc()))

# A person's contact and identity columns, from what a referral says about them (with the
# keys of the phone number and email address, so a new one replaces the old key too).
CONTACT_COLUMNS = ("phone", "phone_key", "phone_hash", "email", "email_hash",
                   "preferred_contact", "safe_to_contact", "safe_contact_notes", "language",
                   "interpreter", "nhs_number", "sex", "ethnicity")
ADDRESS_COLUMNS = ("address_line1", "address_line2", "town")

# Newest wins: each column given replaces the one kept; a column not given (NULL) keeps it.
_UPDATE_CONTACT = Prepared(lambda: update(_PERSON).where(_PERSON.c.id == bindparam("id"))
                           .values({**{name: func.coalesce(bindparam(f"v_{name}"),
                                                           _PERSON.c[name])
                                       for name in CONTACT_COLUMNS},
                                    "contact_updated_at": bindparam("v_updated_at",
                                                                    type_=_PERSON.c.contact_updated_at.type)}))
_UPDATE_ADDRESS = Prepared(lambda: update(_HOUSEHOLD).where(_HOUSEHOLD.c.id == bindparam("id"))
                           .values({name: func.coalesce(bindparam(f"v_{name}"),
                                                        _HOUSEHOLD.c[name])
                                    for name in ADDRESS_COLUMNS}))


def contact_columns(person: PersonInput) -> dict:
    """The contact and identity columns this referral gives a value for (the rest absent)."""
    contact = person.contact
    keys = contact_keys(contact.get("phone"), contact.get("email"))
    values = {"phone": contact.get("phone"), "phone_key": keys["phone_key"],
              "phone_hash": keys["phone_hash"], "email": contact.get("email"),
              "email_hash": keys["email_hash"], "preferred_contact": contact.get("preferred"),
              "safe_to_contact": contact.get("safe_to_contact"),
              "safe_contact_notes": contact.get("safe_contact_notes"),
              "language": contact.get("language"), "interpreter": contact.get("interpreter"),
              "nhs_number": person.nhs_number, "sex": person.sex,
              "ethnicity": person.ethnicity}
    return {k: v for k, v in values.items() if v is not None}


def address_columns(address: dict) -> dict:
    values = {"address_line1": address.get("line1"), "address_line2": address.get("line2"),
              "town": address.get("town")}
    return {k: v for k, v in values.items() if v is not None}


@dataclass
class Matched:
    person: Row | Person
    known_before: bool


def match_people(session: Session, people: tuple[PersonInput, ...], *, profile_id: str
                 ) -> list[Row | None]:
    """Each person's known record under this profile, or None. Exact match on folded given
    name, family name and date of birth; both names needed.

    A person without both names is never matched (a date of birth alone is not enough to say
    two records are the same child), so it gets a new record.
    """
    keys = [_key(p) for p in people]
    named = [k for k in keys if k[0] and k[1]]
    known: dict[tuple, Row] = {}
    if named:
        params = {"profile": profile_id}
        for i, (given, family, dob) in enumerate(named):
            params.update({f"g{i}": given, f"f{i}": family, f"d{i}": dob})
        for row in _PEOPLE_NAMED[len(named)].records(session, params):
            # newest first, so the first record of a person wins
            known[(row.given_name_key, row.family_name_key, row.date_of_birth)] = row
    return [known.get(k) if k[0] and k[1] else None for k in keys]


def _key(person: PersonInput) -> tuple:
    return name_key(person.given_name), name_key(person.family_name), person.date_of_birth


def create_people(session: Session, people: tuple[PersonInput, ...],
                  found: list[Row | None], keys: list[int], *, now: datetime,
                  profile_id: str) -> list[Matched]:
    """The matched people (with any contact details newly given), and a new record (with one
    of `keys`, under this profile) for each one not found."""
    new = []
    for p, known in zip(people, found, strict=True):
        contact = contact_columns(p)
        if known is None:
            stored = person_keys(given_name=p.given_name, family_name=p.family_name,
                                 date_of_birth=p.date_of_birth, phone=contact.get("phone"),
                                 email=contact.get("email"))
            new.append({"profile_id": profile_id, "given_name": p.given_name,
                        "family_name": p.family_name, "date_of_birth": p.date_of_birth,
                        **stored, **contact, "contact_updated_at": now if contact else None})
        elif contact:
            update_contact(session, known, contact, now=now)
    for row, key in zip(new, keys, strict=True):
        row["id"] = key
    created = iter(new_rows(session, Person, new))
    return [Matched(known, True) if known is not None else Matched(next(created), False)
            for known in found]


def update_contact(session: Session, person: Row | Person, values: dict, *,
                   now: datetime) -> None:
    """Keep the contact details just given for a known person (newest wins)."""
    _UPDATE_CONTACT.rows(session, {"id": person.id, "v_updated_at": now,
                                   **{f"v_{name}": values.get(name)
                                      for name in CONTACT_COLUMNS}})
    for name, value in values.items():
        setattr(person, name, value)
    person.contact_updated_at = now


def update_address(session: Session, household: Row, address: dict) -> None:
    """Keep the address lines just given for a known household (newest wins)."""
    values = address_columns(address)
    if not values or all(getattr(household, k, None) == v for k, v in values.items()):
        return
    _UPDATE_ADDRESS.rows(session, {"id": household.id,
                                   **{f"v_{name}": values.get(name)
                                      for name in ADDRESS_COLUMNS}})
    for name, value in values.items():
        setattr(household, name, value)


def create_household(session: Session, *, key: int, postcode: str, place: Place | None,
                     profile_id: str, address: dict | None = None) -> Row:
    sector = place.sector if place else postcode[:-2].strip()
    return new_row(session, Household, id=key, profile_id=profile_id, postcode=postcode,
                   sector=sector, district=place.top if place else None,
                   **address_columns(address or {}))


def add_members(session: Session, household: Row, people: list[Matched],
                members: set[int]) -> None:
    """Make everyone in the referral a member of the household (`members` are already)."""
    rows = []
    for m in people:
        if m.person.id not in members:
            rows.append({"household_id": household.id, "person_id": m.person.id})
            members.add(m.person.id)
    new_rows(session, HouseholdMember, rows)
