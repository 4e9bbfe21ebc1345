"""A profile's demo data (files.demo): the demo accounts, the partner organisations that
refer, and the scenarios `triage demo load` draws referrals from. Development only: nothing
the service does in production reads it. `triage rules check` validates it."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from config.keys import unknown_keys
from config.profile import Problem, Profile, parse_postcode

# Who is in a demo household (triage/demo.py builds the people).
HOUSEHOLDS = ("older_alone", "adult", "family", "pregnant")
USER_KEYS = {"email", "role", "name", "team", "organisation"}
SCENARIO_KEYS = {"weight", "household", "needs", "max_needs", "always", "information_only"}
# A team is the front door, a service, or one instance of a service.
FRONT_DOOR_TEAM = "front_door"


@dataclass(frozen=True)
class DemoUser:
    email: str
    role: str
    name: str
    team: str | None = None
    organisation: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("email", self.email), ("role", self.role),
                                  ("name", self.name), ("team", self.team),
                                  ("organisation", self.organisation)) if v is not None}


@dataclass(frozen=True)
class Scenario:
    """A kind of referral: how often it comes (weight), who is in the household, which
    needs are likely (answered true up to max_needs of them), which are always true."""

    weight: int
    household: str
    needs: tuple[str, ...]
    max_needs: int = 4
    always: tuple[str, ...] = ()
    information_only: bool = False


@dataclass(frozen=True)
class DemoData:
    users: tuple[DemoUser, ...]
    scenarios: tuple[Scenario, ...]
    # Postcodes outside the profile's localities (a referral from there waits for review).
    out_of_area: tuple[str, ...]
    # The language some demo people need an interpreter for.
    interpreter_language: str
    file: str = "demo.yaml"
    by_email: dict[str, DemoUser] = field(default_factory=dict)

    def first_with_role(self, role: str) -> DemoUser | None:
        return next((u for u in self.users if u.role == role), None)

    def with_role(self, role: str) -> tuple[DemoUser, ...]:
        return tuple(u for u in self.users if u.role == role)


def _team_problem(profile: Profile, team: str) -> str | None:
    """A demo account's team must be one of the profile's teams (config.teams)."""
    if team == FRONT_DOOR_TEAM or team in profile.teams:
        return None
    return profile.teams.refusal(team)


def _users(data: Any, profile: Profile, roles: Collection[str] | None,
           problem: Callable[[str, str], None]) -> list[DemoUser]:
    if not isinstance(data, list) or not data:
        problem("users", "must be a list of demo accounts (email, role, name, team or "
                         "organisation)")
        return []
    users, seen = [], set()
    for i, spec in enumerate(data):
        key = f"users[{i}]"
        if not isinstance(spec, dict):
            problem(key, "must be a mapping with email, role and name")
            continue
        unknown_keys(spec, USER_KEYS, key, problem)
        email, role, name = spec.get("email"), spec.get("role"), spec.get("name")
        ok = True
        if not (isinstance(email, str) and re.fullmatch(r"[a-z0-9._-]+@[a-z0-9.-]+", email)):
            problem(f"{key}.email", f"must be a lower-case email address (got {email!r})")
            ok = False
        elif email in seen:
            problem(f"{key}.email", f"duplicate demo account {email!r}")
            ok = False
        if not isinstance(role, str) or (roles is not None and role not in roles):
            problem(f"{key}.role", f"must be one of {', '.join(roles or ())} (got {role!r})")
            ok = False
        if not (isinstance(name, str) and name.strip()):
            problem(f"{key}.name", "needs a name")
            ok = False
        team, organisation = spec.get("team"), spec.get("organisation")
        if team is not None:
            why = _team_problem(profile, str(team))
            if why:
                problem(f"{key}.team", why)
                ok = False
        if role == "partner" and not (isinstance(organisation, str) and organisation.strip()):
            problem(f"{key}.organisation", "a partner needs the organisation they refer from")
            ok = False
        if ok:
            seen.add(email)
            users.append(DemoUser(email=email, role=role, name=name.strip(),
                                  team=str(team) if team is not None else None,
                                  organisation=organisation))
    for role in ("front_door", "manager", "partner"):
        if users and not any(u.role == role for u in users):
            problem("users", f"needs at least one {role} account (the demo sends and moves "
                             "referrals as them)")
    return users


def _ids(value: Any, key: str, profile: Profile, problem: Callable[[str, str], None]
         ) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(q, str) for q in value):
        problem(key, "must be a list of question ids")
        return ()
    for q in value:
        if q not in profile.checklist.questions:
            problem(key, f"{q!r} is not a question on checklist {profile.checklist.id}")
    return tuple(value)


def _scenarios(data: Any, profile: Profile, problem: Callable[[str, str], None]
               ) -> list[Scenario]:
    if not isinstance(data, list) or not data:
        problem("scenarios", "must be a list of scenarios (weight, household, needs)")
        return []
    out = []
    for i, spec in enumerate(data):
        key = f"scenarios[{i}]"
        if not isinstance(spec, dict):
            problem(key, "must be a mapping with weight, household and needs")
            continue
        unknown_keys(spec, SCENARIO_KEYS, key, problem)
        weight, household = spec.get("weight"), spec.get("household")
        max_needs = spec.get("max_needs", 4)
        ok = True
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            problem(f"{key}.weight", f"must be a whole number, 1 or more (got {weight!r})")
            ok = False
        if household not in HOUSEHOLDS:
            problem(f"{key}.household", f"must be one of {', '.join(HOUSEHOLDS)} "
                                        f"(got {household!r})")
            ok = False
        if isinstance(max_needs, bool) or not isinstance(max_needs, int) or max_needs < 1:
            problem(f"{key}.max_needs", f"must be a whole number, 1 or more (got {max_needs!r})")
            ok = False
        info = spec.get("information_only", False)
        if not isinstance(info, bool):
            problem(f"{key}.information_only", "must be true or false")
            ok = False
        needs = _ids(spec.get("needs", []), f"{key}.needs", profile, problem)
        always = _ids(spec.get("always"), f"{key}.always", profile, problem)
        if ok:
            out.append(Scenario(weight=weight, household=household, needs=needs,
                                max_needs=max_needs, always=always, information_only=info))
    return out


def load_demo_data(data: Any, file: str, profile: Profile,
                   problem: Callable[[str, str], None],
                   roles: Collection[str] | None = None) -> DemoData | None:
    """Read a profile's demo.yaml (already parsed); every problem goes to `problem(key,
    message)`. None when there is any."""
    problems: list[tuple[str, str]] = []

    def note(key: str, message: str) -> None:
        problems.append((key, message))
        problem(key, message)

    if not isinstance(data, dict):
        note("-", "must be a mapping with users, scenarios, out_of_area and "
                  "interpreter_language")
        return None
    unknown_keys(data, {"users", "scenarios", "out_of_area", "interpreter_language"}, "", note)
    users = _users(data.get("users"), profile, roles, note)
    scenarios = _scenarios(data.get("scenarios"), profile, note)
    out_of_area = data.get("out_of_area")
    postcodes: list[str] = []
    if not isinstance(out_of_area, list) or not out_of_area:
        note("out_of_area", "must be a list of postcodes outside the county")
    else:
        for i, raw in enumerate(out_of_area):
            parts = parse_postcode(str(raw))
            if parts is None:
                note(f"out_of_area[{i}]", f"{raw!r} is not a postcode")
            elif parts[1] in profile.localities:
                note(f"out_of_area[{i}]", f"{raw!r} is in the localities table, not out of "
                                          "the area")
            else:
                postcodes.append(parts[0])
    language = data.get("interpreter_language")
    if not (isinstance(language, str) and language.strip()):
        note("interpreter_language", "needs the name of a language")
    if problems:
        return None
    return DemoData(users=tuple(users), scenarios=tuple(scenarios), out_of_area=tuple(postcodes),
                    interpreter_language=language.strip(), file=file,
                    by_email={u.email: u for u in users})


def read_demo_data(profile: Profile, roles: Collection[str] | None = None
                   ) -> tuple[DemoData | None, list[Problem]]:
    """The profile's demo data and the problems with it (none: no files.demo)."""
    import yaml

    name = profile.files.get("demo")
    if name is None:
        return None, [Problem("profile.yaml", "files.demo", "is required to load demo data")]
    problems: list[Problem] = []
    try:
        data = yaml.safe_load(profile.path("demo").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [Problem(name, "-", "file not found")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, "-", f"not valid YAML: {exc}")]
    demo = load_demo_data(data, name, profile,
                          lambda key, message: problems.append(Problem(name, key, message)),
                          roles)
    return demo, problems
