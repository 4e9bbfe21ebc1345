"""Caseload allocation (the profile's `allocation`): where a new case of a balanced service
opens, with the figures in its reason.

A new case goes to the family's own instance unless that team is at or over its capacity in
open cases; then to the instance in the same unit (`balance_within`) with the most spare
capacity as a share of its capacity; never outside the unit. When every team of the unit is
full it stays with the family's own, over capacity. A family with an open case of the service
stays with that case's team. A statutory service is never balanced (the profile refuses it).

The preview, intake and recording consent all call `allocate_routes`, so the preview shows
what recording would do now. Open cases are counted with one grouped query read from
ix_case_team_open_due (service, instance, closed_at, ...). On PostgreSQL a writer first takes
a transaction-scoped advisory lock (one for all allocation): a second intake that allocates
waits until the first commits, then counts its case, so two cannot both take a team's last
place. One lock rather than one per unit: a transaction that allocates in several units (a
partner's batch) would otherwise take their locks in any order and could deadlock with
another; allocating intakes are a few a minute at most, each holding it for milliseconds.
SQLite writers are serialised already (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session

from config.teams import HOME, MOVED, OPEN_CASE, OVER_CAPACITY, Allocation, allocate
from triage.models import Case

CHOSEN = "chosen"  # a person chose the instance (an override): it is never moved
_CASE = Case.__table__


def lock_key() -> int:
    """The stable signed 64-bit advisory-lock key writers that allocate take."""
    digest = hashlib.sha256(b"triage.allocation").digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def open_counts(session: Session, service: str, instances: Sequence[str]) -> dict[str, int]:
    """Open cases per instance of one service, in one grouped, indexed query."""
    if not instances:
        return {}
    rows = session.execute(
        select(_CASE.c.instance, func.count())
        .where(_CASE.c.service == service, _CASE.c.instance.in_(list(instances)),
               _CASE.c.closed_at.is_(None))
        .group_by(_CASE.c.instance)).all()
    found = {instance: int(n) for instance, n in rows}
    return {i: found.get(i, 0) for i in instances}


def _open_case_instance(session: Session, household_id: int | None, service: str
                        ) -> str | None:
    """The instance of the household's most recently opened open case of the service."""
    if household_id is None:
        return None
    found = session.execute(
        select(_CASE.c.instance)
        .where(_CASE.c.household_id == household_id, _CASE.c.service == service,
               _CASE.c.closed_at.is_(None))
        .order_by(_CASE.c.opened_at.desc(), _CASE.c.id.desc()).limit(1)).first()
    return found[0] if found else None


def _lock(session: Session) -> None:
    """Until the transaction ends (taking it again in the same one is free)."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the writer already holds the database's write lock
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key()})


def engine_reason(route: Mapping[str, Any]) -> str:
    """The route's reason without a previous allocation's sentence."""
    reason = route.get("reason") or ""
    said = (route.get("allocation") or {}).get("text")
    if said and reason.endswith(" " + said):
        return reason[:-len(said) - 1]
    return reason


def allocate_routes(rt: Any, session: Session, routes: Sequence[Mapping[str, Any]], *,
                    household_id: int | None, lock: bool = False) -> list[dict[str, Any]]:
    """The routes with every balanced service's instance chosen now (each other route as it
    was). `lock` (a writer about to open the cases): serialise with other writers of the same
    unit on PostgreSQL until the transaction ends."""
    out = []
    for route in routes:
        allocation = rt.profile.allocation_for(route.get("service"))
        given = route.get("allocation") or {}
        if allocation is None or route.get("instance") is None or given.get("outcome") == CHOSEN:
            out.append(dict(route))
            continue
        out.append(_allocate(rt, session, allocation, route, household_id, lock))
    return out


def _allocate(rt: Any, session: Session, allocation: Allocation, route: Mapping[str, Any],
              household_id: int | None, lock: bool) -> dict[str, Any]:
    service = rt.profile.services[allocation.service]
    home = (route.get("allocation") or {}).get("home") or route["instance"]
    if home not in allocation.capacity:
        return dict(route)
    if lock:
        _lock(session)
    names = {i: inst.name for i, inst in service.instances.items()}
    held = _open_case_instance(session, household_id, allocation.service)
    group = allocation.group(home)
    counts = open_counts(session, allocation.service, sorted({*group, home, *(
        [held] if held in allocation.capacity else [])}))
    capacity = allocation.capacity
    instance, outcome = allocate(home, group, counts, capacity, held=held)
    if outcome == OPEN_CASE:
        said = (f"The family already has an open case with {names.get(held, held)}; it "
                "stays with that team.")
    else:
        said = sentence(outcome, home=names[home], to=names[instance],
                        home_open=counts[home], home_capacity=capacity[home],
                        open=counts[instance], capacity=capacity[instance],
                        unit=allocation.unit_name(home))
    figures = {"home": home, "outcome": outcome,
               "open": counts.get(instance, 0), "capacity": capacity.get(instance, 0),
               "home_open": counts[home], "home_capacity": capacity[home], "text": said}
    return {**route, "instance": instance, "reason": f"{engine_reason(route)} {said}".strip(),
            "allocation": figures}


def sentence(outcome: str, *, home: str, to: str, home_open: int, home_capacity: int,
             open: int, capacity: int, unit: str) -> str:  # noqa: A002 (the figure's name)
    """The plain-English reason for an allocation, with the figures."""
    if outcome == HOME:
        return f"{home} has room ({home_open} of {home_capacity} open cases)."
    full = f"{home} is full ({home_open} of {home_capacity} open cases)"
    if outcome == MOVED:
        return f"{full}; allocated to {to} ({open} of {capacity})."
    assert outcome == OVER_CAPACITY
    where = f"in {unit}" if unit else "that it may go to"
    return f"{full} and so is every other team {where}; it stays with {home}, over capacity."
