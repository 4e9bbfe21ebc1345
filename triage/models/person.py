"""People and households, and who lives where: the records a referral is matched against."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from triage.models.base import stamped


class Household(SQLModel, table=True):
    __tablename__ = "household"

    id: int | None = Field(default=None, primary_key=True)
    postcode: str = Field(max_length=10, index=True)
    sector: str = Field(max_length=8)
    district: str | None = Field(default=None, max_length=64)
    created_at: datetime = stamped()


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (Index("ix_person_match", "family_name_key", "date_of_birth"),)

    id: int | None = Field(default=None, primary_key=True)
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    # Lower-cased, letters only: what matching compares, so "O'Neil" finds "oneil".
    family_name_key: str | None = Field(default=None, max_length=100)
    given_name_key: str | None = Field(default=None, max_length=100)
    date_of_birth: date
    created_at: datetime = stamped()


class HouseholdMember(SQLModel, table=True):
    __tablename__ = "household_member"

    household_id: int = Field(foreign_key="household.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)
    relationship: str | None = Field(default=None, max_length=50)
    since: datetime = stamped()
