"""The service directory's own rows: partners' services loaded from their Open Referral UK
feeds, each team's capacity status, and the onward connections a case records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from triage.models.base import json_column, stamped


class DirectoryImport(SQLModel, table=True):
    """One `triage directory import FILE`: where it came from and what it loaded."""

    __tablename__ = "directory_import"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=200)  # the file's name
    format: str = Field(max_length=16)  # the feed's envelope: "1.0" or "3.0"
    services: int = 0
    organisations: int = 0
    imported_at: datetime = stamped()


class DirectoryOrganisation(SQLModel, table=True):
    """A partner organisation whose services were imported (its ORUK id, a UUID)."""

    __tablename__ = "directory_organisation"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=300)
    description: str = Field(sa_column=Column(Text, nullable=False))
    website: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=254)
    import_id: int = Field(foreign_key="directory_import.id")
    updated_at: datetime = stamped()


class DirectoryService(SQLModel, table=True):
    """An imported service: its ORUK 3.0 form as published (`document`, nested: schedules,
    locations, contacts...) and the columns the directory lists and searches by."""

    __tablename__ = "directory_service"
    __table_args__ = (Index("ix_directory_service_name", "name"),)

    id: str = Field(primary_key=True, max_length=36)
    organisation_id: str = Field(foreign_key="directory_organisation.id", index=True,
                                 max_length=36)
    name: str = Field(max_length=300)
    status: str = Field(max_length=32)
    assured_date: date | None = None
    # Lower-case name, description and organisation: what the directory's search reads.
    search_text: str = Field(sa_column=Column(Text, nullable=False))
    document: dict[str, Any] = json_column()
    import_id: int = Field(foreign_key="directory_import.id")
    updated_at: datetime = stamped()


class CapacityStatus(SQLModel, table=True):
    """Whether a service instance can take people now (FHIR SDOH capacity codes), with notes
    for referrers; who set it and when. One row per instance, replaced when set again."""

    __tablename__ = "capacity_status"
    __table_args__ = (UniqueConstraint("service", "instance", name="uq_capacity_instance"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=64)
    instance: str = Field(max_length=64)
    code: str = Field(max_length=40)
    notes: str | None = Field(default=None, sa_column=Column(Text))
    set_by_id: int = Field(foreign_key="user_account.id")
    set_at: datetime = stamped()


class OnwardConnection(SQLModel, table=True):
    """An onward connection recorded on a case (a connecting service's "connections made"): the
    organisation (picked from the directory, or typed) and the need it meets, so reports count
    connections by organisation."""

    __tablename__ = "onward_connection"
    __table_args__ = (Index("ix_onward_connection_org", "organisation_id", "made_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id", index=True)
    case_event_id: int = Field(foreign_key="case_event.id")
    # The directory service picked (an ORUK service id) and its organisation; None when typed.
    service_id: str | None = Field(default=None, max_length=36)
    organisation_id: str | None = Field(default=None, max_length=36)
    organisation: str = Field(max_length=300)
    need: str = Field(sa_column=Column(Text, nullable=False))
    made_at: datetime = stamped()
