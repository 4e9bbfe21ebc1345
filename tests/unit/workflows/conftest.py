"""Fixtures for the workflow tests: the shipped pathways, a plain case object, and builders that
walk a case into any state through real events."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import workflows
from config.profile import load_profile

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


@dataclass
class Case:
    """The smallest thing a pathway can act on (the lead's Case row has these and more)."""

    state: str
    history: list[Any] = field(default_factory=list)
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    instance: str | None = None


def valid_payload(row: Any, fields: Any) -> dict[str, Any]:
    """A payload that satisfies a transition row: first code for coded fields."""
    out: dict[str, Any] = {}
    for name in row.needs:
        if name in row.choices:
            out[name] = next(iter(row.choices[name]))
        elif fields[name].kind == "connections":
            out[name] = [{"organisation": "Citizens Advice", "need": "money and benefits"}]
        elif fields[name].kind == "date":
            out[name] = "2026-11-10"
        else:
            out[name] = "Worker's note"
    return out


def path_to(p: workflows.Pathway, state: str) -> list[Any]:
    """The shortest list of rows from the initial state to `state`, without resume or reopen
    (their guards depend on history the walk has not made)."""
    start = p.initial_state
    seen = {start: []}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        for row in p.transitions:
            if row.source != here or row.dest in seen or row.event in ("resume", "reopen"):
                continue
            seen[row.dest] = [*seen[here], row]
            queue.append(row.dest)
    if state not in seen:
        raise LookupError(f"{state} not reachable in {p.service}")
    return seen[state]


def walk(p: workflows.Pathway, rows: list[Any], *, start: datetime = T0,
         step: timedelta = timedelta(days=1)) -> Case:
    """A case opened at `start` and moved through `rows` a day apart, history kept."""
    case = Case(state=p.initial_state, opened_at=start)
    case.history.append(p.opening(actor="test", at=start))
    at = start
    for row in rows:
        at += step
        t = p.fire(case, row.event, valid_payload(row, p.data.fields), actor="test", at=at)
        case.history.append(t)
        if p.is_closed(t.to_state):
            case.closed_at = at
        else:
            case.closed_at = None
    return case


@pytest.fixture(scope="session")
def profile():
    return load_profile("leicestershire")


@pytest.fixture(scope="session")
def pathways(profile) -> workflows.Pathways:
    return workflows.load_pathways(profile)


@pytest.fixture(scope="session")
def calendar() -> workflows.WorkingCalendar:
    return workflows.WorkingCalendar(country="GB", subdivision="ENG")


@pytest.fixture
def case_in(pathways) -> Callable[..., Case]:
    """case_in(service, state, via=None): a case walked into `state` through real events (via a
    given previous state when the row needs one, e.g. to resume to it)."""

    def build(service: str, state: str, via: str | None = None, **kw: Any) -> Case:
        p = pathways.for_service(service)
        if via is None:
            return walk(p, path_to(p, state), **kw)
        last = next(r for r in p.transitions
                    if r.source == via and r.dest == state and r.event not in ("resume",))
        return walk(p, [*path_to(p, via), last], **kw)

    return build
