"""The default triage policy (triage-policy.md, version 1) as plain `if` statements: a test oracle.

Written from the policy's text and tables, not from the decision graph, checklist.yaml or
services.yaml, so that the differential test compares two independent readings of one
policy. Never used by the product. The only profile file it reads is the localities table
(postcode sector -> district, family-support area, coordinator patch), which is data the
policy points at (section 4), not a rule.

`generate()` makes seeded random referrals spread over every indicator, ages around the
eighteenth birthday, households with and without children, postcodes in and out of the
area and of coordinator patches, consent, step-down and open family-support cases: the
differential test and `bench/rules.py` both use it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from tests.unit.rules.oracle_common import birth, is_child, load_places, sector_of

LOCALITIES = (Path(__file__).resolve().parents[3]
              / "config" / "profiles" / "leicestershire" / "localities.csv")

# Section 1, the checklist: indicator -> (section, kind, headline area).
# Kinds: S safeguarding, C complex, A additional need. Sections B-I are the domains.
CHECKLIST: dict[str, tuple[str, str, str | None]] = {
    # A. Safety
    "child_at_risk_of_harm": ("A", "S", "CS"),
    "child_exploitation": ("A", "S", "CS"),
    "adult_at_risk": ("A", "S", None),
    "domestic_abuse_high_risk": ("A", "S", "DA"),
    "domestic_abuse": ("A", "C", "DA"),
    # B. Child development and learning
    "early_development_concern": ("B", "A", "EY"),
    "school_attendance_concern": ("B", "A", "ED"),
    "school_exclusion": ("B", "A", "ED"),
    "special_educational_needs": ("B", "A", "ED"),
    "child_behaviour_concern": ("B", "A", "FR"),
    "child_emotional_health": ("B", "A", "HE"),
    "young_carer": ("B", "A", "HE"),
    "young_person_neet": ("B", "A", "ED"),
    "child_asb_or_offending": ("B", "A", "CR"),
    # C. Parenting and family
    "parenting_support": ("C", "A", "FR"),
    "parenting_capacity_concern": ("C", "C", "CS"),
    "family_conflict": ("C", "A", "FR"),
    "parental_mental_health": ("C", "A", "HE"),
    "parental_substance_misuse": ("C", "C", "SU"),
    "pregnancy_or_new_baby_support": ("C", "A", "EY"),
    # D. Adult health and wellbeing
    "adult_mental_health": ("D", "A", "HE"),
    "adult_substance_misuse": ("D", "A", "SU"),
    "long_term_condition": ("D", "A", "HE"),
    "memory_concern": ("D", "A", "HE"),
    "healthy_lifestyle": ("D", "A", "HE"),
    "frequent_service_use": ("D", "A", None),
    "hospital_discharge": ("D", "A", "HE"),
    # E. Independence and care
    "falls_risk": ("E", "A", "HE"),
    "daily_living_difficulty": ("E", "A", "HE"),
    "carer_strain": ("E", "A", "HE"),
    "self_neglect": ("E", "C", "HE"),
    # F. Home
    "fire_safety_risk": ("F", "A", None),
    "cold_or_damp_home": ("F", "A", "HO"),
    "housing_at_risk": ("F", "A", "HO"),
    "home_unsuitable": ("F", "A", "HO"),
    # G. Money and work
    "financial_hardship": ("G", "A", "FS"),
    "worklessness": ("G", "A", "FS"),
    # H. Connections
    "social_isolation": ("H", "A", None),
    "transport_barrier": ("H", "A", None),
    # I. Crime and community safety
    "household_asb": ("I", "A", "CR"),
    "adult_offending": ("I", "A", "CR"),
    "victim_of_crime_or_scams": ("I", "A", None),
}
CHILD_SECTIONS = ("B", "C")
ADULT_SECTIONS = ("D", "E", "F", "G", "H", "I")

# "the hub of the household's district" (section 3)
DISTRICT_HUB = {
    "blaby": "blaby-hub",
    "charnwood": "charnwood-hub",
    "harborough": "harborough-hub",
    "hinckley-and-bosworth": "hinckley-and-bosworth-hub",
    "melton": "melton-hub",
    "north-west-leicestershire": "north-west-leicestershire-hub",
    "oadby-and-wigston": "oadby-and-wigston-hub",
}
COUNTYWIDE = "countywide"  # the one instance of a service that is not split by place


@dataclass(frozen=True)
class Referral:
    """What the policy reads: answers and the context that comes with every referral."""

    answers: dict[str, bool | None]
    people: tuple[tuple[str, date], ...]  # (role, date of birth)
    postcode: str
    referral_date: date
    consent: str = "given"
    information_only: bool = False
    step_down: bool = False
    open_family_support: str | None = None  # the instance of the family's open SLF case


@dataclass(frozen=True)
class Answer:
    rejected: tuple[str, ...]  # child-domain indicators with no child: intake refuses it
    level: int | None
    child_safeguarding: bool
    adult_safeguarding: bool
    urgent: bool
    routes: frozenset[tuple[str, str | None]]  # (service, instance)
    needs_review: bool
    status: str | None  # rejected, needs_review, awaiting_consent or routed
    reasons: tuple[tuple[str, tuple[str, ...]], ...]  # (policy clause, indicators)


PLACES = load_places(LOCALITIES)


def decide(r: Referral, places: dict[str, dict[str, str]] = PLACES) -> Answer:
    true = [q for q in CHECKLIST if r.answers.get(q) is True]

    def on(*ids: str) -> bool:
        return any(i in true for i in ids)

    children = (any(is_child(born, r.referral_date) for _, born in r.people)
                or on("pregnancy_or_new_baby_support"))
    child_needs = tuple(q for q in true if CHECKLIST[q][0] in CHILD_SECTIONS)
    adult_needs = tuple(q for q in true if CHECKLIST[q][0] in ADULT_SECTIONS)
    if child_needs and not children:
        return Answer(rejected=child_needs, level=None, child_safeguarding=False,
                      adult_safeguarding=False, urgent=False, routes=frozenset(),
                      needs_review=False, status="rejected", reasons=())

    reasons: list[tuple[str, tuple[str, ...]]] = []

    # Section 2: the level, first matching rule wins (rules 1 and 2 may both apply).
    child_sg = [q for q in ("child_at_risk_of_harm", "child_exploitation") if on(q)]
    if on("domestic_abuse_high_risk") and children:
        child_sg.append("domestic_abuse_high_risk")
    adult_sg = ["adult_at_risk"] if on("adult_at_risk") else []
    if on("domestic_abuse_high_risk") and not children:
        adult_sg.append("domestic_abuse_high_risk")
    complex_needs = tuple(q for q in true if CHECKLIST[q][1] == "C")
    areas = {CHECKLIST[q][2] for q in true if CHECKLIST[q][2] is not None}
    domains = {CHECKLIST[q][0] for q in true if CHECKLIST[q][0] != "A"}
    if child_sg or adult_sg:
        level = 4
        if child_sg:
            reasons.append(("2.1 child safeguarding", tuple(child_sg)))
        if adult_sg:
            reasons.append(("2.2 adult safeguarding", tuple(adult_sg)))
    elif complex_needs:
        level = 3
        reasons.append(("2.3 complex indicator", complex_needs))
    elif children and len(areas) >= 3:
        level = 3
        reasons.append(("2.3 three headline areas with children", tuple(true)))
    elif len(domains) >= 4:
        level = 3
        reasons.append(("2.3 four domains", child_needs + adult_needs))
    elif true:
        level = 2
        reasons.append(("2.4 any other need", tuple(true)))
    else:
        level = 1
        reasons.append(("2.5 no need", ()))

    # Section 4: where the household lives.
    sector = sector_of(r.postcode)
    place = places.get(sector) if sector else None

    def instance(service: str) -> str | None:
        if place is None:
            return None
        if service == "early_help_hub":
            return DISTRICT_HUB[place["district"]]
        if service == "local_area_coordination":
            return place["lac_patch"] or None
        if service == "supporting_leicestershire_families":
            return r.open_family_support or place["slf_area"]
        return COUNTYWIDE

    # Section 3: routes, every matching rule adds one.
    routes: list[str] = []
    if level == 4:
        if child_sg:
            routes.append("first_response")
        if adult_sg:
            routes.append("adult_social_care")
    elif level in (2, 3):
        family = bool(child_needs) or (on("domestic_abuse") and children)
        adult = bool(adult_needs) or (on("domestic_abuse") and not children)
        if family:
            if r.open_family_support is not None or r.step_down:
                routes.append("supporting_leicestershire_families")
                reasons.append(("3 family: open family support or step-down", child_needs))
            else:
                routes.append("early_help_hub")
                reasons.append(("3 family: district hub", child_needs))
        if adult:
            in_patch = place is not None and bool(place["lac_patch"])
            if in_patch and on("social_isolation", "frequent_service_use"):
                routes.append("local_area_coordination")
                reasons.append(("3 adult: coordinator patch", adult_needs))
            else:
                routes.append("first_contact_plus")
                reasons.append(("3 adult: First Contact Plus", adult_needs))
    else:
        routes.append("signposting")

    # Sections 4 and 5: out of area waits for a person; below level 4, for consent.
    if place is None:
        status = "needs_review"
    elif level < 4 and r.consent != "given":
        status = "awaiting_consent"
    else:
        status = "routed"
    return Answer(
        rejected=(), level=level, child_safeguarding=bool(child_sg),
        adult_safeguarding=bool(adult_sg), urgent=level == 4,
        routes=frozenset((s, instance(s)) for s in routes), needs_review=place is None,
        status=status, reasons=tuple(reasons))


# --- Generated referrals -------------------------------------------------------------------

SAFEGUARDING = [q for q, (_, kind, _) in CHECKLIST.items() if kind == "S"]
COMPLEX = [q for q, (_, kind, _) in CHECKLIST.items() if kind == "C"]
CHILD_ADDITIONAL = [q for q, (s, kind, _) in CHECKLIST.items()
                    if s in CHILD_SECTIONS and kind == "A"]
ADULT_ADDITIONAL = [q for q, (s, kind, _) in CHECKLIST.items()
                    if s in ADULT_SECTIONS and kind == "A"]
SLF_AREAS = sorted({row["slf_area"] for row in PLACES.values()})
IN_PATCH = sorted(s for s, row in PLACES.items() if row["lac_patch"])
NO_PATCH = sorted(s for s, row in PLACES.items() if not row["lac_patch"])
OUT_OF_AREA = ["NG1 5AA", "LE1 1AA", "LE11 9ZZ", "CV1 2AB", "DE1 1AA", "B1 1AA", "LE4 7PQ"]
NOT_POSTCODES = ["", "LE13", "LE13 0A", "NOT A POSTCODE", "13 0AB", "LE13 0A1"]


def _postcode(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.04:
        return rng.choice(NOT_POSTCODES)
    if pick < 0.14:
        code = rng.choice(OUT_OF_AREA)
    else:
        sector = rng.choice(IN_PATCH if pick < 0.55 else NO_PATCH)
        code = f"{sector}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    style = rng.random()
    if style < 0.1:
        return code.lower()
    if style < 0.2:
        return code.replace(" ", "")
    return code


def _answers(rng: random.Random, children: bool) -> dict[str, bool | None]:
    true: set[str] = set()
    if rng.random() < 0.10:
        true.update(rng.sample(SAFEGUARDING, rng.choice((1, 1, 1, 2))))
    if rng.random() < 0.20:
        true.add(rng.choice(COMPLEX))
    count = rng.choices(range(9), weights=(18, 24, 20, 14, 9, 6, 4, 3, 2))[0]
    # Mostly consistent referrals; a few name child needs with no child (intake refuses).
    pool = ADULT_ADDITIONAL + (CHILD_ADDITIONAL if children or rng.random() < 0.04 else [])
    true.update(rng.sample(pool, min(count, len(pool))))
    if not children and rng.random() < 0.9:
        true -= {q for q in true if CHECKLIST[q][0] in CHILD_SECTIONS}
        if rng.random() < 0.05:
            true.add("pregnancy_or_new_baby_support")
    answers: dict[str, bool | None] = {q: True for q in true}
    for q in rng.sample(list(CHECKLIST), rng.randrange(0, 8)):
        answers.setdefault(q, rng.choice((False, None)))
    return answers


def referral(rng: random.Random, on: date | None = None) -> Referral:
    """One referral; on a random date from 2024 to 2027 unless `on` fixes it."""
    if on is None and rng.random() < 0.05:
        on = rng.choice((date(2024, 2, 29), date(2025, 2, 28), date(2025, 3, 1),
                         date(2026, 2, 28), date(2028, 2, 29)))
    if on is None:
        on = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 4 * 365))
    adults = rng.choice((0, 1, 1, 1, 2, 2, 3))
    kids = 0 if rng.random() < 0.4 else rng.choice((1, 1, 2, 3))
    people = [birth(rng, on, child=False) for _ in range(adults)]
    people += [birth(rng, on, child=True) for _ in range(kids)]
    if not people:
        people = [birth(rng, on, child=rng.random() < 0.5)]
    rng.shuffle(people)
    roles = ["subject"] + ["household"] * (len(people) - 1)
    children = any(is_child(born, on) for born in people)
    information_only = rng.random() < 0.08
    answers = {} if information_only and rng.random() < 0.7 else _answers(rng, children)
    return Referral(
        answers=answers,
        people=tuple(zip(roles, people, strict=True)),
        postcode=_postcode(rng),
        referral_date=on,
        consent=rng.choice(("given", "given", "given", "refused", "not_asked")),
        information_only=information_only,
        step_down=rng.random() < 0.15,
        open_family_support=rng.choice(SLF_AREAS) if rng.random() < 0.15 else None,
    )


def generate(n: int, seed: int = 20261102, on: date | None = None) -> Iterator[Referral]:
    """n referrals from a seeded generator: the same n referrals on every run."""
    rng = random.Random(seed)
    for _ in range(n):
        yield referral(rng, on)
