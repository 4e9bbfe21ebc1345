"""Report tallies: counts per fact, month, dimension and member, recounted from the records by
the periodic sweep (triage.services.reports.refresh), and when they were last recounted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from triage.models.base import stamped


class ReportTally(SQLModel, table=True):
    """How many of one fact (a referral received, a case closed with an outcome, a first
    contact made on time...) fell in one month, for one member of one dimension (a district,
    channel `partner`; dimension `all` has the one member `all`). `bucket`
    splits a fact by a number (whole hours to decide) so a median can be read from it."""

    __tablename__ = "report_tally"
    __table_args__ = (
        # A report reads a few facts for one dimension over a run of months.
        Index("ix_report_tally_read", "dimension", "fact", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    fact: str = Field(max_length=64)
    month: date
    dimension: str = Field(max_length=32)
    member: str = Field(max_length=200)
    bucket: int = 0
    n: int = Field(sa_column=Column(BigInteger, nullable=False))


class ReportRefresh(SQLModel, table=True):
    """One row per recount: when it was made (the time every report shows), how long it took
    and how many tally rows it wrote."""

    __tablename__ = "report_refresh"

    id: int | None = Field(default=None, primary_key=True)
    refreshed_at: datetime = stamped()
    took_ms: int = 0
    tallies: int = 0
