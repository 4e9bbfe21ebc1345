"""Loading and validating a council profile folder (checklist, services, localities, levels)."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from config.keys import unknown_keys
from config.matching import MatchingProfile, load_matching
from config.retention import RetentionSchedule, load_retention
from config.texts import load_texts

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

SIDES = ("safety", "child", "adult")
LOCALITY_COLUMNS = ("postcode_sector", "district", "early_help_hub", "slf_area", "lac_patch")

# A full UK postcode: outward code (area, district) and inward code (sector digit, unit).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9])([A-Z]{2})$")


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


@dataclass(frozen=True)
class Place:
    """Where a household lives, as the profile's localities table says."""

    postcode: str
    sector: str
    district: str
    early_help_hub: str
    slf_area: str
    lac_patch: str | None

    def column(self, name: str) -> str | None:
        return getattr(self, name)


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
    localities: Mapping[str, Place]
    # Ordered as profile.yaml lists them, keyed by code.
    levels: Mapping[str, Level]
    bank_holidays: Mapping[str, str]
    front_door: FrontDoor
    files: Mapping[str, str]
    content_hash: str
    # Equality monitoring: ethnicity code -> the words shown (profile.yaml `ethnicity`).
    ethnicity: Mapping[str, str] = field(default_factory=dict)
    # District id (the localities' `district` column) -> its name (profile.yaml `districts`).
    districts: Mapping[str, str] = field(default_factory=dict)
    # How long records are kept (files.retention); None: no schedule, nothing is ever due.
    retention: RetentionSchedule | None = None
    # How two records of a person are scored and banded (files.matching).
    matching: MatchingProfile | None = None
    # The level a case's step-up to the statutory front door goes in at (profile.yaml).
    step_up_level: str | None = None
    # The council's own wording (profile.yaml `texts`, neutral defaults filled in).
    texts: Mapping[str, str] = field(default_factory=dict)

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
        service_id, _, instance_id = team.partition(":")
        service = self.services.get(service_id)
        if service is None:
            return team.replace("_", " ").capitalize()
        instance = service.instances.get(instance_id) if instance_id else None
        return instance.name if instance is not None else service.name

    def district_name(self, district: str | None) -> str:
        return self.districts.get(district, district or "") if district else ""

    def place_for(self, postcode: str) -> Place | None:
        """The household's place, or None when the profile does not cover the postcode."""
        parts = parse_postcode(postcode)
        if parts is None:
            return None
        normal, sector = parts
        row = self.localities.get(sector)
        if row is None:
            return None
        return Place(
            postcode=normal,
            sector=sector,
            district=row.district,
            early_help_hub=row.early_help_hub,
            slf_area=row.slf_area,
            lac_patch=row.lac_patch,
        )


def parse_postcode(raw: str) -> tuple[str, str] | None:
    """Normalise a UK postcode; return (postcode, sector) or None when it is not one."""
    compact = re.sub(r"\s+", "", str(raw or "")).upper()
    match = _POSTCODE.match(compact)
    if not match:
        return None
    outward, sector_digit, unit = match.groups()
    return f"{outward} {sector_digit}{unit}", f"{outward} {sector_digit}"


def _read_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        problems.append(Problem(path.name, "-", "file not found"))
    except yaml.YAMLError as exc:
        problems.append(Problem(path.name, "-", f"not valid YAML: {exc}"))
    return None


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
    areas = data.get("headline_areas") or {}
    domains: dict[str, Domain] = {}
    for did, d in (data.get("domains") or {}).items():
        if not isinstance(d, dict) or d.get("side") not in SIDES:
            problems.append(
                Problem(file, f"domains.{did}.side", f"must be one of {', '.join(SIDES)}")
            )
            continue
        domains[did] = Domain(id=did, title=str(d.get("title", did)), side=d["side"])
    sections: list[Section] = []
    questions: dict[str, Question] = {}
    for si, s in enumerate(data.get("sections") or []):
        skey = f"sections[{si}]"
        domain = domains.get(s.get("domain"))
        if domain is None:
            problems.append(Problem(file, f"{skey}.domain", f"unknown domain {s.get('domain')!r}"))
            continue
        qs: list[Question] = []
        for qi, q in enumerate(s.get("questions") or []):
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


def load_services(path: Path, problems: list[Problem]) -> dict[str, Service]:
    data = _read_yaml(path, problems)
    file = path.name
    services: dict[str, Service] = {}
    if not isinstance(data, dict) or not isinstance(data.get("services"), list):
        if data is not None:
            problems.append(Problem(file, "services", "must be a list of services"))
        return services
    allowed = {"id", "name", "description", "status", "area_served", "ages", "capacity",
               "instances", "instance_from", "statutory", "family_support"}
    for i, s in enumerate(data["services"]):
        key = f"services[{i}]"
        _unknown_keys(s, allowed, key, file, problems)
        sid = s.get("id")
        if not sid:
            problems.append(Problem(file, f"{key}.id", "is required"))
            continue
        if sid in services:
            problems.append(Problem(file, f"{key}.id", f"duplicate service id {sid!r}"))
        if s.get("status") not in ("active", "inactive", "defunct"):
            problems.append(Problem(file, f"{key}.status", "must be active, inactive or defunct"))
        instance_from = s.get("instance_from")
        if instance_from is not None and instance_from not in LOCALITY_COLUMNS[2:]:
            problems.append(Problem(file, f"{key}.instance_from",
                                    f"must be one of {', '.join(LOCALITY_COLUMNS[2:])}"))
        instances = {}
        for j, inst in enumerate(s.get("instances") or []):
            if not inst.get("id"):
                problems.append(Problem(file, f"{key}.instances[{j}].id", "is required"))
                continue
            instances[inst["id"]] = ServiceInstance(id=inst["id"],
                                                    name=inst.get("name", inst["id"]))
        if not instances:
            problems.append(Problem(file, f"{key}.instances", f"service {sid} has no instances"))
        services[sid] = Service(
            id=sid,
            name=str(s.get("name", sid)),
            description=str(s.get("description", "")),
            status=str(s.get("status")),
            area_served=str(s.get("area_served", "")),
            ages=dict(s.get("ages") or {}),
            capacity=dict(s.get("capacity") or {}),
            instances=instances,
            instance_from=instance_from,
            statutory=bool(s.get("statutory", False)),
            family_support=bool(s.get("family_support", False)),
        )
    return services


def load_localities(path: Path, problems: list[Problem]) -> dict[str, Place]:
    file = path.name
    rows: dict[str, Place] = {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != LOCALITY_COLUMNS:
                problems.append(Problem(file, "header",
                                        f"columns must be {','.join(LOCALITY_COLUMNS)}"))
                return rows
            for n, row in enumerate(reader, start=2):
                sector = (row["postcode_sector"] or "").strip().upper()
                if not re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]", sector):
                    problems.append(Problem(file, f"line {n}.postcode_sector",
                                            f"{sector!r} is not a postcode sector like 'LE13 0'"))
                    continue
                if sector in rows:
                    problems.append(Problem(file, f"line {n}.postcode_sector",
                                            f"duplicate sector {sector!r}"))
                for col in ("district", "early_help_hub", "slf_area"):
                    if not (row[col] or "").strip():
                        problems.append(Problem(file, f"line {n}.{col}", "is required"))
                rows[sector] = Place(
                    postcode="",
                    sector=sector,
                    district=row["district"].strip(),
                    early_help_hub=row["early_help_hub"].strip(),
                    slf_area=row["slf_area"].strip(),
                    lac_patch=(row["lac_patch"] or "").strip() or None,
                )
    except FileNotFoundError:
        problems.append(Problem(file, "-", "file not found"))
    return rows


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


def load_districts(data: Any, localities: Mapping[str, Place], problems: list[Problem]
                   ) -> dict[str, str]:
    """profile.yaml `districts`: the name of every district the localities name, so pages say
    "North West Leicestershire", not its id."""
    if not isinstance(data, dict):
        problems.append(Problem("profile.yaml", "districts",
                                "must be a mapping of district id: its name"))
        return {}
    names = {str(k): str(v).strip() for k, v in data.items() if isinstance(v, str) and v.strip()}
    for key in set(map(str, data)) - set(names):
        problems.append(Problem("profile.yaml", f"districts.{key}", "needs a name"))
    for district in sorted({p.district for p in localities.values()} - set(names)):
        problems.append(Problem("profile.yaml", f"districts.{district}",
                                "is named in the localities but has no name here"))
    return names


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
                         "step_up_level", "front_door", "ethnicity", "districts", "texts"},
                  "", "profile.yaml", problems)
    front_door = load_front_door(meta.get("front_door"), problems)
    ethnicity = load_codes(meta.get("ethnicity"), "ethnicity", problems)
    files = dict(meta.get("files") or {})
    for required in ("checklist", "services", "localities", "decision_graph", "matching"):
        if required not in files:
            problems.append(Problem("profile.yaml", f"files.{required}", "is required"))
    checklist = load_checklist(folder / files.get("checklist", "checklist.yaml"), problems)
    services = load_services(folder / files.get("services", "services.yaml"), problems)
    localities = load_localities(folder / files.get("localities", "localities.csv"), problems)
    districts = load_districts(meta.get("districts"), localities, problems)
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
        "first_sector": min(localities, default="")},
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
        if not service.instance_from:
            continue
        for place in localities.values():
            value = place.column(service.instance_from)
            if value and value not in service.instances:
                problems.append(Problem(
                    files.get("localities", "localities.csv"),
                    f"{place.sector}.{service.instance_from}",
                    f"{value!r} is not an instance of service {service.id} in services.yaml",
                ))
    prefix = str(meta.get("reference_prefix", "EH"))
    if not re.fullmatch(r"[A-Z]{1,6}", prefix):
        problems.append(Problem("profile.yaml", "reference_prefix", "must be 1-6 capital letters"))
    if problems or checklist is None or front_door is None:
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
        bank_holidays=dict(meta.get("bank_holidays") or {"country": "GB", "subdivision": "ENG"}),
        front_door=front_door,
        files=files,
        ethnicity=ethnicity,
        districts=districts,
        retention=retention,
        matching=matching,
        step_up_level=step_up_level,
        texts=texts,
        content_hash=_hash_folder(folder, ["profile.yaml", *files.values()]),
    )
