"""The workflows error tree: bad pathway data, events a case cannot take, incomplete payloads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from config.profile import Problem

if TYPE_CHECKING:
    from workflows.machine import EventSpec


class WorkflowError(Exception):
    """Anything wrong in workflows; carries every problem found (file, key, message)."""

    def __init__(self, problems: Iterable[Problem] = (), message: str | None = None):
        self.problems = list(problems)
        super().__init__(message or "; ".join(str(p) for p in self.problems))


class EventNotAllowed(WorkflowError):
    """The event does not exist in the pathway, or not from the case's state (or a guard on the
    case, such as the reopening window, does not pass). The case is unchanged."""

    def __init__(self, event: str, state: str, allowed: Sequence[EventSpec], why: str = ""):
        self.event = event
        self.state = state
        self.allowed = list(allowed)
        names = ", ".join(e.name for e in self.allowed) or "none"
        detail = f" ({why})" if why else ""
        super().__init__(message=f"event {event!r} is not allowed from state {state!r}{detail}; "
                                 f"allowed: {names}")


class MissingFields(WorkflowError):
    """The event's payload lacks fields it needs or has values it cannot take; `fields` maps
    each field to a message saying what is wrong. The case is unchanged."""

    def __init__(self, fields: Mapping[str, str]):
        self.fields = dict(fields)
        super().__init__(message="; ".join(f"{k}: {v}" for k, v in self.fields.items()))


class HistoryDoesNotReplay(WorkflowError):
    """A stored history that the pathway cannot replay from its initial state."""

    def __init__(self, index: int, message: str):
        self.index = index
        super().__init__([Problem("history", f"[{index}]", message)])
