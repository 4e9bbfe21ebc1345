"""Teams and caseload allocation, as the profile declares them.

A **team** is what a staff account belongs to: the set of (service, instance) whose cases it
works. Without `files.teams` the teams are derived from services.yaml (one per service, one
per service:instance, named from the profile), as accounts always had them. `teams.yaml` adds
teams of its own: a service's named instances, or every instance whose locality lies in one
value of a locality unit (a Lancashire footprint manager's `wpehs_targeted` team for
`footprint: burnley-pendle`).

**Allocation** (profile.yaml `allocation`, one or a list): a new case of the service goes to
the family's own instance unless that team is at or over its capacity in open cases, then to
the instance in the same `balance_within` unit with the most spare capacity as a share of its
capacity (never outside the unit). The rule itself is `allocate` (and `choose`); the
services apply it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from config.keys import unknown_keys

# The front door works as a team of its own (its notifications go to team:front_door); it
# works no service's cases.
FRONT_DOOR_TEAM = "front_door"
FRONT_DOOR_NAME = "Front door"
_TEAM_ID = re.compile(r"[a-z][a-z0-9_]{0,63}(:[a-z0-9][a-z0-9_-]{0,62})?")

Report = Callable[[str, str, str], None]  # (file, key, message)


class LocalityView(Protocol):
    """What teams and allocation need of the localities: its units (columns), a unit's
    values, a value's name, and which instances (values of a service's column) lie in one
    value of a unit. config.localities.Localities has exactly these."""

    @property
    def columns(self) -> tuple[str, ...]: ...

    def values(self, unit: str) -> tuple[str, ...]: ...

    def name_of(self, unit: str, value: str | None) -> str: ...

    def instances_within(self, unit: str, value: str, column: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class Team:
    """One team: the instances of one service it works (every instance: `whole_service`).
    A team with no service (the front door) works no service's cases."""

    id: str
    name: str
    service: str | None
    instances: frozenset[str] = frozenset()
    whole_service: bool = False
    declared: bool = False

    def covers(self, service: str, instance: str | None) -> bool:
        return self.service is not None and self.service == service and (
            self.whole_service or instance in self.instances)

    @property
    def instance_filter(self) -> tuple[str, ...] | None:
        """The instances to filter a service's cases by; None for all of them."""
        return None if self.whole_service else tuple(sorted(self.instances))

    @property
    def single_instance(self) -> str | None:
        return next(iter(self.instances)) if len(self.instances) == 1 else None


@dataclass(frozen=True)
class Teams:
    """Every team an account may have, in the order pages list them."""

    by_id: Mapping[str, Team]

    def get(self, team_id: str | None) -> Team | None:
        return self.by_id.get(team_id) if team_id else None

    def __contains__(self, team_id: object) -> bool:
        return team_id in self.by_id

    def __iter__(self):
        return iter(self.by_id.values())

    def name(self, team_id: str | None) -> str:
        team = self.get(team_id)
        return team.name if team is not None else (team_id or "")

    def case_team_name(self, service: str, instance: str | None) -> str:
        """What messages call the team of a case of service:instance: the instance team's
        name with its service's ("North Hub (Family Hubs)"), or the service's name."""
        service_name = self.name(service)
        team = self.get(f"{service}:{instance}") if instance else None
        if team is None or team.name == service_name:
            return service_name
        return f"{team.name} ({service_name})"

    def covering(self, service: str, instance: str | None) -> tuple[str, ...]:
        """The ids of every team that works service:instance's cases (who is told of them)."""
        return tuple(t.id for t in self.by_id.values() if t.covers(service, instance))

    def refusal(self, team_id: str) -> str:
        """The message for an account given a team the profile does not have."""
        return f'no team "{team_id}" in this council\'s profile'

    def choices(self, *, with_front_door: bool = False) -> list[tuple[str, str]]:
        """(id, name) of the teams a chooser lists, in the profile's order: one per distinct
        set of cases (a one-instance service's instance team is its service team). A derived
        service team of several instances says "(all)"."""
        out, seen = [], set()
        services = list(dict.fromkeys(t.service for t in self.by_id.values()))
        ordered = sorted(self.by_id.values(), key=lambda t: (
            services.index(t.service), 0 if t.whole_service and not t.declared else
            1 if t.declared else 2))
        for team in ordered:
            if team.service is None and not with_front_door:
                continue
            key = (team.service, team.instances)
            if key in seen:
                continue
            seen.add(key)
            all_of = team.whole_service and not team.declared and len(team.instances) > 1
            out.append((team.id, f"{team.name} (all)" if all_of else team.name))
        return out


def derived_teams(services: Mapping[str, Any]) -> dict[str, Team]:
    """One team per service (every instance) and one per service instance, named from the
    profile: what an account's team always meant."""
    teams = {FRONT_DOOR_TEAM: Team(id=FRONT_DOOR_TEAM, name=FRONT_DOOR_NAME, service=None)}
    for service in services.values():
        every = frozenset(service.instances)
        teams[service.id] = Team(id=service.id, name=service.name, service=service.id,
                                 instances=every, whole_service=True)
        for instance in service.instances.values():
            tid = f"{service.id}:{instance.id}"
            teams[tid] = Team(id=tid, name=instance.name, service=service.id,
                              instances=frozenset({instance.id}))
    return teams


TEAM_FIELDS = {"id", "name", "service", "instances", "unit"}


def load_teams(data: Any, services: Mapping[str, Any], localities: LocalityView | None,
               file: str, report: Report) -> Teams:
    """teams.yaml (None: no file, the derived teams only): `derived` (default true: keep the
    derived teams too) and `teams`, each {id, name, service, and `instances: [...]` or
    `unit: {<locality unit>: <value>}`, or neither for every instance}. Every problem is
    reported by file and key; nothing raises."""
    derived = derived_teams(services)
    if data is None:
        return Teams(by_id=derived)
    if not isinstance(data, dict):
        report(file, "-", "must be a mapping with `teams:`, a list of teams")
        return Teams(by_id=derived)
    unknown_keys(data, {"derived", "teams"}, "", lambda at, msg: report(file, at, msg))
    keep = data.get("derived", True)
    if not isinstance(keep, bool):
        report(file, "derived", "must be true or false")
        keep = True
    teams: dict[str, Team] = dict(derived) if keep else {
        FRONT_DOOR_TEAM: derived[FRONT_DOOR_TEAM]}
    listed = data.get("teams")
    if not isinstance(listed, list):
        report(file, "teams", "must be a list of teams, each with id, name and service")
        return Teams(by_id=teams)
    for i, spec in enumerate(listed):
        team = _team(spec, f"teams[{i}]", services, localities, file, report)
        if team is None:
            continue
        if team.id in teams:
            what = "declared twice" if teams[team.id].declared else \
                "already a team of the profile (a service or service:instance)"
            report(file, f"teams[{i}].id", f"{team.id!r} is {what}")
            continue
        teams[team.id] = team
    return Teams(by_id=teams)


def _team(spec: Any, key: str, services: Mapping[str, Any], localities: LocalityView | None,
          file: str, report: Report) -> Team | None:
    if not isinstance(spec, dict):
        report(file, key, "must be a mapping with id, name and service")
        return None
    unknown_keys(spec, TEAM_FIELDS, key, lambda at, msg: report(file, at, msg))
    tid, name, sid = spec.get("id"), spec.get("name"), spec.get("service")
    bad = False
    if not isinstance(tid, str) or not _TEAM_ID.fullmatch(tid):
        report(file, f"{key}.id", f"must be a lower_case id, optionally with one ':' part "
                                  f"(got {tid!r})")
        bad = True
    if not isinstance(name, str) or not name.strip():
        report(file, f"{key}.name", "is required: the team's name as people say it")
        bad = True
    service = services.get(sid) if isinstance(sid, str) else None
    if service is None:
        report(file, f"{key}.service", f"unknown service {sid!r}; one of "
                                        f"{', '.join(services)}")
        return None
    has_instances, has_unit = "instances" in spec, "unit" in spec
    if has_instances and has_unit:
        report(file, key, "give instances or unit, not both")
        return None
    if has_instances:
        instances = _listed_instances(spec["instances"], service, f"{key}.instances", file,
                                      report)
    elif has_unit:
        instances = _unit_instances(spec["unit"], service, localities, f"{key}.unit", file,
                                    report)
    else:
        instances = frozenset(service.instances)
    if instances is None or bad:
        return None
    return Team(id=tid, name=name.strip(), service=service.id, instances=instances,
                whole_service=not (has_instances or has_unit), declared=True)


def _listed_instances(given: Any, service: Any, key: str, file: str, report: Report
                      ) -> frozenset[str] | None:
    if not isinstance(given, list) or not given:
        report(file, key, "must be a list of instance ids of the service")
        return None
    unknown = [str(i) for i in given if i not in service.instances]
    for instance in unknown:
        report(file, key, f"unknown instance {instance!r} of service {service.id}")
    return None if unknown else frozenset(given)


def _unit_instances(given: Any, service: Any, localities: LocalityView | None, key: str,
                    file: str, report: Report) -> frozenset[str] | None:
    if not isinstance(given, dict) or len(given) != 1:
        report(file, key, "must be one locality unit and its value, like {district: melton}")
        return None
    ((unit, value),) = given.items()
    if localities is None:
        return None
    if unit not in localities.columns:
        report(file, key, f"unknown locality unit {unit!r}; one of "
                          f"{', '.join(localities.columns)}")
        return None
    if value not in localities.values(unit):
        report(file, f"{key}.{unit}", f"{value!r} is not a {unit} of the localities")
        return None
    if not service.instance_from:
        report(file, key, f"service {service.id} has one countywide instance: a unit cannot "
                          "choose among its instances")
        return None
    found = localities.instances_within(unit, value, service.instance_from)
    found = frozenset(i for i in found if i in service.instances)
    if not found:
        report(file, f"{key}.{unit}", f"no instance of {service.id} lies in {unit} {value!r}")
        return None
    return found


# -- Capacity and allocation -----------------------------------------------------------------

@dataclass(frozen=True)
class Allocation:
    """Balancing one service's new cases within a locality unit (profile.yaml `allocation`).
    `groups`: each instance -> the instances in its unit (itself included), in services.yaml
    order; `unit_of`: instance -> its unit value; `capacity`: instance -> open cases."""

    service: str
    unit: str
    capacity: Mapping[str, int]
    unit_of: Mapping[str, str]
    groups: Mapping[str, tuple[str, ...]]
    unit_names: Mapping[str, str] = field(default_factory=dict)

    def group(self, instance: str) -> tuple[str, ...]:
        return self.groups.get(instance, (instance,))

    def unit_name(self, instance: str) -> str:
        value = self.unit_of.get(instance)
        return self.unit_names.get(value, value or "") if value else ""


def open_cases_capacity(service: Any, instance: str) -> int | None:
    """An instance's capacity in open cases: its own `capacity.open_cases`, else its
    service's; None when neither says."""
    own = service.instances[instance].capacity if instance in service.instances else {}
    value = own.get("open_cases", service.capacity.get("open_cases"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def capacity_problem(value: Any) -> str | None:
    """Why a `capacity: {open_cases: N}` value is not one (None when it is)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"must be a whole number of open cases, 1 or more (got {value!r})"
    return None


def load_allocation(data: Any, services: Mapping[str, Any], localities: LocalityView | None,
                    report: Report, file: str = "profile.yaml") -> tuple[Allocation, ...]:
    """profile.yaml `allocation`: {service, balance_within} or a list of them; absent: no
    balancing. Statutory services never move; every instance needs a capacity."""
    if data is None:
        return ()
    specs = data if isinstance(data, list) else [data]
    out: list[Allocation] = []
    for i, spec in enumerate(specs):
        key = f"allocation[{i}]" if isinstance(data, list) else "allocation"
        if not isinstance(spec, dict):
            report(file, key, "must be a mapping with service and balance_within")
            continue
        unknown_keys(spec, {"service", "balance_within"}, key,
                     lambda at, msg: report(file, at, msg))
        sid, unit = spec.get("service"), spec.get("balance_within")
        service = services.get(sid) if isinstance(sid, str) else None
        if service is None:
            report(file, f"{key}.service", f"unknown service {sid!r}; one of "
                                           f"{', '.join(services)}")
            continue
        if any(a.service == sid for a in out):
            report(file, f"{key}.service", f"service {sid} is balanced twice")
            continue
        if service.statutory:
            report(file, f"{key}.service", f"{sid} is a statutory service: its cases never "
                                           "move")
            continue
        if not service.instance_from:
            report(file, f"{key}.service", f"{sid} has one countywide instance: nothing to "
                                           "balance")
            continue
        if localities is not None and unit not in localities.columns:
            report(file, f"{key}.balance_within", f"unknown locality unit {unit!r}; one of "
                                                  f"{', '.join(localities.columns)}")
            continue
        capacity = {i: c for i in service.instances
                    if (c := open_cases_capacity(service, i)) is not None}
        missing = [i for i in service.instances if i not in capacity]
        for instance in missing:
            report("services.yaml", f"{sid}.instances.{instance}.capacity",
                   "needs open_cases (here or on the service): the service is balanced")
        if missing or localities is None:
            continue
        allocation = _allocation(service, unit, capacity, localities, key, file, report)
        if allocation is not None:
            out.append(allocation)
    return tuple(out)


def _allocation(service: Any, unit: str, capacity: Mapping[str, int],
                localities: LocalityView, key: str, file: str, report: Report
                ) -> Allocation | None:
    unit_of: dict[str, str] = {}
    bad = False
    for value in localities.values(unit):
        for instance in localities.instances_within(unit, value, service.instance_from):
            if instance not in service.instances:
                continue
            if instance in unit_of and unit_of[instance] != value:
                report(file, f"{key}.balance_within",
                       f"instance {instance!r} of {service.id} lies in two {unit}s "
                       f"({unit_of[instance]!r} and {value!r}): balance within a unit that "
                       "contains it")
                bad = True
            unit_of.setdefault(instance, value)
    if bad:
        return None
    order = list(service.instances)
    groups = {i: tuple(j for j in order if unit_of.get(j) == unit_of[i]) for i in unit_of}
    names = {v: localities.name_of(unit, v) for v in set(unit_of.values())}
    return Allocation(service=service.id, unit=unit, capacity=dict(capacity),
                      unit_of=unit_of, groups=groups, unit_names=names)


HOME, MOVED, OVER_CAPACITY, OPEN_CASE = "home", "moved", "over_capacity", "open_case"


def allocate(home: str, group: Iterable[str], open_cases: Mapping[str, int],
             capacity: Mapping[str, int], *, held: str | None = None) -> tuple[str, str]:
    """(instance, outcome) for a new case: the team of the family's open case of the service
    when it has one (OPEN_CASE, whatever the figures), else as `choose` says."""
    if held is not None:
        return held, OPEN_CASE
    return choose(home, group, open_cases, capacity)


def choose(home: str, group: Iterable[str], open_cases: Mapping[str, int],
           capacity: Mapping[str, int]) -> tuple[str, str]:
    """(instance, outcome): the family's own instance while it is under capacity (HOME);
    else the instance of the group with the most spare capacity as a share of its capacity
    (MOVED; ties go to the first in the group's order); the own instance when every one is
    full (OVER_CAPACITY)."""
    if open_cases.get(home, 0) < capacity[home]:
        return home, HOME
    best, best_share = None, 0.0
    for instance in group:
        spare = capacity[instance] - open_cases.get(instance, 0)
        if instance == home or spare <= 0:
            continue
        share = spare / capacity[instance]
        if best is None or share > best_share:
            best, best_share = instance, share
    return (best, MOVED) if best is not None else (home, OVER_CAPACITY)
