"""The checked shape of pathway data: transition rows, timescales, meeting rules, pathways."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from config.profile import Problem
from workflows.payload import FieldSpec
from workflows.states import StateSpec


@dataclass(frozen=True)
class TransitionSpec:
    """One row of a pathway's transition table."""

    event: str
    label: str
    source: str
    dest: str
    needs: tuple[str, ...] = ()
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    outcome: str | None = None


@dataclass(frozen=True)
class Anchor:
    """Where a timescale's clock starts: the case opening, or when it entered a state or took
    an event (the first or the latest time)."""

    opened: bool = False
    entered: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    pick: str = "latest"


@dataclass(frozen=True)
class TimescaleSpec:
    kind: str
    label: str
    anchor: Anchor
    unit: str
    amount: int
    done_entered: tuple[str, ...] = ()
    done_events: tuple[str, ...] = ()
    escalate: bool = False


@dataclass(frozen=True)
class MeetingRule:
    weekday: int
    nth: int
    papers_working_days: int


@dataclass(frozen=True)
class MeetingSpec:
    """A pathway's optional meeting (pathways.yaml `meeting:`): cases wait in `new`, an event
    puts them on the next meeting's `agenda`, another records that they were discussed (on
    the `date_field`), and one of the `decisions` events records what the meeting decided
    (each with the fields it needs). `listed` are further states the queue page shows."""

    new: str
    agenda: str
    discussed: str
    add_to_agenda: str
    record_discussion: str
    decisions: tuple[str, ...]
    date_field: str
    listed: tuple[str, ...] = ()

    @property
    def queue_states(self) -> tuple[str, ...]:
        return (self.new, self.agenda, self.discussed, *self.listed)


@dataclass(frozen=True)
class PathwaySpec:
    service: str
    initial: str
    states: Mapping[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    timescales: tuple[TimescaleSpec, ...]
    meeting: MeetingSpec | None = None


@dataclass(frozen=True)
class PathwaysData:
    """Everything in pathways.yaml, checked."""

    file: str
    reopen_within_months: int
    outcomes: Mapping[str, str]
    fields: Mapping[str, FieldSpec]
    effects: Mapping[str, str]
    # When meetings are held (hub_meetings.default); None when no pathway has a meeting.
    meetings_default: MeetingRule | None
    meetings_by_instance: Mapping[str, MeetingRule]
    pathways: Mapping[str, PathwaySpec]
    warnings: tuple[Problem, ...] = ()
    # A hub's lead-agency code -> the profile's service that is that agency (allocating to it
    # opens a linked case for that service's team); codes not here are outside agencies.
    lead_agency_services: Mapping[str, str] = field(default_factory=dict)

    @property
    def meeting_pathways(self) -> tuple[PathwaySpec, ...]:
        """The pathways that have a meeting, in the file's order (none: no meeting pages)."""
        return tuple(p for p in self.pathways.values() if p.meeting is not None)
