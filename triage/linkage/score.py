"""Scoring a pair of records: each field's level adds its match weight (log2 m/u) from the
profile; the total is banded exact, likely or possible; each field says why in plain words."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from config.matching import BANDS, Level, MatchingProfile
from triage.linkage import compare

FIELDS = ("given_name", "family_name", "date_of_birth", "postcode", "phone", "email")
_WORDS = {"given_name": "given name", "family_name": "family name",
          "date_of_birth": "date of birth", "postcode": "postcode", "phone": "phone number",
          "email": "email address"}
_SIMILAR = ("very similar", "similar", "a little similar")


@dataclass(frozen=True)
class Record:
    """What is known of a person; any field may be missing (None)."""
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    postcode: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Comparison:
    """One field of a pair: the level reached, its weight, and why in words."""
    field: str
    level: str
    weight: float
    reason: str
    similarity: float | None = None
    at_best: str | None = None


@dataclass(frozen=True)
class Match:
    score: float
    band: str | None  # exact, likely, possible, or None: not worth showing
    comparisons: tuple[Comparison, ...]

    @property
    def reasons(self) -> list[str]:
        seen: list[str] = []
        for c in self.comparisons:
            if c.reason not in seen:
                seen.append(c.reason)
        return seen


def _shown(sim: float) -> str:
    """Two decimals, rounded down: 0.847 shows 0.84, never a level's 0.85 it did not reach."""
    return f"{math.floor(sim * 100) / 100:.2f}"


def _name_reason(field: str, level: Level, sim: float | None, profile: MatchingProfile) -> str:
    words = _WORDS[field]
    if level.code == "same":
        return f"same {words}"
    if level.code == "nickname":
        return f"{words} a short form of the other"
    if level.code == "one_part":
        return f"{words} one part of the other (double-barrelled)"
    if level.code == "similar":
        rank = [lv for lv in profile.fields[field] if lv.code == "similar"].index(level)
        return f"{words} {_SIMILAR[min(rank, 2)]} ({_shown(sim)})"
    return f"different {words}" + (f" ({_shown(sim)})" if sim is not None else "")


def _names(a: Record, b: Record, profile: MatchingProfile) -> list[Comparison]:
    out: list[Comparison] = []
    names = {}
    for field in ("given_name", "family_name"):
        x, y = getattr(a, field), getattr(b, field)
        if compare.fold_name(x) and compare.fold_name(y):
            code, sim, level = compare.name_level(profile.fields[field], x, y,
                                                  nicknames=profile.nicknames)
            names[field] = (level, sim)
    swap_g, swap_f = (profile.level("given_name", "swapped"),
                      profile.level("family_name", "swapped"))
    if len(names) == 2 and swap_g and swap_f and not all(lv.code == "same"
                                                         for lv, _ in names.values()):
        top = max([lv.at_least for lv in profile.fields["given_name"] if lv.at_least] or [1.0])
        crossed = [compare.similarity(compare.fold_name(p) or "", compare.fold_name(q) or "")
                   for p, q in ((a.given_name, b.family_name), (a.family_name, b.given_name))]
        straight = sum(lv.weight for lv, _ in names.values())
        if min(crossed) >= top and swap_g.weight + swap_f.weight > straight:
            return [Comparison("given_name", "swapped", swap_g.weight,
                               "given and family names the other way round",
                               at_best=swap_g.at_best),
                    Comparison("family_name", "swapped", swap_f.weight,
                               "given and family names the other way round",
                               at_best=swap_f.at_best)]
    for field, (level, sim) in names.items():
        out.append(Comparison(field, level.code, level.weight,
                              _name_reason(field, level, sim, profile), sim, level.at_best))
    return out


def _date(a: date | None, b: date | None, profile: MatchingProfile) -> list[Comparison]:
    if a is None or b is None:
        return []
    level = profile.level("date_of_birth", compare.date_level(a, b))
    level = level or profile.level("date_of_birth", "different")
    reason = {"same": "same date of birth",
              "day_month_swapped": "date of birth with day and month swapped",
              "one_digit": "date of birth one digit different",
              "within_year": f"date of birth {abs((a - b).days)} days apart",
              "different": "different date of birth"}[level.code]
    return [Comparison("date_of_birth", level.code, level.weight, reason,
                       at_best=level.at_best)]


def _postcode(a: str | None, b: str | None, profile: MatchingProfile) -> list[Comparison]:
    pa, pb = compare.postcode_parts(a), compare.postcode_parts(b)
    if pa is None or pb is None:
        return []
    code = compare.postcode_level(pa, pb)
    levels = [lv for lv in profile.fields["postcode"]]
    # A level the profile leaves out falls to the next one it has.
    order = ("same", "sector", "district", "different")
    level = next(lv for c in order[order.index(code):] for lv in levels if lv.code == c)
    reason = {"same": "same postcode", "sector": "same postcode sector",
              "district": "same postcode district", "different": "different postcode"}
    return [Comparison("postcode", level.code, level.weight, reason[level.code],
                       at_best=level.at_best)]


def _exact_value(field: str, a: str | None, b: str | None,
                 profile: MatchingProfile) -> list[Comparison]:
    if a is None or b is None:
        return []
    level = profile.level(field, "same" if a == b else "different")
    words = _WORDS[field]
    return [Comparison(field, level.code, level.weight,
                       f"same {words}" if level.code == "same" else f"different {words}",
                       at_best=level.at_best)]


def _band(total: float, comparisons: list[Comparison], profile: MatchingProfile) -> str | None:
    levels = {c.field: c.level for c in comparisons}
    exact_ok = all(levels.get(f) in codes for f, codes in profile.exact_needs.items())
    caps = {c.at_best for c in comparisons if c.at_best}
    allowed = BANDS[BANDS.index("possible" if "possible" in caps else
                                "likely" if caps or not exact_ok else "exact"):]
    return next((b for b in allowed if total >= profile.bands[b]), None)


def band(total: float, comparisons, profile: MatchingProfile) -> str | None:
    """The band a total reaches, capped by its comparisons' `at_best` and `exact_needs`."""
    return _band(total, list(comparisons), profile)


def score(a: Record, b: Record, profile: MatchingProfile) -> Match:
    """How strongly two records describe one person: the sum of each field's weight (a field
    missing on either side adds 0), the band it reaches, and each field's comparison."""
    comparisons = [*_names(a, b, profile),
                   *_date(a.date_of_birth, b.date_of_birth, profile),
                   *_postcode(a.postcode, b.postcode, profile),
                   *_exact_value("phone", compare.phone_key(a.phone),
                                 compare.phone_key(b.phone), profile),
                   *_exact_value("email", compare.email_key(a.email),
                                 compare.email_key(b.email), profile)]
    comparisons.sort(key=lambda c: FIELDS.index(c.field))
    total = sum(c.weight for c in comparisons)
    return Match(score=total, band=_band(total, comparisons, profile),
                 comparisons=tuple(comparisons))
