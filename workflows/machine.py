"""The shared machine builder: one transitions.Machine per pathway, fired on any case-like object.

A Machine is built once per pathway with model=None and auto_transitions=False. Each call
wraps the case in a throwaway Subject and triggers the Machine's Event on it directly
(`machine.events[name].trigger(subject)`), so cases are never registered with the Machine
(no add_model, nothing appended to machine.models). The after-state-change hook writes the
history record onto the subject; only `case.state` is set on the case itself."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from transitions import EventData, Machine

from config.profile import Problem, Profile
from workflows.calendar import WorkingCalendar
from workflows.errors import EventNotAllowed, HistoryDoesNotReplay, MissingFields, WorkflowError
from workflows.guards import GUARDS, PAYLOAD_GUARDS, Subject
from workflows.history import CaseLike, Transition, TransitionLike, payload_of
from workflows.loader import read_pathways
from workflows.payload import check_payload
from workflows.specs import PathwaysData, PathwaySpec, TransitionSpec
from workflows.states import StateSpec
from workflows.timescales import Due, dues

OPEN_EVENT = "open"


@dataclass(frozen=True)
class EventSpec:
    """An event a case can take now: what it is called, which payload fields it needs and, for
    coded fields, the allowed codes."""

    name: str
    label: str
    needs: tuple[str, ...]
    choices: Mapping[str, list[str]] = field(default_factory=dict)
    to_state: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "needs": list(self.needs),
                "choices": {k: list(v) for k, v in self.choices.items()},
                "to_state": self.to_state}


class _NamedGuard:
    """A guard as the Machine calls it (with EventData), keeping the guard's name for logs."""

    def __init__(self, name: str):
        self.name = name
        self.func = GUARDS[name]

    def __call__(self, event_data: EventData) -> bool:
        return self.func(event_data.model, event_data.transition.dest)

    def __repr__(self) -> str:
        return f"<guard {self.name}>"


@dataclass
class _ReplayCase:
    state: str
    history: list[Any]
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    instance: str | None = None


class Pathway:
    """One service's case pathway: its states, its transition table and its one Machine."""

    def __init__(self, spec: PathwaySpec, data: PathwaysData):
        self.spec = spec
        self.data = data
        self.service = spec.service
        self.initial_state = spec.initial
        self.states: Mapping[str, StateSpec] = spec.states
        self.transitions: tuple[TransitionSpec, ...] = spec.transitions
        self.events: tuple[str, ...] = tuple(dict.fromkeys(t.event for t in spec.transitions))
        self._rows = {(t.event, t.source, t.dest): t for t in spec.transitions}
        self.machine = Machine(
            model=None,
            states=list(spec.states),
            initial=spec.initial,
            transitions=[
                {"trigger": t.event, "source": t.source, "dest": t.dest,
                 "conditions": [_NamedGuard(g) for g in ("has_needed_fields", *t.guards)]}
                for t in spec.transitions
            ],
            auto_transitions=False,
            send_event=True,
            after_state_change=[self._record],
            name=spec.service,
        )

    def __repr__(self) -> str:
        return f"<Pathway {self.service}>"

    # -- states --------------------------------------------------------------------------
    def is_closed(self, state: str) -> bool:
        return state in self.states and self.states[state].closed

    def is_open(self, state: str) -> bool:
        return state in self.states and not self.states[state].closed

    @property
    def closed_states(self) -> frozenset[str]:
        return frozenset(s for s, spec in self.states.items() if spec.closed)

    def status_of(self, state: str) -> str:
        """The FHIR Task status the state means."""
        return self.states[state].status.value

    def shortest_route(self, start: str, goal: Callable[[str], bool],
                       take: Callable[[TransitionSpec], bool] = lambda row: True
                       ) -> list[TransitionSpec] | None:
        """The fewest transitions (only those `take` accepts) from `start` to the nearest
        state for which goal(state) holds: [] when `start` is one, None when none is
        reachable. For walking a case along its pathway (tests, benchmarks)."""
        seen: dict[str, list[TransitionSpec]] = {start: []}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            if goal(here):
                return seen[here]
            for row in self.transitions:
                if row.source == here and row.dest not in seen and take(row):
                    seen[row.dest] = [*seen[here], row]
                    queue.append(row.dest)
        return None

    # -- events --------------------------------------------------------------------------
    def _subject(self, case: CaseLike, event: str, at: datetime, actor: str = "") -> Subject:
        return Subject(state=case.state, case=case, states=self.states,
                       reopen_within_months=self.data.reopen_within_months,
                       event=event, at=at, actor=actor)

    def _candidates(self, case: CaseLike, event: str, at: datetime
                    ) -> tuple[list[TransitionSpec], str]:
        """Rows for the event from the case's state whose case guards pass, and (when none
        does) why not."""
        rows = [t for t in self.transitions if t.event == event and t.source == case.state]
        subject = self._subject(case, event, at)
        passing, failed = [], ""
        for t in rows:
            for g in t.guards:
                if g not in PAYLOAD_GUARDS and not GUARDS[g](subject, t.dest):
                    failed = failed or (GUARDS[g].__doc__ or g).strip().splitlines()[0]
                    break
            else:
                passing.append(t)
        return passing, ("" if passing else failed)

    def allowed_events(self, case: CaseLike, *, at: datetime | None = None) -> list[EventSpec]:
        """The events the case can take now (guards on the case checked at `at`, default now)."""
        if case.state not in self.states:
            return []
        when = at or datetime.now(UTC)
        out: list[EventSpec] = []
        for event in self.events:
            rows, _ = self._candidates(case, event, when)
            if rows:
                t = rows[0]
                out.append(EventSpec(name=event, label=t.label, needs=t.needs,
                                     choices={k: list(v) for k, v in t.choices.items()},
                                     to_state=t.dest))
        return out

    def fire(self, case: CaseLike, event: str, payload: Mapping[str, Any] | None = None, *,
             actor: str, at: datetime) -> Transition:
        """Move the case by the event; set `case.state` and return the history record.

        Raises EventNotAllowed (unknown event, wrong state, a case guard fails) or
        MissingFields (payload lacks a field or has a value it cannot take); either way the
        case is unchanged."""
        state = case.state
        if state not in self.states:
            raise EventNotAllowed(event, state, [], why=f"{state!r} is not a state of "
                                                        f"the {self.service} pathway")
        rows, why = self._candidates(case, event, at)
        if not rows:
            if event not in self.events:
                why = f"the {self.service} pathway has no event {event!r}"
            raise EventNotAllowed(event, state, self.allowed_events(case, at=at), why=why)
        row = rows[0]
        clean, problems = check_payload(payload or {}, row.needs, self.data.fields, row.choices)
        if problems:
            raise MissingFields(problems)
        if row.outcome is not None:
            clean["outcome"] = row.outcome
        subject = self._subject(case, event, at, actor)
        subject.payload = clean
        if not self.machine.events[event].trigger(subject) or subject.record is None:
            raise EventNotAllowed(event, state, self.allowed_events(case, at=at),
                                  why="a guard did not pass")
        case.state = subject.state
        return subject.record

    def _record(self, event_data: EventData) -> None:
        """After-state-change hook: the history record of the step (no I/O)."""
        subject: Subject = event_data.model
        t = event_data.transition
        row = self._rows[(event_data.event.name, t.source, t.dest)]
        reason = subject.payload.get("reason")
        subject.record = Transition(
            from_state=t.source, to_state=t.dest, event=row.event, by=subject.actor,
            at=subject.at, reason=reason if isinstance(reason, str) else None,
            payload=dict(subject.payload), effects=row.effects)

    def opening(self, *, actor: str, at: datetime, reason: str | None = None) -> Transition:
        """The first history record of a new case (from no state into the initial state)."""
        return Transition(from_state=None, to_state=self.initial_state, event=OPEN_EVENT,
                          by=actor, at=at, reason=reason)

    def replay(self, history: Sequence[TransitionLike]) -> str:
        return replay(self, history)

    # -- timescales ----------------------------------------------------------------------
    def due(self, case: CaseLike, *, now: datetime, calendar: WorkingCalendar) -> list[Due]:
        return dues(self.spec, case, now=now, calendar=calendar,
                    meetings_default=self.data.meetings_default,
                    meetings_by_instance=self.data.meetings_by_instance)

    def escalation_due(self, case: CaseLike, now: datetime, calendar: WorkingCalendar
                       ) -> list[Due]:
        """The overdue timescales that escalate the case (the periodic sweep's question)."""
        return [d for d in self.due(case, now=now, calendar=calendar)
                if d.overdue and d.escalate]

    def next_due_at(self, case: CaseLike, *, now: datetime, calendar: WorkingCalendar
                    ) -> date | None:
        """The earliest due date on the case, or None (for the case's next_due_at column)."""
        found = self.due(case, now=now, calendar=calendar)
        return found[0].due_at if found else None


def replay(pathway: Pathway, history: Sequence[TransitionLike]) -> str:
    """Replay a stored history from the initial state through the same Machine and guards;
    return the state it ends in, or raise HistoryDoesNotReplay naming the first bad row.
    A first row with no from_state is the case's opening record."""
    scratch = _ReplayCase(state=pathway.initial_state, history=[])
    for i, row in enumerate(history):
        if row.from_state is None:
            if i != 0 or row.to_state != pathway.initial_state:
                raise HistoryDoesNotReplay(i, f"only the first row may open the case, and into "
                                              f"{pathway.initial_state!r}")
            scratch.opened_at = row.at
            scratch.history.append(row)
            continue
        if row.from_state != scratch.state:
            raise HistoryDoesNotReplay(i, f"starts from {row.from_state!r} but the case was "
                                          f"in {scratch.state!r}")
        try:
            step = pathway.fire(scratch, row.event, payload_of(row),
                                actor=getattr(row, "by", "") or "", at=row.at)
        except (EventNotAllowed, MissingFields) as exc:
            raise HistoryDoesNotReplay(i, str(exc)) from exc
        if step.to_state != row.to_state:
            raise HistoryDoesNotReplay(i, f"{row.event!r} leads to {step.to_state!r}, "
                                          f"not {row.to_state!r}")
        scratch.history.append(row)
    return scratch.state


class Pathways:
    """Every service's pathway in a profile, each with its Machine built once."""

    def __init__(self, profile: Profile, data: PathwaysData):
        self.profile = profile
        self.data = data
        self._pathways = {s: Pathway(spec, data) for s, spec in data.pathways.items()}
        self._calendar: WorkingCalendar | None = None

    def for_service(self, service: str) -> Pathway:
        try:
            return self._pathways[service]
        except KeyError:
            raise WorkflowError([Problem(self.data.file, f"pathways.{service}",
                                         f"no pathway for service {service!r}")]) from None

    def __iter__(self):
        return iter(self._pathways.values())

    def __len__(self) -> int:
        return len(self._pathways)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self._pathways)

    @property
    def calendar(self) -> WorkingCalendar:
        """The profile's working calendar (its bank-holiday country and subdivision)."""
        if self._calendar is None:
            self._calendar = WorkingCalendar.for_profile(dict(self.profile.bank_holidays))
        return self._calendar

    def check(self) -> list[Problem]:
        """Warnings about data that loads but looks wrong (messages start 'warning:')."""
        return list(self.data.warnings)


def load_pathways(profile: Profile) -> Pathways:
    """Read, check and build the profile's pathways; raise WorkflowError naming every problem."""
    data, problems = read_pathways(profile)
    if problems or data is None:
        raise WorkflowError(problems)
    return Pathways(profile, data)
