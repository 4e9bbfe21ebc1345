"""Derived facts: what the decision graph reads, worked out from the answers and the checklist.

Nothing here names an indicator: counts are by the checklist's kinds, sides, areas and
domains, so a council's own checklist gets the same facts without code changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from config.profile import Checklist, Place

NEED_SIDES = ("child", "adult")  # domains that count towards "distinct domains (B-I)"


@dataclass(frozen=True)
class Person:
    role: str
    date_of_birth: date
    relationship: str | None = None


@dataclass(frozen=True)
class Facts:
    """The graph's input context, and the lists used to explain which indicators fired."""

    context: dict[str, Any]
    true_ids: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]
    place: Place | None
    open_family_support_instance: str | None


def age_on(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def children_in_household(checklist: Checklist, answers: Mapping[str, bool | None],
                          people: Sequence[Person], referral_date: date) -> bool:
    if any(age_on(p.date_of_birth, referral_date) < 18 for p in people):
        return True
    return any(answers.get(q.id) is True for q in checklist.questions.values()
               if q.implies_child_in_household)


def child_domain_contradictions(checklist: Checklist, answers: Mapping[str, bool | None],
                                people: Sequence[Person], referral_date: date) -> list[str]:
    """Child-side indicators answered true when nobody in the household is a child."""
    if children_in_household(checklist, answers, people, referral_date):
        return []
    return [q for q, question in checklist.questions.items()
            if question.side == "child" and answers.get(q) is True]


def derive_facts(checklist: Checklist, *, answers: Mapping[str, bool | None],
                 people: Sequence[Person], referral_date: date, place: Place | None,
                 information_only: bool = False, step_down: bool = False,
                 open_family_support_instance: str | None = None,
                 units: Sequence[str]) -> Facts:
    """The graph's facts. `units` are the profile's locality columns: `within.<unit>` is true
    when the place has a value for that unit (false for each outside the area), so a rule can
    say "the household lies in a coordinator patch"; `in_area` when the profile covers the
    postcode at all."""
    questions = checklist.questions
    true_ids = tuple(q for q in questions if answers.get(q) is True)
    kinds = {k: 0 for k in checklist.kinds}
    sides = {"safety": 0, "child": 0, "adult": 0}
    groups: dict[str, list[str]] = {"@all": list(true_ids), "@area": [], "@domain": []}
    areas, domains = set(), set()
    for qid in true_ids:
        q = questions[qid]
        kinds[q.kind] = kinds.get(q.kind, 0) + 1
        sides[q.side] += 1
        groups.setdefault(f"@kind:{q.kind}", []).append(qid)
        groups.setdefault(f"@side:{q.side}", []).append(qid)
        if q.area:
            areas.add(q.area)
            groups["@area"].append(qid)
        if q.side in NEED_SIDES:
            domains.add(q.domain)
            groups["@domain"].append(qid)
    context = {
        "a": {q: True for q in true_ids},
        "children": children_in_household(checklist, answers, people, referral_date),
        "kinds": kinds,
        "sides": sides,
        "areas": len(areas),
        "domains": len(domains),
        "needs": len(true_ids),
        "information_only": bool(information_only),
        "step_down": bool(step_down),
        "open_family_support": open_family_support_instance is not None,
        "in_area": place is not None,
        "within": within_units(place, units),
    }
    return Facts(context=context, true_ids=true_ids,
                 groups={k: tuple(v) for k, v in groups.items()}, place=place,
                 open_family_support_instance=open_family_support_instance)


def within_units(place: Place | None, units: Sequence[str] = ()) -> dict[str, bool]:
    """`within.<unit>`: whether the place has a value for each locality unit (the declared
    ones, and any the place itself carries)."""
    within = dict.fromkeys(units, False)
    if place is not None:
        within.update({unit: value is not None for unit, value in place.units.items()})
    return within
