"""Demo users and realistic referrals, sent through the same intake service as real ones."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlmodel import select

from triage.errors import ValidationFailed
from triage.models import User
from triage.runtime import Runtime
from triage.services.accounts import users
from triage.services.referrals import intake

# A development-only password, documented in the README; `demo load` refuses production.
DEMO_PASSWORD = "early-help-demo-2026"  # noqa: S105 - demo only, documented

DEMO_USERS = [
    {"email": "admin@demo.test", "role": "admin", "name": "Ada Admin"},
    {"email": "frontdoor@demo.test", "role": "front_door", "name": "Frankie Front",
     "team": "front_door"},
    {"email": "hub.charnwood@demo.test", "role": "hub_coordinator", "name": "Harper Hub",
     "team": "early_help_hub:charnwood-hub"},
    {"email": "hub.melton@demo.test", "role": "hub_coordinator", "name": "Morgan Hub",
     "team": "early_help_hub:melton-hub"},
    {"email": "fcp@demo.test", "role": "practitioner", "name": "Casey Contact",
     "team": "first_contact_plus"},
    {"email": "lac@demo.test", "role": "practitioner", "name": "Lee Coordinator",
     "team": "local_area_coordination"},
    {"email": "slf@demo.test", "role": "practitioner", "name": "Sam Families",
     "team": "supporting_leicestershire_families"},
    {"email": "manager@demo.test", "role": "manager", "name": "Mo Manager"},
    {"email": "fire@demo.test", "role": "partner", "name": "Fire Officer",
     "organisation": "Leicestershire Fire and Rescue Service"},
    {"email": "police@demo.test", "role": "partner", "name": "Police Officer",
     "organisation": "Leicestershire Police"},
]

GIVEN = ["Amelia", "Olivia", "Isla", "Ava", "Mia", "Noah", "Oliver", "George", "Arthur", "Leo",
         "Harry", "Freya", "Aisha", "Mohammed", "Priya", "Jack", "Grace", "Ruby", "Ethan", "Zara"]
FAMILY = ["Smith", "Patel", "Jones", "Taylor", "Brown", "Williams", "Khan", "Davies", "Evans",
          "Wilson", "Thomas", "Johnson", "Roberts", "Walker", "Wright", "Mistry", "Hall", "Green"]

# Scenarios: (weight, who is in the household, which needs are likely). Needs are indicator
# ids from the default checklist; a council with another checklist passes its own scenarios.
SCENARIOS: list[dict[str, Any]] = [
    {"weight": 5, "household": "older_alone",
     "needs": ["memory_concern", "social_isolation", "falls_risk", "fire_safety_risk",
               "cold_or_damp_home", "daily_living_difficulty", "victim_of_crime_or_scams"]},
    {"weight": 4, "household": "adult",
     "needs": ["adult_mental_health", "financial_hardship", "worklessness", "housing_at_risk",
               "social_isolation", "frequent_service_use", "long_term_condition",
               "adult_substance_misuse", "healthy_lifestyle", "transport_barrier"]},
    {"weight": 5, "household": "family",
     "needs": ["school_attendance_concern", "child_behaviour_concern", "parenting_support",
               "special_educational_needs", "child_emotional_health", "family_conflict",
               "parental_mental_health", "financial_hardship", "housing_at_risk",
               "young_carer", "school_exclusion", "household_asb"]},
    {"weight": 1, "household": "family",
     "needs": ["domestic_abuse", "parenting_capacity_concern", "parental_substance_misuse"]},
    {"weight": 1, "household": "pregnant",
     "needs": ["pregnancy_or_new_baby_support", "parental_mental_health", "financial_hardship",
               "home_unsuitable"]},
    {"weight": 1, "household": "family", "needs": ["child_at_risk_of_harm", "child_exploitation"],
     "max_needs": 1},
    {"weight": 1, "household": "older_alone", "needs": ["adult_at_risk", "self_neglect"],
     "max_needs": 1},
    {"weight": 1, "household": "adult", "needs": [], "information_only": True},
]


def _dob(rng: random.Random, low: int, high: int) -> str:
    # Fixed reference date so the same seed gives the same body (idempotent demo load).
    ref = date(2026, 1, 1)
    return (ref - timedelta(days=rng.randint(low * 365 + 30, high * 365 - 30))).isoformat()


def _people(rng: random.Random, household: str) -> list[dict[str, Any]]:
    family = rng.choice(FAMILY)
    first = {"ref": "p1", "role": "subject", "given_name": rng.choice(GIVEN),
             "family_name": family}
    if household == "older_alone":
        return [{**first, "date_of_birth": _dob(rng, 70, 95)}]
    if household == "adult":
        return [{**first, "date_of_birth": _dob(rng, 20, 65)}]
    parent = {"ref": "p2", "role": "household", "relationship": "parent",
              "given_name": rng.choice(GIVEN), "family_name": family,
              "date_of_birth": _dob(rng, 24, 45)}
    if household == "pregnant":
        return [{**first, "date_of_birth": _dob(rng, 19, 35)}]
    children = [{**first, "date_of_birth": _dob(rng, 3, 14)}, parent]
    for n in range(rng.randint(0, 2)):
        children.append({"ref": f"c{n + 2}", "role": "household", "relationship": "sibling",
                         "given_name": rng.choice(GIVEN), "family_name": family,
                         "date_of_birth": _dob(rng, 1, 15)})
    return children


def demo_referral(rng: random.Random, rt: Runtime, channel: str) -> dict[str, Any]:
    scenario = rng.choices(SCENARIOS, weights=[s["weight"] for s in SCENARIOS])[0]
    known = [q for q in scenario["needs"] if q in rt.profile.checklist.questions]
    count = min(len(known), rng.randint(1, scenario.get("max_needs", 4))) if known else 0
    answers: dict[str, Any] = {q: True for q in rng.sample(known, count)}
    for q in rng.sample(known, min(len(known), 2)):
        answers.setdefault(q, False)
    sectors = sorted(rt.profile.localities)
    if rng.random() < 0.04:
        postcode = "NG1 5AA"  # out of area: waits for a person to review
    else:
        sector = rng.choice(sectors)
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        postcode = f"{sector}{rng.choice(letters)}{rng.choice(letters)}"
    consent = rng.choices(["given", "not_asked", "refused"], weights=[85, 10, 5])[0]
    body = {"channel": channel, "postcode": postcode, "people": _people(rng, scenario["household"]),
            "answers": answers, "consent": consent,
            "information_only": bool(scenario.get("information_only"))}
    if scenario["household"] == "pregnant":
        answers["pregnancy_or_new_baby_support"] = True
    return body


def ensure_demo_users(rt: Runtime) -> list[User]:
    found = []
    for spec in DEMO_USERS:
        with rt.db.reader() as session:
            user = session.exec(select(User).where(User.email == spec["email"])).first()
        if user is None:
            user = users.create_user(rt.db, password=DEMO_PASSWORD, **spec)
        found.append(user)
    return found


def load_demo(rt: Runtime, *, referrals: int = 300, seed: int = 2026) -> str:
    """Create the demo users, then `referrals` referrals; running it again adds nothing."""
    by_email = {u.email: u for u in ensure_demo_users(rt)}
    front_door = by_email["frontdoor@demo.test"]
    senders = [("staff", front_door), ("self", front_door),
               ("partner", by_email["fire@demo.test"]), ("partner", by_email["police@demo.test"])]
    rng = random.Random(seed)
    created = replayed = rejected = 0
    for n in range(referrals):
        channel, user = senders[rng.randrange(len(senders))]
        body = demo_referral(rng, rt, channel)
        if channel == "partner":
            body["referrer"] = {"organisation": user.organisation, "name": user.name}
        try:
            status, _ = intake.submit_referral(rt, user=user, body=body,
                                               idempotency_key=f"demo-{seed}-{n}")
        except ValidationFailed:
            rejected += 1
            continue
        created += status == 201
    with rt.db.reader() as session:
        from sqlalchemy import func

        from triage.models import Referral

        total = session.exec(select(func.count()).select_from(Referral)).one()
    replayed = referrals - rejected - created
    return (f"demo: {len(by_email)} users (password {DEMO_PASSWORD!r}); {referrals} referrals "
            f"sent ({rejected} rejected by validation); {total} referrals in the database"
            f"{'' if not replayed else ''}")
