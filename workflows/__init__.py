"""Case pathways: which state a routed case starts in, per service (profile data)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from config.profile import Problem, Profile


class WorkflowError(Exception):
    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Pathway:
    service: str
    initial_state: str
    closed_states: frozenset[str]

    def is_closed(self, state: str) -> bool:
        return state in self.closed_states


class Pathways:
    def __init__(self, profile: Profile, pathways: dict[str, Pathway], problems: list[Problem]):
        self.profile = profile
        self._pathways = pathways
        self._problems = problems

    def for_service(self, service: str) -> Pathway:
        try:
            return self._pathways[service]
        except KeyError:
            raise WorkflowError([Problem("pathways.yaml", service, "no pathway")]) from None

    def check(self) -> list[Problem]:
        return list(self._problems)


def load_pathways(profile: Profile) -> Pathways:
    file = profile.files.get("pathways", "pathways.yaml")
    try:
        data = yaml.safe_load((profile.folder / file).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise WorkflowError([Problem(file, "-", "file not found")]) from None
    problems: list[Problem] = []
    pathways: dict[str, Pathway] = {}
    for service, spec in (data.get("pathways") or {}).items():
        if service not in profile.services:
            problems.append(Problem(file, f"pathways.{service}", "not a service in services.yaml"))
        if not isinstance(spec, dict) or not spec.get("initial"):
            problems.append(Problem(file, f"pathways.{service}.initial", "is required"))
            continue
        pathways[service] = Pathway(service, str(spec["initial"]),
                                    frozenset(spec.get("closed") or ()))
    for service in profile.services:
        if service not in pathways:
            problems.append(Problem(file, f"pathways.{service}",
                                    f"service {service} has no pathway"))
    if problems:
        raise WorkflowError(problems)
    return Pathways(profile, pathways, problems)
