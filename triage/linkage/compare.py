"""Field comparisons: which level two values reach (the same, a typo, swapped, nearby ...),
with the similarity behind it. Names are compared by rapidfuzz's Jaro-Winkler."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from rapidfuzz.distance import JaroWinkler

from config.matching import Level
from config.profile import parse_postcode

_PART = re.compile(r"[\s\-]+")


# Folding and parsing are pure, and scoring one typed record against a block of candidates
# asks for the same few names and postcodes again and again: each is worked out once.
@functools.lru_cache(maxsize=65_536)
def fold_name(name: str | None) -> str | None:
    """Lower-case letters only, accents folded: "O'Néil" and "oneil" compare equal."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower()) or None


@functools.lru_cache(maxsize=65_536)
def name_parts(name: str | None) -> frozenset[str]:
    """The folded parts of a hyphenated or double-barrelled name ("Smith-Jones": smith, jones)."""
    return frozenset(p for p in (fold_name(w) for w in _PART.split(name or "")) if p)


def similarity(a: str, b: str) -> float:
    return JaroWinkler.similarity(a, b)


def name_level(levels: Iterable[Level], a: str, b: str, *, nicknames=(),
               ) -> tuple[str, float | None, Level]:
    """The first level two present names reach, its similarity, and the level (without the
    pair-level `swapped`, which the scorer decides from both names)."""
    x, y = fold_name(a), fold_name(b)
    sim = similarity(x or "", y or "")
    for level in levels:
        code = level.code
        if code == "same" and x == y:
            return code, None, level
        if code == "nickname" and any(x in g and y in g for g in nicknames):
            return code, None, level
        if code == "one_part":
            pa, pb = name_parts(a), name_parts(b)
            if len(pa) != len(pb) and (pa < pb or pb < pa):
                return code, None, level
        if code == "similar" and sim >= (level.at_least or 1.0):
            return code, sim, level
        if code == "different":
            return code, sim, level
    raise ValueError("a field's levels end with `different`")


def date_level(a: date, b: date) -> str:
    if a == b:
        return "same"
    if a.year == b.year and a.day == b.month and a.month == b.day:
        return "day_month_swapped"
    digits_a, digits_b = f"{a:%Y%m%d}", f"{b:%Y%m%d}"
    if sum(x != y for x, y in zip(digits_a, digits_b, strict=True)) == 1:
        return "one_digit"
    if abs((a - b).days) <= 365:
        return "within_year"
    return "different"


@functools.lru_cache(maxsize=65_536)
def postcode_parts(raw: str | None) -> tuple[str, str, str] | None:
    """(unit, sector, district) of a UK postcode: SW1A 1AA, SW1A 1, SW1A."""
    parsed = parse_postcode(raw or "")
    if parsed is None:
        return None
    unit, sector = parsed
    return unit, sector, unit.split(" ")[0]


def postcode_level(a: tuple[str, str, str], b: tuple[str, str, str]) -> str:
    for code, x, y in zip(("same", "sector", "district"), a, b, strict=True):
        if x == y:
            return code
    return "different"


def phone_key(raw: str | None) -> str | None:
    """Digits only, +44 or 0044 as 0: "+44 7700 900123" and "07700900123" compare equal."""
    digits = re.sub(r"\D", "", raw or "")
    if (raw or "").strip().startswith("+44") or digits.startswith("0044"):
        digits = "0" + digits[2:] if not digits.startswith("0044") else "0" + digits[4:]
    return digits if len(digits) >= 7 else None


def email_key(raw: str | None) -> str | None:
    text = (raw or "").strip().lower()
    return text if "@" in text else None
