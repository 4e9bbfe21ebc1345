"""Named guards: the conditions a pathway's data attaches to its transitions (`is_…`, `has_…`).

A guard reads the per-call subject (the case's state, history and the checked payload) and
the transition's destination; it never changes anything and does no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows.calendar import add_months_dt
from workflows.history import CaseLike, Transition, held_from, last_closed_at
from workflows.states import StateSpec


@dataclass
class Subject:
    """The model the shared Machine acts on for one call: built per call, never registered with
    the Machine (no add_model), discarded afterwards. Only `state` and `record` change."""

    state: str
    case: CaseLike
    states: Mapping[str, StateSpec]
    reopen_within_months: int
    event: str
    at: datetime
    actor: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    problems: Mapping[str, str] = field(default_factory=dict)
    effects: tuple[str, ...] = ()
    record: Transition | None = None

    @property
    def history(self):
        return getattr(self.case, "history", None) or ()


Guard = Callable[[Subject, str], bool]


def has_needed_fields(subject: Subject, dest: str) -> bool:
    """The payload carries every field the event needs, each with an allowed value."""
    return not subject.problems


def has_been_accepted(subject: Subject, dest: str) -> bool:
    """The receiving service has accepted the case (now or at some point in its history)."""
    if subject.states[subject.state].accepted:
        return True
    return any(row.to_state in subject.states and subject.states[row.to_state].accepted
               for row in subject.history)


def is_within_reopen_window(subject: Subject, dest: str) -> bool:
    """The case closed no longer ago than the profile's reopening window."""
    closed = [name for name, spec in subject.states.items() if spec.closed]
    closed_at = last_closed_at(subject.case, closed)
    if closed_at is None:
        return False
    return subject.at <= add_months_dt(closed_at, subject.reopen_within_months)


def is_held_from_this_state(subject: Subject, dest: str) -> bool:
    """Resuming goes back to the state the case was put on hold from, and only there."""
    holds = [name for name, spec in subject.states.items() if spec.on_hold]
    return held_from(subject.history, holds) == dest


GUARDS: dict[str, Guard] = {
    guard.__name__: guard
    for guard in (has_needed_fields, has_been_accepted, is_within_reopen_window,
                  is_held_from_this_state)
}
# Guards that read only the payload: allowed_events() leaves them out (there is no payload yet).
PAYLOAD_GUARDS = frozenset({"has_needed_fields"})
