"""Lancashire's triage policy (lancashire-policy.md, version 1) as plain `if` statements: a test
oracle.

Written from the policy's text and the checklist's ids and kinds (which the policy makes
binding), not from the decision graph or services.yaml, so that the differential test
compares two independent readings of one policy. Never used by the product. The only profile
file it reads is the localities table (postcode sector -> footprint, planning area,
neighbourhood centre), which is data the policy points at (section 2), not a rule.

`generate()` makes seeded random referrals spread over every indicator, ages around the
eighteenth birthday, households with and without children (or an expected baby), postcodes
in the county, in Blackpool and Blackburn with Darwen (out of county) and elsewhere,
consent, step-down and open targeted cases.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from tests.unit.rules.oracle_common import birth, is_child, load_places, sector_of

LOCALITIES = (Path(__file__).resolve().parents[3]
              / "config" / "profiles" / "lancashire" / "localities.csv")

# The checklist (ids and kinds are binding): indicator -> (domain, kind, headline area).
# Kinds: P child protection (4b), N child in need (4a), L looked after (4c), S adult
# safeguarding, C complex, A additional. Domains: S safety, C the child's development,
# P parenting and family (C and P are child-side), A adult health, H home, money and work,
# N community (A, H and N are adult-side).
CHECKLIST: dict[str, tuple[str, str, str | None]] = {
    "child_significant_harm": ("S", "P", "CS"),
    "child_exploitation_or_missing": ("S", "P", "CS"),
    "child_needs_statutory_services": ("S", "N", "HE"),
    "child_looked_after": ("S", "L", "CS"),
    "adult_at_risk": ("S", "S", None),
    "domestic_abuse_high_risk": ("S", "P", "DA"),
    "domestic_abuse": ("S", "C", "DA"),
    "early_years_development": ("C", "A", "EY"),
    "school_attendance": ("C", "A", "ED"),
    "school_exclusion": ("C", "A", "ED"),
    "send_needs": ("C", "A", "ED"),
    "child_behaviour": ("C", "A", "FR"),
    "child_emotional_wellbeing": ("C", "A", "HE"),
    "young_carer": ("C", "A", "HE"),
    "young_person_neet": ("C", "A", "ED"),
    "youth_offending_or_asb": ("C", "A", "CR"),
    "young_person_risky_behaviour": ("C", "A", "SU"),
    "parenting_support": ("P", "A", "FR"),
    "parenting_capacity": ("P", "C", "CS"),
    "family_breakdown": ("P", "A", "FR"),
    "parental_mental_health": ("P", "A", "HE"),
    "parental_substance_misuse": ("P", "C", "SU"),
    "expecting_or_new_baby": ("P", "A", "EY"),
    "adult_mental_wellbeing": ("A", "A", "HE"),
    "adult_substance_misuse": ("A", "A", "SU"),
    "adult_long_term_condition": ("A", "A", "HE"),
    "adult_carer_strain": ("A", "A", "HE"),
    "adult_self_neglect": ("A", "C", "HE"),
    "housing_insecure": ("H", "A", "HO"),
    "home_unsafe_or_unsuitable": ("H", "A", "HO"),
    "debt_or_benefits": ("H", "A", "FS"),
    "out_of_work": ("H", "A", "FS"),
    "isolated": ("N", "A", None),
    "household_asb": ("N", "A", "CR"),
    "adult_offending": ("N", "A", "CR"),
}
CHILD_DOMAINS = ("C", "P")
ADULT_DOMAINS = ("A", "H", "N")

# Section 2: the services with one countywide instance.
MASH = "mash"
CUSTOMER_ACCESS = "customer-access"
STATUTORY = ("childrens_social_care", "adult_social_care")
# Section 1: the levels whose statutory hand-off goes ahead without consent (section 4).
CONSENT_NOT_NEEDED = ("4b", "4c", "adult")
NUMBER = {"0": 0, "1": 1, "2": 2, "3": 3, "4a": 4, "4b": 4, "4c": 4, "adult": 4}


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
    open_targeted: str | None = None  # the planning area of the family's open targeted case


@dataclass(frozen=True)
class Route:
    service: str
    instance: str | None
    consent_needed: bool


@dataclass(frozen=True)
class Answer:
    rejected: tuple[str, ...]  # child-side indicators with no child: intake refuses it
    level: str | None  # the level code
    number: int | None  # its number on the continuum
    child_safeguarding: bool
    adult_safeguarding: bool
    urgent: bool
    routes: frozenset[Route]
    needs_review: bool
    status: str | None  # rejected, needs_review, awaiting_consent or routed
    opens: frozenset[tuple[str, str | None]]  # the routes whose cases open at once
    reasons: tuple[tuple[str, tuple[str, ...]], ...]  # (policy clause, indicators)

    @property
    def route_pairs(self) -> list[tuple[str, str | None]]:
        return sorted(((r.service, r.instance) for r in self.routes),
                      key=lambda sr: (sr[0], sr[1] or ""))


PLACES = load_places(LOCALITIES)


def decide(r: Referral, places: dict[str, dict[str, str]] = PLACES) -> Answer:
    true = [q for q in CHECKLIST if r.answers.get(q) is True]

    def on(*ids: str) -> bool:
        return any(i in true for i in ids)

    # "Children in the household": a person under 18, or a baby expected (section 1).
    children = (any(is_child(born, r.referral_date) for _, born in r.people)
                or on("expecting_or_new_baby"))
    child_needs = tuple(q for q in true if CHECKLIST[q][0] in CHILD_DOMAINS)
    adult_needs = tuple(q for q in true if CHECKLIST[q][0] in ADULT_DOMAINS)
    if child_needs and not children:
        return Answer(rejected=child_needs, level=None, number=None, child_safeguarding=False,
                      adult_safeguarding=False, urgent=False, routes=frozenset(),
                      needs_review=False, status="rejected", opens=frozenset(), reasons=())

    reasons: list[tuple[str, tuple[str, ...]]] = []
    complex_needs = tuple(q for q in true if CHECKLIST[q][1] == "C")
    areas = {CHECKLIST[q][2] for q in true if CHECKLIST[q][2] is not None}
    domains = {CHECKLIST[q][0] for q in true if CHECKLIST[q][0] != "S"}
    child_protection = [q for q in ("child_significant_harm", "child_exploitation_or_missing")
                        if on(q)]
    if on("domestic_abuse_high_risk") and children:
        child_protection.append("domestic_abuse_high_risk")

    # Section 1: the level, first matching rule wins.
    if child_protection:
        level = "4b"
        reasons.append(("1.1 child protection", tuple(child_protection)))
    elif on("child_looked_after"):
        level = "4c"
        reasons.append(("1.2 looked after", ("child_looked_after",)))
    elif on("child_needs_statutory_services"):
        level = "4a"
        reasons.append(("1.3 child in need", ("child_needs_statutory_services",)))
    elif on("adult_at_risk") or (on("domestic_abuse_high_risk") and not children):
        level = "adult"
        reasons.append(("1.4 adult safeguarding",
                        tuple(q for q in ("adult_at_risk", "domestic_abuse_high_risk")
                              if on(q))))
    elif complex_needs:
        level = "3"
        reasons.append(("1.5 complex indicator", complex_needs))
    elif children and len(areas) >= 3:
        level = "3"
        reasons.append(("1.5 three headline areas with children", tuple(true)))
    elif len(domains) >= 4:
        level = "3"
        reasons.append(("1.5 four domains", child_needs + adult_needs))
    elif true:
        level = "2"
        reasons.append(("1.6 any other need", tuple(true)))
    elif r.information_only:
        level = "0"
        reasons.append(("1.7 information only", ()))
    else:
        level = "1"
        reasons.append(("1.8 no need", ()))

    # Safeguarding flags (section 1).
    child_flag = level == "4b"
    adult_flag = on("adult_at_risk") or level == "adult"

    # Section 2: where the household lives.
    sector = sector_of(r.postcode)
    place = places.get(sector) if sector else None

    def instance(service: str) -> str | None:
        if place is None:
            return None
        if service == "wpehs_universal":
            return place["neighbourhood_centre"]
        if service == "wpehs_targeted":
            # "A family with an open targeted case always stays with that team" (section 5).
            return r.open_targeted or place["planning_area"]
        if service == "adult_wellbeing":
            return place["footprint"]
        if service == "childrens_social_care":
            return MASH
        return CUSTOMER_ACCESS

    # Section 3: routes, every matching rule adds one; (service, the level it goes in at).
    routes: dict[str, str] = {}

    def add(service: str, at: str, clause: str, indicators: tuple[str, ...]) -> None:
        routes.setdefault(service, at)
        reasons.append((clause, indicators))

    if level in ("4b", "4c"):
        add("childrens_social_care", level, "3 statutory: children's social care", ())
    elif level == "4a":
        add("childrens_social_care", level, "3 4a: children's social care", ())
        add("wpehs_targeted", level, "3 4a: targeted early help alongside", ())
    elif level == "adult":
        add("adult_social_care", level, "3 adult: adult social care", ())
    if on("adult_at_risk"):
        add("adult_social_care", "adult", "3 adult at risk, any level", ("adult_at_risk",))
    if level in ("2", "3"):
        family = bool(child_needs) or (on("domestic_abuse") and children)
        adult = bool(adult_needs) or (on("domestic_abuse") and not children)
        if family:
            if level == "3":
                add("wpehs_targeted", level, "3 child side: level 3 targeted", child_needs)
            elif r.step_down or r.open_targeted is not None:
                add("wpehs_targeted", level, "3 child side: step-down or open targeted case",
                    child_needs)
            else:
                add("wpehs_universal", level, "3 child side: level 2 universal", child_needs)
        if adult:
            add("adult_wellbeing", level, "3 adult side: adult wellbeing", adult_needs)
    if level in ("0", "1"):
        if children:
            add("wpehs_universal", level, "3 universal with children", ())
        else:
            add("adult_wellbeing", level, "3 universal without children", ())

    # Section 4: consent per route; section 2: out of county waits for a person.
    built = frozenset(Route(s, instance(s), not (s in STATUTORY and at in CONSENT_NOT_NEEDED))
                      for s, at in routes.items())
    if place is None:
        status, opens = "needs_review", frozenset()
    elif r.consent == "given":
        status, opens = "routed", frozenset((x.service, x.instance) for x in built)
    else:
        opens = frozenset((x.service, x.instance) for x in built if not x.consent_needed)
        status = "routed" if len(opens) == len(built) else "awaiting_consent"
    return Answer(
        rejected=(), level=level, number=NUMBER[level], child_safeguarding=child_flag,
        adult_safeguarding=adult_flag, urgent=level in ("4b", "adult"), routes=built,
        needs_review=place is None, status=status, opens=opens, reasons=tuple(reasons))


# --- Generated referrals -------------------------------------------------------------------

SAFETY_THRESHOLDS = [q for q, (d, kind, _) in CHECKLIST.items() if d == "S" and kind != "C"]
COMPLEX = [q for q, (_, kind, _) in CHECKLIST.items() if kind == "C"]
CHILD_ADDITIONAL = [q for q, (d, kind, _) in CHECKLIST.items()
                    if d in CHILD_DOMAINS and kind == "A" and q != "expecting_or_new_baby"]
ADULT_ADDITIONAL = [q for q, (d, kind, _) in CHECKLIST.items()
                    if d in ADULT_DOMAINS and kind == "A"]
HEALTH = {d: [q for q, (dom, kind, area) in CHECKLIST.items()
             if dom == d and kind == "A" and area == "HE"] for d in ("C", "P", "A")}
PLANNING_AREAS = sorted({row["planning_area"] for row in PLACES.values()})
SECTORS = sorted(PLACES)
# Section 2: Blackpool (FY1-FY4) and Blackburn with Darwen (BB1 1, BB2) are out of county,
# and so is anywhere else.
OUT_OF_COUNTY = ["FY1 1AA", "FY2 0BB", "FY3 9DE", "FY4 4QT", "BB1 1EE", "BB2 6AP", "BB2 1JZ",
                 "M1 1AE", "L1 8JQ", "LA9 4DT", "LE13 0AB", "BD23 1UD"]
NOT_POSTCODES = ["", "PR1", "PR1 1A", "NOT A POSTCODE", "11 1AB", "PR1 1A1"]


def _postcode(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.04:
        return rng.choice(NOT_POSTCODES)
    if pick < 0.14:
        code = rng.choice(OUT_OF_COUNTY)
    else:
        sector = rng.choice(SECTORS)
        code = f"{sector}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    style = rng.random()
    if style < 0.1:
        return code.lower()
    if style < 0.2:
        return code.replace(" ", "")
    return code


def _answers(rng: random.Random, children: bool) -> dict[str, bool | None]:
    true: set[str] = set()
    if rng.random() < 0.18:
        true.update(rng.sample(SAFETY_THRESHOLDS, rng.choice((1, 1, 1, 2, 2, 3))))
    if rng.random() < 0.20:
        true.add(rng.choice(COMPLEX))
    count = rng.choices(range(9), weights=(18, 24, 20, 14, 9, 6, 4, 3, 2))[0]
    # Mostly consistent referrals; a few name child needs with no child (intake refuses).
    pool = ADULT_ADDITIONAL + (CHILD_ADDITIONAL if children or rng.random() < 0.04 else [])
    true.update(rng.sample(pool, min(count, len(pool))))
    if not children and rng.random() < 0.9:
        true -= {q for q in true if CHECKLIST[q][0] in CHILD_DOMAINS}
    if children and rng.random() < 0.05:
        # Needs in four domains but one or two headline areas (the domains rule on its own):
        # health questions from three domains, isolation (no area), and perhaps the home.
        true.update(rng.choice(HEALTH[domain]) for domain in ("C", "P", "A"))
        true.add("isolated")
        if rng.random() < 0.5:
            true.add(rng.choice(("housing_insecure", "home_unsafe_or_unsuitable")))
    if rng.random() < 0.06:
        true.add("expecting_or_new_baby")  # a baby expected: children in the household
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
    information_only = rng.random() < 0.10
    answers = {} if information_only and rng.random() < 0.7 else _answers(rng, children)
    return Referral(
        answers=answers,
        people=tuple(zip(roles, people, strict=True)),
        postcode=_postcode(rng),
        referral_date=on,
        consent=rng.choice(("given", "given", "given", "refused", "not_asked")),
        information_only=information_only,
        step_down=rng.random() < 0.15,
        open_targeted=rng.choice(PLANNING_AREAS) if rng.random() < 0.15 else None,
    )


def generate(n: int, seed: int = 20261203, on: date | None = None) -> Iterator[Referral]:
    """n referrals from a seeded generator: the same n referrals on every run."""
    rng = random.Random(seed)
    for _ in range(n):
        yield referral(rng, on)
