"""Each team's open cases against its capacity (policy §5): the figures caseload allocation
uses, for managers and admins. Counts only (no case or person), read per service over
ix_case_team_open_due; cases a restriction hides still count, since allocation counts them
too."""

from __future__ import annotations

from typing import Any

from config.teams import open_cases_capacity
from triage.models import User
from triage.models.base import utcnow
from triage.policy import SEE_CAPACITY, overview_teams, require
from triage.runtime import Runtime
from triage.services.referrals.allocation import open_counts


def _instances_seen(rt: Runtime, user: User) -> dict[str, list[str]]:
    """service -> the instances with a capacity the user sees: every one for admins and
    managers without a team; for a manager, those of their team and, of a balanced service,
    the others its cases may be allocated to (the same unit)."""
    profile = rt.profile
    out: dict[str, list[str]] = {}
    for service in profile.services.values():
        having = [i for i in service.instances if open_cases_capacity(service, i) is not None]
        if having:
            out[service.id] = having
    team = overview_teams(user, profile.teams)
    if team is None:
        return out
    if team.service not in out:
        return {}
    allocation = profile.allocation_for(team.service)
    mine = set(team.instances)
    if allocation is not None:
        mine |= {j for i in team.instances for j in allocation.group(i)}
    return {team.service: [i for i in out[team.service] if i in mine]}


def load_against_capacity(rt: Runtime, *, user: User) -> dict[str, Any]:
    """{"teams": [{service, instance, name, unit, unit_value, unit_name, open, capacity,
    spare, full, balanced}], "at"}: in the profile's order of services and instances."""
    require(user, SEE_CAPACITY, "see the teams' open cases against their capacity")
    seen = _instances_seen(rt, user)
    counts: dict[tuple[str, str], int] = {}
    with rt.db.reader() as session:
        for service_id, instances in seen.items():
            # Per service, its instances named: the index's (service, instance, closed_at)
            # prefix, so only open cases are read (a service-wide IN would read them all).
            counts |= {(service_id, i): n
                       for i, n in open_counts(session, service_id, instances).items()}
    teams = []
    for service_id, instances in seen.items():
        service = rt.profile.services[service_id]
        allocation = rt.profile.allocation_for(service_id)
        for instance in instances:
            capacity = open_cases_capacity(service, instance) or 0
            open_now = counts.get((service_id, instance), 0)
            teams.append({
                "service": service_id, "instance": instance,
                "name": service.instances[instance].name,
                "unit": allocation.unit if allocation else None,
                "unit_value": allocation.unit_of.get(instance) if allocation else None,
                "unit_name": allocation.unit_name(instance) if allocation else None,
                "open": open_now, "capacity": capacity, "spare": max(0, capacity - open_now),
                "full": open_now >= capacity, "balanced": allocation is not None})
    return {"teams": teams, "at": utcnow()}
