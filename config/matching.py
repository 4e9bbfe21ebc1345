"""How two records of a person are compared, from a council profile (matching.yaml): for each
field its levels with Fellegi-Sunter m and u probabilities, the bands' thresholds and the
nickname table. Read-only, validated at load: unknown keys and impossible values are named."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config.keys import unknown_keys

# The fields compared and the levels each may reach, best first: the scorer tries them in
# this order and takes the first the pair reaches. `similar` may appear several times, each
# with its own `at_least` (Jaro-Winkler similarity of the folded names).
FIELD_LEVELS: dict[str, tuple[str, ...]] = {
    "given_name": ("same", "swapped", "nickname", "one_part", "similar", "different"),
    "family_name": ("same", "swapped", "one_part", "similar", "different"),
    "date_of_birth": ("same", "day_month_swapped", "one_digit", "within_year", "different"),
    "postcode": ("same", "sector", "district", "different"),
    "phone": ("same", "different"),
    "email": ("same", "different"),
}
BANDS = ("exact", "likely", "possible")
LEVEL_KEYS = {"level", "m", "u", "at_least", "at_best"}
# What the nightly duplicate finder may block pairs on (columns of its people table).
BLOCKING_COLUMNS = ("given_name", "family_name", "given_name_sound", "family_name_sound",
                    "date_of_birth", "birth_year", "postcode", "postcode_sector",
                    "postcode_district", "phone", "email")
FINDER_KEYS = {"threshold_match_weight", "u_sample_pairs", "training_blocking_rules",
               "blocking_rules"}
TOP_KEYS = {"bands", "blocking", "exact_needs", "fields", "nicknames", "duplicate_finder"}
BLOCKING_KEYS = {"limit", "trigram_similarity"}


@dataclass(frozen=True)
class Level:
    code: str
    m: float
    u: float
    at_least: float | None = None
    # a pair at this level is banded at best this (likely or possible), whatever its score
    at_best: str | None = None

    @property
    def weight(self) -> float:
        """The match weight in bits: log2(m / u)."""
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class DuplicateFinder:
    """The nightly duplicate finder's settings: pairs scoring at least `threshold_match_weight`
    bits are queued for review; each blocking rule is the columns a pair must share to be
    compared at all (training rules for the m estimates, the others for finding pairs)."""
    threshold_match_weight: float
    u_sample_pairs: int
    training_blocking_rules: tuple[tuple[str, ...], ...]
    blocking_rules: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Blocking:
    """How candidates are found before they are scored (people/candidates.py)."""
    # the most people one blocking query returns (a common surname cannot flood the scorer)
    limit: int = 25
    # PostgreSQL's trigram block: the lowest pg_trgm similarity of two family names
    trigram_similarity: float = 0.5


@dataclass(frozen=True)
class MatchingProfile:
    # field -> its levels in the order they are tried
    fields: Mapping[str, tuple[Level, ...]]
    # band -> the lowest total weight that reaches it
    bands: Mapping[str, float]
    # `exact` also needs each of these fields at one of these levels
    exact_needs: Mapping[str, frozenset[str]]
    # groups of folded given names that are the same name (william, bill, billy, will)
    nicknames: tuple[frozenset[str], ...] = ()
    # None: the profile does not run the nightly duplicate finder
    duplicate_finder: DuplicateFinder | None = None
    blocking: Blocking = Blocking()

    def level(self, field: str, code: str) -> Level | None:
        return next((lv for lv in self.fields[field] if lv.code == code), None)


def _probability(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1


def _levels(field: str, specs: Any, problem) -> tuple[Level, ...]:
    key = f"fields.{field}"
    if not isinstance(specs, list) or not specs:
        problem(key, "must be a list of levels")
        return ()
    allowed = FIELD_LEVELS[field]
    levels: list[Level] = []
    for i, spec in enumerate(specs):
        at = f"{key}[{i}]"
        if not isinstance(spec, dict):
            problem(at, "must be a mapping with level, m and u")
            continue
        unknown_keys(spec, LEVEL_KEYS, at, problem)
        code, m, u, at_least = spec.get("level"), spec.get("m"), spec.get("u"), \
            spec.get("at_least")
        if code not in allowed:
            problem(f"{at}.level", f"must be one of {', '.join(allowed)}")
            continue
        if code == "similar":
            if not (_probability(at_least) and at_least < 1):
                problem(f"{at}.at_least", "a similarity between 0 and 1")
                continue
        elif at_least is not None:
            problem(f"{at}.at_least", "only a `similar` level has one")
        at_best = spec.get("at_best")
        if at_best not in (None, "likely", "possible"):
            problem(f"{at}.at_best", "must be likely or possible")
            continue
        if not (_probability(m) and _probability(u)):
            problem(at, "m and u must be probabilities, more than 0 and at most 1")
            continue
        if code != "similar" and any(lv.code == code for lv in levels):
            problem(f"{at}.level", f"{code} is given twice")
            continue
        levels.append(Level(code=code, m=float(m), u=float(u),
                            at_least=float(at_least) if code == "similar" else None,
                            at_best=at_best))
    codes = [lv.code for lv in levels]
    if "same" not in codes or "different" not in codes:
        problem(key, "needs a `same` and a `different` level")
    order = [allowed.index(c) for c in codes]
    similar = [lv.at_least for lv in levels if lv.code == "similar"]
    if order != sorted(order) or similar != sorted(set(similar), reverse=True):
        problem(key, f"levels must be in the order {', '.join(allowed)}, `similar` levels "
                     "from the highest at_least down, each once")
    for lv in levels:
        if lv.code == "same" and lv.weight <= 0:
            problem(key, "agreeing must add weight: `same` needs m above u")
        if lv.code == "different" and lv.weight > 0:
            problem(key, "disagreeing must not add weight: `different` needs m at most u")
    return tuple(levels)


def _field_levels(data: Any, key: str, problem) -> dict[str, frozenset[str]]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        problem(key, "must be a mapping of field: [levels]")
        return {}
    out = {}
    for field, codes in data.items():
        if field not in FIELD_LEVELS:
            problem(f"{key}.{field}", f"must be one of {', '.join(FIELD_LEVELS)}")
        elif not (isinstance(codes, list) and codes
                  and all(c in FIELD_LEVELS[field] for c in codes)):
            problem(f"{key}.{field}", f"a list of levels of {', '.join(FIELD_LEVELS[field])}")
        else:
            out[field] = frozenset(codes)
    return out


def _nicknames(data: Any, problem) -> tuple[frozenset[str], ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        problem("nicknames", "must be a list of groups of names")
        return ()
    groups = []
    for i, group in enumerate(data):
        if not (isinstance(group, list) and len(group) >= 2
                and all(isinstance(n, str) and re.fullmatch(r"[a-z]+", n) for n in group)):
            problem(f"nicknames[{i}]", "a list of two or more lower-case names, letters only")
            continue
        groups.append(frozenset(group))
    return tuple(groups)


def _rules(data: Any, key: str, problem) -> tuple[tuple[str, ...], ...]:
    if not isinstance(data, list) or not data:
        problem(key, "must be a list of blocking rules, each a list of columns")
        return ()
    rules = []
    for i, rule in enumerate(data):
        if not (isinstance(rule, list) and rule and all(c in BLOCKING_COLUMNS for c in rule)
                and len(set(rule)) == len(rule)):
            problem(f"{key}[{i}]", f"a list of different columns of {', '.join(BLOCKING_COLUMNS)}")
            continue
        rules.append(tuple(rule))
    return tuple(rules)


def _duplicate_finder(data: Any, bands: Mapping[str, float], problem) -> DuplicateFinder | None:
    if data is None:
        return None
    key = "duplicate_finder"
    if not isinstance(data, dict):
        problem(key, f"must be a mapping of {', '.join(sorted(FINDER_KEYS))}")
        return None
    unknown_keys(data, FINDER_KEYS, key, problem)
    ok = True
    threshold = data.get("threshold_match_weight")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        problem(f"{key}.threshold_match_weight", "must be a number of bits")
        ok = False
    elif "possible" in bands and threshold < bands["possible"]:
        problem(f"{key}.threshold_match_weight",
                f"must be at least the `possible` band ({bands['possible']:g} bits): a pair "
                "below it is not worth showing")
        ok = False
    pairs = data.get("u_sample_pairs", 10_000_000)
    if isinstance(pairs, bool) or not isinstance(pairs, int | float) \
            or not 10_000 <= pairs <= 1_000_000_000:
        problem(f"{key}.u_sample_pairs", "a number of pairs between 10000 and 1000000000")
        ok = False
    training = _rules(data.get("training_blocking_rules"), f"{key}.training_blocking_rules",
                      problem)
    blocking = _rules(data.get("blocking_rules"), f"{key}.blocking_rules", problem)
    if not (ok and training and blocking):
        return None
    return DuplicateFinder(threshold_match_weight=float(threshold), u_sample_pairs=int(pairs),
                           training_blocking_rules=training, blocking_rules=blocking)
def _blocking(data: Any, problem) -> Blocking:
    if data is None:
        return Blocking()
    if not isinstance(data, dict):
        problem("blocking", "must be a mapping with limit and trigram_similarity")
        return Blocking()
    unknown_keys(data, BLOCKING_KEYS, "blocking", problem)
    out = Blocking()
    limit = data.get("limit", out.limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        problem("blocking.limit", "a whole number of people from 1 to 1000")
        limit = out.limit
    similarity = data.get("trigram_similarity", out.trigram_similarity)
    if not (_probability(similarity) and similarity < 1):
        problem("blocking.trigram_similarity", "a similarity between 0 and 1")
        similarity = out.trigram_similarity
    return Blocking(limit=limit, trigram_similarity=float(similarity))


def load_matching(data: Any, file: str, problem) -> MatchingProfile | None:
    """Validate a matching.yaml mapping; call `problem(key, message)` for each problem."""
    if not isinstance(data, dict):
        problem("-", "must be a mapping with bands and fields")
        return None
    unknown_keys(data, TOP_KEYS, "", problem)
    bands = data.get("bands")
    thresholds: dict[str, float] = {}
    if not isinstance(bands, dict) or set(map(str, bands)) != set(BANDS):
        problem("bands", f"must give exactly {', '.join(BANDS)}")
    else:
        for band in BANDS:
            value = bands[band]
            if isinstance(value, bool) or not isinstance(value, int | float):
                problem(f"bands.{band}", "must be a number of bits")
            else:
                thresholds[band] = float(value)
        if len(thresholds) == 3 and not (thresholds["exact"] > thresholds["likely"]
                                         > thresholds["possible"] > 0):
            problem("bands", "must be exact > likely > possible > 0")
    fields_data = data.get("fields")
    fields: dict[str, tuple[Level, ...]] = {}
    if not isinstance(fields_data, dict):
        problem("fields", f"must be a mapping of {', '.join(FIELD_LEVELS)}")
    else:
        unknown_keys(fields_data, FIELD_LEVELS, "fields", problem)
        for field in FIELD_LEVELS:
            if field not in fields_data:
                problem(f"fields.{field}", "is required")
                continue
            fields[field] = _levels(field, fields_data[field], problem)
    exact_needs = _field_levels(data.get("exact_needs"), "exact_needs", problem)
    nicknames = _nicknames(data.get("nicknames"), problem)
    finder = _duplicate_finder(data.get("duplicate_finder"), thresholds, problem)
    blocking = _blocking(data.get("blocking"), problem)
    if len(fields) != len(FIELD_LEVELS) or len(thresholds) != 3 or not all(fields.values()):
        return None
    matching = MatchingProfile(fields=fields, bands=thresholds, exact_needs=exact_needs,
                               nicknames=nicknames, duplicate_finder=finder, blocking=blocking)
    agreeing = sum(lv.weight for f in ("given_name", "family_name", "date_of_birth")
                   if (lv := matching.level(f, "same")) is not None)
    if agreeing < thresholds["exact"]:
        problem("bands.exact", f"the same names and date of birth add {agreeing:.1f} bits, "
                               "short of `exact`: the same person would never be exact")
    return matching
