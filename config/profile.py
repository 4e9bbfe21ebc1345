"""Loading and validating a council profile folder (checklist, services, localities, levels)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from config.directory import Directory, load_directory
from config.keys import unknown_keys
from config.localities import Localities, Place, load_localities, load_scheme, parse_postcode
from config.matching import MatchingProfile, load_matching
from config.retention import RetentionSchedule, load_retention
from config.teams import (
    Allocation,
    Teams,
    capacity_problem,
    derived_teams,
    load_allocation,
    load_teams,
)
from config.texts import load_texts

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

SIDES = ("safety", "child", "adult")
# Re-exported: a household's place and the postcode parser live in config.localities.
__all__ = ["Localities", "Place", "parse_postcode"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a profile: which file, which key, what is wrong."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


class ProfileError(Exception):
    """A profile that cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str
    area: str | None
    domain: str
    side: str
    section: str
    implies_child_in_household: bool = False


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    domain: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Domain:
    id: str
    title: str
    side: str


@dataclass(frozen=True)
class Kind:
    """A kind of checklist question and what a true answer of that kind means: whether it is
    a statutory concern, the level code it sets on its own, and whether a step-down from a
    statutory service drops it (the statutory team found the threshold not met)."""

    id: str
    title: str
    statutory: bool = False
    sets_level: str | None = None
    dropped_on_step_down: bool = False


KIND_FIELDS = ("title", "statutory", "sets_level", "dropped_on_step_down")


@dataclass(frozen=True)
class Checklist:
    id: str
    version: str
    title: str
    kinds: Mapping[str, Kind]
    headline_areas: Mapping[str, str]
    domains: Mapping[str, Domain]
    sections: tuple[Section, ...]
    questions: Mapping[str, Question] = field(default_factory=dict)

    def kinds_dropped_on_step_down(self) -> frozenset[str]:
        return frozenset(k.id for k in self.kinds.values() if k.dropped_on_step_down)

    def ids_on_side(self, side: str) -> frozenset[str]:
        return frozenset(q.id for q in self.questions.values() if q.side == side)


@dataclass(frozen=True)
class ServiceInstance:
    id: str
    name: str
    # Free-form like the service's; `open_cases` (a whole number) is the team's capacity,
    # over the service's own `capacity.open_cases`.
    capacity: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    description: str
    status: str
    area_served: str
    ages: Mapping[str, int | None]
    capacity: Mapping[str, Any]
    instances: Mapping[str, ServiceInstance]
    instance_from: str | None = None
    statutory: bool = False
    # The intensive family-support service: a family's open case here is a routing fact.
    family_support: bool = False


CONSENT = ("required", "not_required")
LEVEL_FIELDS = ("code", "number", "name", "description", "statutory", "urgent", "consent")
_LEVEL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}")


@dataclass(frozen=True)
class Level:
    """A level on the council's continuum of need: its code (what decisions store and show),
    its number (its rank on the continuum: Lancashire's 4a, 4b and 4c are all 4), and whether
    a route at this level may go ahead without the family's consent."""

    code: str
    number: int
    name: str
    description: str
    statutory: bool = False
    urgent: bool = False
    consent: str = "required"

    @property
    def rank(self) -> int:
        return self.number

    @property
    def consent_needed(self) -> bool:
        return self.consent != "not_required"


@dataclass(frozen=True)
class FrontDoor:
    """The front door's own timescales."""

    # A triage decision is due this many working days after the day a referral is received.
    decision_within_working_days: int
    # Why the front door may close a referral without routing it (advice given, a duplicate,
    # entered in error...): code -> what it means. None configured: it cannot.
    closures: Mapping[str, str] = field(default_factory=dict)
    # A referral for a family with a case closed within this many months is a re-referral.
    # None configured: referrals are not flagged.
    re_referral_months: int | None = None

    def closure_text(self, code: str | None) -> str:
        """What a closure code means (the code itself if the profile no longer has it)."""
        return self.closures.get(code or "", code or "")


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    folder: Path
    reference_prefix: str
    checklist: Checklist
    services: Mapping[str, Service]
    # The declared locality units, the postcode sectors' places, geography's names.
    localities: Localities
    # Ordered as profile.yaml lists them, keyed by code.
    levels: Mapping[str, Level]
    bank_holidays: Mapping[str, str]
    front_door: FrontDoor
    files: Mapping[str, str]
    content_hash: str
    # Equality monitoring: ethnicity code -> the words shown (profile.yaml `ethnicity`).
    ethnicity: Mapping[str, str] = field(default_factory=dict)
    # How long records are kept (files.retention); None: no schedule, nothing is ever due.
    retention: RetentionSchedule | None = None
    # How two records of a person are scored and banded (files.matching).
    matching: MatchingProfile | None = None
    # The level a case's step-up to the statutory front door goes in at (profile.yaml).
    step_up_level: str | None = None
    # The council's own wording (profile.yaml `texts`, neutral defaults filled in).
    texts: Mapping[str, str] = field(default_factory=dict)
    # The teams an account may have (files.teams, or derived from the services).
    teams: Teams = field(default_factory=lambda: Teams(by_id=derived_teams({})))
    # Which services balance new cases within which locality unit (profile.yaml allocation).
    allocation: tuple[Allocation, ...] = ()
    # The services' public directory data (services.yaml `directory` keys; config.directory).
    directory: Directory = field(default_factory=Directory)

    def allocation_for(self, service: str) -> Allocation | None:
        return next((a for a in self.allocation if a.service == service), None)

    def level(self, code: str | int | None) -> Level | None:
        """The level with this code (a stored integer level is read as its code), or None."""
        return self.levels.get(str(code)) if code is not None else None

    def level_name(self, code: str | int | None) -> str:
        level = self.level(code)
        return level.name if level is not None else ""

    def codes_numbered(self, number: int) -> tuple[str, ...]:
        """The codes of the levels at this number on the continuum (4: 4a, 4b, 4c, adult)."""
        return tuple(c for c, level in self.levels.items() if level.number == number)

    @property
    def family_support_services(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.services.values() if s.family_support)

    def path(self, key: str) -> Path:
        return self.folder / self.files[key]

    def reference_for(self, received_at: datetime, key: int) -> str:
        """A referral's human-readable reference: prefix, year received, row key
        (EH-2026-000123)."""
        return f"{self.reference_prefix}-{received_at:%Y}-{key:06d}"

    def team_name(self, team: str | None) -> str:
        """A staff team as people say it: 'early_help_hub:charnwood-hub' is 'Charnwood Early
        Help Hub', 'first_contact_plus' is 'First Contact Plus', 'front_door' 'Front door'."""
        if not team:
            return ""
        if team in self.teams:
            return self.teams.name(team)
        service_id, _, instance_id = team.partition(":")
        service = self.services.get(service_id)
        if service is None:
            return team.replace("_", " ").capitalize()
        instance = service.instances.get(instance_id) if instance_id else None
        return instance.name if instance is not None else service.name

    def top_name(self, value: str | None) -> str:
        """A value of the top locality unit as people say it (a district's name)."""
        return self.localities.name_of(self.localities.top, value)

    def place_for(self, postcode: str) -> Place | None:
        """The household's place, or None when the profile does not cover the postcode."""
        return self.localities.place_for(postcode)

    def api_place(self, place: Place | None) -> dict[str, str | None] | None:
        """The API's `place`: the declared locality columns under their API names."""
        return self.localities.api_place(place)


def _read_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        problems.append(Problem(path.name, "-", "file not found"))
    except yaml.YAMLError as exc:
        problems.append(Problem(path.name, "-", f"not valid YAML: {exc}"))
    return None


def _shaped(value: Any, kind: type, file: str, key: str, problems: list[Problem],
            what: str) -> Any:
    """`value` when it is a `kind` (absent: an empty one); otherwise a named problem and
    None, so a wrongly shaped file is a problem, never a traceback."""
    if value is None:
        return kind()
    if isinstance(value, kind):
        return value
    problems.append(Problem(file, key, f"must be {what} (got {type(value).__name__})"))
    return None


def _entries(value: Any, file: str, key: str, problems: list[Problem], what: str
             ) -> list[tuple[int, dict[str, Any]]]:
    """(index, mapping) for each entry of a list of mappings; each entry that is not a
    mapping, or a value that is not a list, is a named problem."""
    items = _shaped(value, list, file, key, problems, f"a list of {what}")
    found = []
    for i, item in enumerate(items or []):
        if isinstance(item, dict):
            found.append((i, item))
        else:
            problems.append(Problem(file, f"{key}[{i}]", f"must be a mapping ({what}), not "
                                                         f"{type(item).__name__}"))
    return found


def _unknown_keys(
    data: Mapping[str, Any], allowed: set[str], key: str, file: str, problems: list[Problem]
) -> None:
    unknown_keys(data, allowed, key, lambda at, message: problems.append(
        Problem(file, at, message)))


def load_kinds(data: Any, file: str, problems: list[Problem]) -> dict[str, Kind]:
    """checklist.yaml `kinds`: kind id -> {title, statutory, sets_level, dropped_on_step_down}
    (a plain title is a kind with none of these)."""
    if not isinstance(data, dict) or not data:
        problems.append(Problem(file, "kinds", "must be a mapping of kind id: its title and "
                                               "meaning"))
        return {}
    kinds = {}
    for kid, spec in data.items():
        key = f"kinds.{kid}"
        if isinstance(spec, str):
            spec = {"title": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("title"), str):
            problems.append(Problem(file, key, "must be a title, or a mapping with title"))
            continue
        _unknown_keys(spec, set(KIND_FIELDS), key, file, problems)
        flags = {name: spec.get(name, False) for name in ("statutory", "dropped_on_step_down")}
        bad = [name for name, value in flags.items() if not isinstance(value, bool)]
        for name in bad:
            problems.append(Problem(file, f"{key}.{name}", "must be true or false"))
        sets_level = spec.get("sets_level")
        if isinstance(sets_level, int) and not isinstance(sets_level, bool):
            sets_level = str(sets_level)
        if sets_level is not None and not isinstance(sets_level, str):
            problems.append(Problem(file, f"{key}.sets_level", "must be a level code"))
            continue
        if bad:
            continue
        kinds[str(kid)] = Kind(id=str(kid), title=spec["title"], sets_level=sets_level, **flags)
    return kinds


def load_checklist(path: Path, problems: list[Problem]) -> Checklist | None:
    data = _read_yaml(path, problems)
    file = path.name
    if not isinstance(data, dict):
        if data is not None:
            problems.append(Problem(file, "-", "must be a mapping"))
        return None
    _unknown_keys(
        data, {"id", "version", "title", "kinds", "headline_areas", "domains", "sections"},
        "", file, problems,
    )
    kinds = load_kinds(data.get("kinds"), file, problems)
    areas = _shaped(data.get("headline_areas"), dict, file, "headline_areas", problems,
                    "a mapping of area id: its title") or {}
    domains: dict[str, Domain] = {}
    for did, d in (_shaped(data.get("domains"), dict, file, "domains", problems,
                           "a mapping of domain id: title and side") or {}).items():
        if not isinstance(d, dict) or d.get("side") not in SIDES:
            problems.append(
                Problem(file, f"domains.{did}.side", f"must be one of {', '.join(SIDES)}")
            )
            continue
        domains[did] = Domain(id=did, title=str(d.get("title", did)), side=d["side"])
    sections: list[Section] = []
    questions: dict[str, Question] = {}
    for si, s in _entries(data.get("sections"), file, "sections", problems,
                          "sections with id, title, domain and questions"):
        skey = f"sections[{si}]"
        domain = domains.get(s["domain"]) if isinstance(s.get("domain"), str) else None
        if domain is None:
            problems.append(Problem(file, f"{skey}.domain", f"unknown domain {s.get('domain')!r}"))
            continue
        qs: list[Question] = []
        for qi, q in _entries(s.get("questions"), file, f"{skey}.questions", problems,
                              "questions with id, text and kind"):
            qkey = f"{skey}.questions[{qi}]"
            _unknown_keys(
                q, {"id", "text", "kind", "area", "implies_child_in_household"},
                qkey, file, problems,
            )
            qid = q.get("id")
            if not isinstance(qid, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", qid):
                problems.append(Problem(file, f"{qkey}.id", "must be a snake_case identifier"))
                continue
            if qid in questions:
                problems.append(Problem(file, f"{qkey}.id", f"duplicate question id {qid!r}"))
                continue
            if q.get("kind") not in kinds:
                problems.append(
                    Problem(file, f"{qkey}.kind", f"unknown kind {q.get('kind')!r} for {qid}")
                )
            if q.get("area") is not None and q.get("area") not in areas:
                problems.append(
                    Problem(file, f"{qkey}.area", f"unknown headline area {q.get('area')!r}")
                )
            if not q.get("text"):
                problems.append(Problem(file, f"{qkey}.text", f"question {qid} has no text"))
            question = Question(
                id=qid,
                text=str(q.get("text", "")),
                kind=str(q.get("kind")),
                area=q.get("area"),
                domain=domain.id,
                side=domain.side,
                section=str(s.get("id")),
                implies_child_in_household=bool(q.get("implies_child_in_household", False)),
            )
            questions[qid] = question
            qs.append(question)
        sections.append(
            Section(id=str(s.get("id")), title=str(s.get("title")), domain=domain.id,
                    questions=tuple(qs))
        )
    for key in ("id", "version"):
        if not data.get(key):
            problems.append(Problem(file, key, "is required"))
    return Checklist(
        id=str(data.get("id")),
        version=str(data.get("version")),
        title=str(data.get("title", "")),
        kinds=kinds,
        headline_areas=dict(areas),
        domains=domains,
        sections=tuple(sections),
        questions=questions,
    )


def load_services(path: Path, problems: list[Problem],
                  columns: Iterable[str] | None = None) -> dict[str, Service]:
    """services.yaml; `columns` are the declared locality columns an `instance_from` may
    name (None: the localities block could not be read, so none can be checked)."""
    data = _read_yaml(path, problems)
    columns = tuple(columns) if columns is not None else None
    file = path.name
    services: dict[str, Service] = {}
    if not isinstance(data, dict) or not isinstance(data.get("services"), list):
        if data is not None:
            problems.append(Problem(file, "services", "must be a list of services"))
        return services
    allowed = {"id", "name", "description", "status", "area_served", "ages", "capacity",
               "instances", "instance_from", "statutory", "family_support", "directory"}
    for i, s in _entries(data["services"], file, "services", problems, "services"):
        key = f"services[{i}]"
        _unknown_keys(s, allowed, key, file, problems)
        sid = s.get("id")
        if not sid or not isinstance(sid, str):
            problems.append(Problem(file, f"{key}.id", "is required: the service's id"))
            continue
        ages = _shaped(s.get("ages"), dict, file, f"{key}.ages", problems, "a mapping")
        capacity = _shaped(s.get("capacity"), dict, file, f"{key}.capacity", problems,
                           "a mapping")
        if sid in services:
            problems.append(Problem(file, f"{key}.id", f"duplicate service id {sid!r}"))
        if s.get("status") not in ("active", "inactive", "defunct"):
            problems.append(Problem(file, f"{key}.status", "must be active, inactive or defunct"))
        instance_from = s.get("instance_from")
        if instance_from is not None and not isinstance(instance_from, str):
            problems.append(Problem(file, f"{key}.instance_from", "must be a column name"))
            instance_from = None
        elif instance_from is not None and columns is not None and instance_from not in columns:
            problems.append(Problem(file, f"{key}.instance_from",
                                    f"names column {instance_from!r}, which profile.yaml "
                                    f"localities.columns does not declare "
                                    f"({', '.join(columns)})"))
        instances = {}
        capacity = capacity or {}
        if "open_cases" in capacity and capacity_problem(capacity["open_cases"]):
            problems.append(Problem(file, f"{key}.capacity.open_cases",
                                    capacity_problem(capacity["open_cases"])))
        for j, inst in _entries(s.get("instances"), file, f"{key}.instances", problems,
                                "instances with id and name"):
            if not inst.get("id") or not isinstance(inst["id"], str):
                problems.append(Problem(file, f"{key}.instances[{j}].id", "is required"))
                continue
            _unknown_keys(inst, {"id", "name", "capacity", "directory"},
                          f"{key}.instances[{j}]", file, problems)
            own = inst.get("capacity") or {}
            if not isinstance(own, dict):
                problems.append(Problem(file, f"{key}.instances[{j}].capacity",
                                        "must be a mapping, like {open_cases: 120}"))
                own = {}
            if "open_cases" in own and capacity_problem(own["open_cases"]):
                problems.append(Problem(file, f"{key}.instances[{j}].capacity.open_cases",
                                        capacity_problem(own["open_cases"])))
            instances[inst["id"]] = ServiceInstance(id=inst["id"],
                                                    name=inst.get("name", inst["id"]),
                                                    capacity=dict(own))
        if not instances:
            problems.append(Problem(file, f"{key}.instances", f"service {sid} has no instances"))
        services[sid] = Service(
            id=sid,
            name=str(s.get("name", sid)),
            description=str(s.get("description", "")),
            status=str(s.get("status")),
            area_served=str(s.get("area_served", "")),
            ages=dict(ages or {}),
            capacity=dict(capacity),
            instances=instances,
            instance_from=instance_from,
            statutory=bool(s.get("statutory", False)),
            family_support=bool(s.get("family_support", False)),
        )
    return services


def load_front_door(data: Any, problems: list[Problem]) -> FrontDoor | None:
    """profile.yaml's `front_door` mapping."""
    if not isinstance(data, dict):
        problems.append(Problem("profile.yaml", "front_door",
                                "is required: a mapping with decision_within_working_days"))
        return None
    _unknown_keys(data, {"decision_within_working_days", "closures", "re_referral_months"},
                  "front_door", "profile.yaml", problems)
    days = data.get("decision_within_working_days")
    # bool is an int to Python; `true` is not a number of days.
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        problems.append(Problem("profile.yaml", "front_door.decision_within_working_days",
                                f"must be a whole number of working days, 0 or more (got "
                                f"{days!r})"))
        return None
    closures = data.get("closures", {})
    closures = {} if closures is None else closures
    if not isinstance(closures, dict):
        problems.append(Problem("profile.yaml", "front_door.closures",
                                "must be a mapping of code: what it means"))
        return None
    bad = [f"front_door.closures.{code}" for code, text in closures.items()
           if not (isinstance(code, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,31}", code)
                   and isinstance(text, str) and text.strip())]
    for key in bad:
        problems.append(Problem("profile.yaml", key, "must be a lower_case code of at most "
                                                     "32 characters with a description"))
    months = data.get("re_referral_months")
    if months is not None and (isinstance(months, bool) or not isinstance(months, int)
                               or not 1 <= months <= 120):
        bad.append("front_door.re_referral_months")
        problems.append(Problem("profile.yaml", "front_door.re_referral_months",
                                f"must be a whole number of months, 1 to 120 (got {months!r})"))
    if bad:
        return None
    return FrontDoor(decision_within_working_days=days, closures=dict(closures),
                     re_referral_months=months)


def load_levels(data: Any, problems: list[Problem]) -> dict[str, Level]:
    """profile.yaml `levels`: an ordered list of {code, number, name, description, statutory,
    urgent, consent}. Every problem is named; nothing here raises."""
    file, levels = "profile.yaml", {}
    if not isinstance(data, list) or not data:
        problems.append(Problem(file, "levels", "must be a list of levels, each with code, "
                                                "number, name, description, statutory, urgent "
                                                "and consent"))
        return levels
    for i, spec in enumerate(data):
        key = f"levels[{i}]"
        if not isinstance(spec, dict):
            problems.append(Problem(file, key, "must be a mapping with code, number, name..."))
            continue
        _unknown_keys(spec, set(LEVEL_FIELDS), key, file, problems)
        bad = False
        for name in LEVEL_FIELDS:
            if name not in spec or spec[name] is None:
                problems.append(Problem(file, f"{key}.{name}", "is required"))
                bad = True
        if bad:
            continue
        code = spec["code"]
        code = str(code) if isinstance(code, int) and not isinstance(code, bool) else code
        number = spec["number"]
        checks = [
            (isinstance(code, str) and _LEVEL_CODE.fullmatch(code), "code",
             f"must be a short code of letters, digits, _ or - (at most 16; got {code!r})"),
            (isinstance(number, int) and not isinstance(number, bool) and 0 <= number <= 99,
             "number", f"must be a whole number from 0 to 99 (got {number!r})"),
            (isinstance(spec["name"], str) and spec["name"].strip(), "name", "needs words"),
            (isinstance(spec["description"], str), "description", "must be text"),
            (isinstance(spec["statutory"], bool), "statutory", "must be true or false"),
            (isinstance(spec["urgent"], bool), "urgent", "must be true or false"),
            (spec["consent"] in CONSENT, "consent",
             f"must be one of {', '.join(CONSENT)} (got {spec['consent']!r})"),
        ]
        for ok, name, message in checks:
            if not ok:
                problems.append(Problem(file, f"{key}.{name}", message))
                bad = True
        if bad:
            continue
        if code in levels:
            problems.append(Problem(file, f"{key}.code", f"duplicate level code {code!r}"))
            continue
        levels[code] = Level(code=code, number=number, name=spec["name"].strip(),
                             description=spec["description"].strip(),
                             statutory=spec["statutory"], urgent=spec["urgent"],
                             consent=spec["consent"])
    return levels


def load_codes(data: Any, key: str, problems: list[Problem]) -> dict[str, str]:
    """A profile.yaml code list (code -> the words shown); absent is an empty list."""
    if data is None:
        return {}
    if not isinstance(data, dict) or not data:
        problems.append(Problem("profile.yaml", key, "must be a mapping of code: the words shown"))
        return {}
    codes = {}
    for code, text in data.items():
        if not (isinstance(code, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,63}", code)
                and isinstance(text, str) and text.strip()):
            problems.append(Problem("profile.yaml", f"{key}.{code}",
                                    "must be a lower_case code of at most 64 characters "
                                    "with the words shown"))
            continue
        codes[code] = text.strip()
    return codes


def _hash_folder(folder: Path, names: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(set(names)):
        path = folder / name
        if path.exists():
            digest.update(name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def profile_folder(name_or_path: str | Path) -> Path:
    """A profile name resolves under config/profiles/; anything with a slash is a path."""
    candidate = Path(name_or_path)
    if candidate.is_dir() and (candidate / "profile.yaml").exists():
        return candidate.resolve()
    return PROFILES_DIR / str(name_or_path)


def load_profile(name_or_path: str | Path) -> Profile:
    """Load and validate a profile; raise ProfileError naming every problem."""
    folder = profile_folder(name_or_path)
    problems: list[Problem] = []
    meta = _read_yaml(folder / "profile.yaml", problems)
    if not isinstance(meta, dict):
        raise ProfileError(problems or [Problem("profile.yaml", "-", "must be a mapping")])
    _unknown_keys(meta, {"id", "name", "reference_prefix", "files", "bank_holidays", "levels",
                         "step_up_level", "front_door", "ethnicity", "localities",
                         "allocation", "texts"},
                  "", "profile.yaml", problems)
    front_door = load_front_door(meta.get("front_door"), problems)
    ethnicity = load_codes(meta.get("ethnicity"), "ethnicity", problems)
    files = meta.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        problems.append(Problem("profile.yaml", "files", "must be a mapping of file key: "
                                                         "file name"))
        files = {}
    files = {str(k): v for k, v in files.items()}
    for required in ("checklist", "services", "localities", "decision_graph", "matching"):
        if required not in files:
            problems.append(Problem("profile.yaml", f"files.{required}", "is required"))

    def report(file: str, key: str, message: str) -> None:
        problems.append(Problem(file, key, message))

    scheme = load_scheme(meta.get("localities"), report)
    checklist = load_checklist(folder / files.get("checklist", "checklist.yaml"), problems)
    services = load_services(folder / files.get("services", "services.yaml"), problems,
                             scheme.columns if scheme is not None else None)
    localities = None
    if scheme is not None:
        geography = folder / files["geography"] if "geography" in files else None
        localities = load_localities(scheme, folder / files.get("localities", "localities.csv"),
                                     report, geography)
    retention = None
    if "retention" in files:
        name = files["retention"]
        retention = load_retention(_read_yaml(folder / name, problems), name, lambda key, msg:
                                   problems.append(Problem(name, key, msg)))
    matching = None
    if "matching" in files:
        name = files["matching"]
        matching = load_matching(_read_yaml(folder / name, problems), name, lambda key, msg:
                                 problems.append(Problem(name, key, msg)))
    levels = load_levels(meta.get("levels"), problems)
    texts = load_texts(meta.get("texts"), {
        "profile_name": str(meta.get("name", folder.name)),
        "first_sector": min(localities or (), default="")},
        lambda key, message: problems.append(Problem("profile.yaml", key, message)))
    step_up_level = meta.get("step_up_level")
    if step_up_level is None:
        problems.append(Problem("profile.yaml", "step_up_level", "is required: the level code "
                                                                 "a step-up goes in at"))
    else:
        step_up_level = str(step_up_level)
        if levels and step_up_level not in levels:
            problems.append(Problem("profile.yaml", "step_up_level",
                                    f"{step_up_level!r} is not a level code; one of "
                                    f"{', '.join(levels)}"))
    if checklist is not None and levels:
        for kind in checklist.kinds.values():
            if kind.sets_level is not None and kind.sets_level not in levels:
                problems.append(Problem(files.get("checklist", "checklist.yaml"),
                                        f"kinds.{kind.id}.sets_level",
                                        f"{kind.sets_level!r} is not a level code in "
                                        f"profile.yaml; one of {', '.join(levels)}"))
    # Every locality value must name an instance of the service that reads that column.
    for service in services.values():
        if not service.instance_from or localities is None:
            continue
        for place in localities.rows.values():
            value = place.column(service.instance_from)
            if value and value not in service.instances:
                problems.append(Problem(
                    files.get("localities", "localities.csv"),
                    f"line {localities.lines[place.sector]}.{service.instance_from}",
                    f"{value!r} ({place.sector}) is not an instance of service {service.id} "
                    f"in {files.get('services', 'services.yaml')}",
                ))
    bank_holidays = _shaped(meta.get("bank_holidays"), dict, "profile.yaml", "bank_holidays",
                            problems, "a mapping with country and subdivision")
    bank_holidays = dict(bank_holidays or {"country": "GB", "subdivision": "ENG"})
    teams, allocation = _teams_and_allocation(folder, meta, files, services, localities,
                                              problems)
    directory = Directory()
    if checklist is not None:
        name = files.get("services", "services.yaml")
        directory = load_directory(
            _read_yaml(folder / name, []), lambda key, msg: problems.append(
                Problem(name, key, msg)),
            needs=set(checklist.domains) | set(checklist.headline_areas))
    prefix = str(meta.get("reference_prefix", "EH"))
    if not re.fullmatch(r"[A-Z]{1,6}", prefix):
        problems.append(Problem("profile.yaml", "reference_prefix", "must be 1-6 capital letters"))
    if problems or checklist is None or front_door is None or localities is None:
        raise ProfileError(problems)
    return Profile(
        id=str(meta.get("id", folder.name)),
        name=str(meta.get("name", folder.name)),
        folder=folder,
        reference_prefix=prefix,
        checklist=checklist,
        services=services,
        localities=localities,
        levels=levels,
        bank_holidays=bank_holidays,
        front_door=front_door,
        files=files,
        ethnicity=ethnicity,
        retention=retention,
        matching=matching,
        step_up_level=step_up_level,
        texts=texts,
        teams=teams,
        allocation=allocation,
        directory=directory,
        content_hash=_hash_folder(folder, ["profile.yaml", *files.values()]),
    )


def _teams_and_allocation(folder: Path, meta: Mapping[str, Any], files: Mapping[str, str],
                          services: Mapping[str, Service], localities: Localities | None,
                          problems: list[Problem]
                          ) -> tuple[Teams, tuple[Allocation, ...]]:
    """files.teams (optional: without it the teams are derived from the services) and
    profile.yaml `allocation` (optional: without it nothing is balanced)."""
    def report(file: str, key: str, message: str) -> None:
        problems.append(Problem(file, key, message))

    data = None
    if "teams" in files:
        before = len(problems)
        data = _read_yaml(folder / files["teams"], problems)
        if len(problems) > before:
            return Teams(by_id=derived_teams(services)), ()
        data = {} if data is None else data
    teams = load_teams(data, services, localities, files.get("teams", "teams.yaml"), report)
    return teams, load_allocation(meta.get("allocation"), services, localities, report)
