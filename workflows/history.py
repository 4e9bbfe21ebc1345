"""The history record of a case (Transition) and the questions guards and timescales ask of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Transition:
    """One step of a case: what the service layer stores as a history row.

    `payload` is the validated event payload (JSON types only) and, when the event fixes one,
    the coded `outcome`; `effects` are what the service layer must do after it commits."""

    from_state: str | None
    to_state: str
    event: str
    by: str
    at: datetime
    reason: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    effects: tuple[str, ...] = ()

    @property
    def outcome(self) -> str | None:
        value = self.payload.get("outcome")
        return value if isinstance(value, str) else None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy (the time as ISO 8601)."""
        return {"from_state": self.from_state, "to_state": self.to_state, "event": self.event,
                "by": self.by, "at": self.at.isoformat(), "reason": self.reason,
                "payload": dict(self.payload), "effects": list(self.effects)}


@runtime_checkable
class TransitionLike(Protocol):
    """What workflows reads from a stored history row (Transition or the lead's CaseEvent)."""

    from_state: str | None
    to_state: str
    event: str
    at: datetime


class CaseLike(Protocol):
    """What workflows reads from a case. `fire` sets `state` and nothing else.

    `opened_at` and `closed_at` may be None; `instance` (which hub, which patch) is read with
    getattr when present."""

    state: str
    history: Sequence[TransitionLike]
    opened_at: datetime | None
    closed_at: datetime | None


def payload_of(row: TransitionLike) -> Mapping[str, Any]:
    return getattr(row, "payload", None) or {}


def times_entered(history: Iterable[TransitionLike], states: Iterable[str]) -> list[datetime]:
    wanted = set(states)
    return [row.at for row in history if row.to_state in wanted]


def times_of_events(history: Iterable[TransitionLike], events: Iterable[str]) -> list[datetime]:
    wanted = set(events)
    return [row.at for row in history if row.event in wanted and row.from_state is not None]


def held_from(history: Sequence[TransitionLike], hold_states: Iterable[str]) -> str | None:
    """The state the case was last put on hold from (None when it never was)."""
    holds = set(hold_states)
    for row in reversed(history):
        if row.to_state in holds and row.from_state is not None and row.from_state not in holds:
            return row.from_state
    return None


def opened_at(case: CaseLike) -> datetime | None:
    when = getattr(case, "opened_at", None)
    if when is not None:
        return when
    history = getattr(case, "history", None) or ()
    return history[0].at if history else None


def last_closed_at(case: CaseLike, closed_states: Iterable[str]) -> datetime | None:
    """When the case last entered a closed state (its history first, then `closed_at`)."""
    closed = times_entered(getattr(case, "history", None) or (), closed_states)
    if closed:
        return closed[-1]
    return getattr(case, "closed_at", None)
