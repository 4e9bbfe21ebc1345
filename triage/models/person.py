"""People and households, and who lives where: the records a referral is matched against."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from triage.models.base import maybe_stamped, stamped


class Household(SQLModel, table=True):
    __tablename__ = "household"

    id: int | None = Field(default=None, primary_key=True)
    # The council profile it was recorded under (settings' profile id): matching, search,
    # merges and the duplicate finder only ever see the running profile's families.
    profile_id: str = Field(max_length=64)
    # Blocking keys too: candidates at the same postcode unit, sector or district.
    postcode: str = Field(max_length=10, index=True)
    sector: str = Field(max_length=8, index=True)
    # The value of the profile's top locality unit (profile.yaml `localities.top`: the
    # district in the default profile), None outside the area. The column keeps its first name;
    # the family record and subject access show it as `district`.
    district: str | None = Field(default=None, max_length=64, index=True)
    # The address as last given (contract 5.1); the postcode above is the one matched on.
    address_line1: str | None = Field(default=None, max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    town: str | None = Field(default=None, max_length=100)
    created_at: datetime = stamped()
    # Set when the retention schedule anonymised it (address gone, postcode cut to its sector).
    anonymised_at: datetime | None = maybe_stamped()
    # Set when staff merged it into another household (record_merge keeps how to undo it).
    merged_into_id: int | None = Field(default=None, foreign_key="household.id")
    merged_at: datetime | None = maybe_stamped()


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (
        # Led by the profile (migration 0017): where a block reads a name's people in year
        # order, another profile's people with that name are never read past.
        Index("ix_person_match", "profile_id", "family_name_key", "date_of_birth"),
        # Blocking (people/candidates.py) and search: each candidate query reads one of these.
        # On PostgreSQL migration 0013 also adds trigram (pg_trgm GIN) indexes on both name
        # keys, which SQLite cannot hold: ix_person_family_trgm, ix_person_given_trgm; and
        # migration 0025 a GIN index on the names' deletion keys (name_near_keys) for the
        # no-date-of-birth block: ix_person_name_near.
        Index("ix_person_sound", "profile_id", "family_name_sound", "given_name_sound",
              "birth_year"),
        # On PostgreSQL (migration 0027) these two carry the columns their blocks filter on
        # (INCLUDE), so a common given name and year is read from the index alone.
        Index("ix_person_given_year", "given_name_key", "birth_year",
              postgresql_include=["id", "profile_id", "date_of_birth", "family_name_sound",
                                  "family_name_key", "given_name_sound"]),
        Index("ix_person_dob", "date_of_birth",
              postgresql_include=["id", "profile_id", "anonymised_at", "family_name_sound",
                                  "family_name_key", "given_name_sound"]),
        Index("ix_person_phone_hash", "phone_hash"),
        Index("ix_person_email_hash", "email_hash"),
        Index("ix_person_nhs", "nhs_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The council profile it was recorded under (see Household.profile_id).
    profile_id: str = Field(max_length=64)
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    # Lower-cased, letters only: what matching compares, so "O'Neil" finds "oneil".
    family_name_key: str | None = Field(default=None, max_length=100)
    given_name_key: str | None = Field(default=None, max_length=100)
    # Sound keys (triage.services.people.names.sound_key): "Jonson" finds "Johnson".
    family_name_sound: str | None = Field(default=None, max_length=16)
    given_name_sound: str | None = Field(default=None, max_length=16)
    date_of_birth: date
    # Blocking keys (triage.services.people.keys): the year of birth, and SHA-256 of the phone
    # number and email address as the scorer compares them, so the indexes hold no contact.
    birth_year: int | None = None
    phone_hash: str | None = Field(default=None, max_length=64)
    email_hash: str | None = Field(default=None, max_length=64)
    # Contact and identity as last given (contract 5.1). What each referral said is kept in
    # its raw body, so a partner sees what they sent and nothing added later.
    phone: str | None = Field(default=None, max_length=32)
    # Digits only, national form (07700900123): what a phone search compares.
    phone_key: str | None = Field(default=None, max_length=16)
    email: str | None = Field(default=None, max_length=254)
    preferred_contact: str | None = Field(default=None, max_length=16)
    # None: not known. False: do not call or text (the notes say why and what is safe).
    safe_to_contact: bool | None = None
    safe_contact_notes: str | None = None
    language: str | None = Field(default=None, max_length=64)
    interpreter: bool | None = None
    nhs_number: str | None = Field(default=None, max_length=10)
    sex: str | None = Field(default=None, max_length=16)
    ethnicity: str | None = Field(default=None, max_length=64)
    contact_updated_at: datetime | None = maybe_stamped()
    created_at: datetime = stamped()
    # Set when the retention schedule anonymised it (names, contact and identity gone; the
    # date of birth kept as 1 January of its year, for age bands in reports).
    anonymised_at: datetime | None = maybe_stamped()
    # Set when staff merged it into another record of the same person (record_merge keeps
    # how to undo it): no longer found, suggested or shown as its own page.
    merged_into_id: int | None = Field(default=None, foreign_key="person.id")
    merged_at: datetime | None = maybe_stamped()


class HouseholdMember(SQLModel, table=True):
    __tablename__ = "household_member"

    household_id: int = Field(foreign_key="household.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)
    relationship: str | None = Field(default=None, max_length=50)
    since: datetime = stamped()
