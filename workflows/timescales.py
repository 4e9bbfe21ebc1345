"""What is due on a case and when: a pathway's timescales (data) over the case's history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflows.calendar import WorkingCalendar, add_months, nth_weekday
from workflows.history import CaseLike, TransitionLike, opened_at
from workflows.specs import Anchor, MeetingRule, PathwaySpec, TimescaleSpec


@dataclass(frozen=True)
class Due:
    """One thing due on a case: what, by when (a date, in the council's time zone), whether it
    is overdue now, and whether being overdue escalates the case."""

    kind: str
    label: str
    due_at: date
    overdue: bool
    escalate: bool = False
    since: date | None = None

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "label": self.label, "due_at": self.due_at.isoformat(),
                "overdue": self.overdue, "escalate": self.escalate,
                "since": self.since.isoformat() if self.since else None}


def anchor_time(anchor: Anchor, case: CaseLike, history: Sequence[TransitionLike]
                ) -> datetime | None:
    if anchor.opened:
        return opened_at(case)
    times = [row.at for row in history
             if row.from_state is not None
             and (row.to_state in anchor.entered or row.event in anchor.events)]
    if not times:
        return None
    return times[0] if anchor.pick == "first" else times[-1]


def is_done(ts: TimescaleSpec, history: Sequence[TransitionLike], start: datetime) -> bool:
    if not ts.done_entered and not ts.done_events:
        return False
    return any(row.at >= start and row.from_state is not None
               and (row.to_state in ts.done_entered or row.event in ts.done_events)
               for row in history)


def next_meeting(day: date, rule: MeetingRule, calendar: WorkingCalendar) -> date:
    """The first meeting on or after `day` whose papers had not gone out by `day`."""
    year, month = day.year, day.month
    for _ in range(14):
        meeting = nth_weekday(year, month, rule.weekday, rule.nth)
        while not calendar.is_working_day(meeting):
            meeting += timedelta(days=1)
        if day <= calendar.add_working_days(meeting, -rule.papers_working_days):
            return meeting
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise ValueError("no hub meeting found within a year")  # unreachable with a valid rule


def deadline(ts: TimescaleSpec, start: date, calendar: WorkingCalendar,
             meeting_rule: MeetingRule | None) -> date:
    if ts.unit == "working_days":
        return calendar.add_working_days(start, ts.amount)
    if ts.unit == "days":
        return start + timedelta(days=ts.amount)
    if ts.unit == "months":
        return add_months(start, ts.amount)
    # The loader refuses a meeting timescale without hub_meetings.default.
    assert meeting_rule is not None, "a hub_meeting timescale without a meeting rule"
    return next_meeting(start, meeting_rule, calendar)


def dues(spec: PathwaySpec, case: CaseLike, *, now: datetime, calendar: WorkingCalendar,
         meetings_default: MeetingRule | None, meetings_by_instance: Mapping[str, MeetingRule]
         ) -> list[Due]:
    """Everything due on an open case, earliest first; nothing for a closed case."""
    state = spec.states.get(case.state)
    if state is None or state.closed:
        return []
    history = list(getattr(case, "history", None) or ())
    rule = meetings_by_instance.get(getattr(case, "instance", None) or "", meetings_default)
    today = calendar.local_date(now)
    out = []
    for ts in spec.timescales:
        start = anchor_time(ts.anchor, case, history)
        if start is None or is_done(ts, history, start):
            continue
        due_at = deadline(ts, calendar.local_date(start), calendar, rule)
        out.append(Due(kind=ts.kind, label=ts.label, due_at=due_at, overdue=today > due_at,
                       escalate=ts.escalate, since=calendar.local_date(start)))
    return sorted(out, key=lambda d: (d.due_at, d.kind))
