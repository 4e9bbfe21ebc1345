"""Cases (one per routed service instance) and every transition they have been through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from triage.models.base import json_column, maybe_stamped, stamped


class Case(SQLModel, table=True):
    __tablename__ = "case_record"
    __table_args__ = (
        Index("ix_case_service_state", "service", "instance", "state"),
        Index("ix_case_open_due", "closed_at", "next_due_at"),
        # A team's worklist: its open cases in due order (triage.services.worklists).
        Index("ix_case_team_open_due", "service", "instance", "closed_at", "next_due_at", "id"),
        Index("ix_case_escalation_due", "escalation_due_at"),
        # "My cases" and a team's caseload per worker: a worker's open cases.
        Index("ix_case_worker_open", "worker_id", "closed_at"),
        # A new referral's re-referral check: a household's cases closed since a moment.
        Index("ix_case_household_closed", "household_id", "closed_at"),
        # The front door's overdue list: open cases only (most cases of a council are closed),
        # soonest due first, read in order a page at a time.
        Index("ix_case_open_next_due", "next_due_at", "id",
              postgresql_where=text("closed_at IS NULL"), sqlite_where=text("closed_at IS NULL")),
        # The hub queue and meeting: one hub's cases in one state, soonest due first.
        Index("ix_case_team_state_due", "service", "instance", "state", "next_due_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    service: str = Field(max_length=64)
    instance: str = Field(max_length=64)
    state: str = Field(max_length=64)
    opened_at: datetime = stamped()
    closed_at: datetime | None = maybe_stamped()
    outcome: str | None = Field(default=None, max_length=64)
    # The moment the earliest thing due on the case becomes overdue (the end of its due day in
    # the council's time zone); None when nothing is due or the case is closed.
    next_due_at: datetime | None = maybe_stamped()
    # Set (to next_due_at) once that moment has passed, by the event or the escalation sweep.
    overdue_since: datetime | None = maybe_stamped()
    # When the team's manager was last told the case is overdue.
    escalated_at: datetime | None = maybe_stamped()
    # When the escalation sweep next has something to escalate on this case (the earliest
    # escalating deadline after escalated_at); None when nothing is left to escalate.
    escalation_due_at: datetime | None = maybe_stamped()
    # The named worker of the case's team who holds it (an `assign` event sets it).
    worker_id: int | None = Field(default=None, foreign_key="user_account.id")
    # The case whose event opened this one (a hub allocation to a lead agency that is a
    # service of the profile opens a linked case for that service's team).
    source_case_id: int | None = Field(default=None, foreign_key="case_record.id", index=True)
    # Optimistic lock: an event is applied only if the row still has the version it was read at.
    version: int = Field(default=1)


class CaseEvent(SQLModel, table=True):
    """One transition of a case: who, when, from, to, which event, why, and what came with it."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id", index=True)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str = Field(max_length=64)
    event: str = Field(max_length=64)
    by_id: int | None = Field(default=None, foreign_key="user_account.id")
    by_label: str = Field(max_length=200)
    at: datetime = stamped()
    reason: str | None = None
    payload: dict[str, Any] = json_column()


class CaseReferralLink(SQLModel, table=True):
    """A referral opened by a case event (step-up to the statutory front door, step-down to
    early help): at most one per event, which makes opening it safe to retry."""

    __tablename__ = "case_referral_link"
    __table_args__ = (UniqueConstraint("case_event_id", name="uq_case_referral_link_event"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id", index=True)
    case_event_id: int = Field(foreign_key="case_event.id")
    referral_id: int = Field(foreign_key="referral.id", index=True)
    kind: str = Field(max_length=32)  # the effect: open_statutory_referral | open_early_help_...
    created_at: datetime = stamped()
