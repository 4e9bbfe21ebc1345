"""Demo users and realistic referrals, sent through the same intake service as real ones."""

from __future__ import annotations

import contextlib
import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from triage.errors import Conflict, Forbidden, ValidationFailed
from triage.models import Case, CaseEvent, Decision, Referral, User
from triage.models.base import utcnow
from triage.runtime import Runtime
from triage.services.accounts import users
from triage.services.cases import casework, escalation
from triage.services.cases.case_dues import CaseView, columns_for
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


def _contact(rng: random.Random) -> dict[str, Any]:
    """Contact details in the ranges kept for drama (Ofcom: 07700 900000-900999), some of
    them not safe to call."""
    safe = rng.random() > 0.15
    contact: dict[str, Any] = {"phone": f"07700 900{rng.randrange(1000):03d}",
                               "preferred": rng.choice(["phone", "text"]),
                               "safe_to_contact": safe}
    if not safe:
        contact["safe_contact_notes"] = "Do not call or text: a partner reads the phone. " \
                                        "Contact through the school or the GP surgery."
    if rng.random() < 0.1:
        contact.update(language="Gujarati", interpreter=True)
    return contact


def _people(rng: random.Random, household: str) -> list[dict[str, Any]]:
    family = rng.choice(FAMILY)
    first = {"ref": "p1", "role": "subject", "given_name": rng.choice(GIVEN),
             "family_name": family}
    if household == "older_alone":
        return [{**first, "date_of_birth": _dob(rng, 70, 95), "contact": _contact(rng)}]
    if household == "adult":
        return [{**first, "date_of_birth": _dob(rng, 20, 65), "contact": _contact(rng)}]
    parent = {"ref": "p2", "role": "household", "relationship": "parent",
              "given_name": rng.choice(GIVEN), "family_name": family,
              "date_of_birth": _dob(rng, 24, 45), "contact": _contact(rng)}
    if household == "pregnant":
        return [{**first, "date_of_birth": _dob(rng, 19, 35), "contact": _contact(rng)}]
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
    sectors = sorted(rt.profile.localities.rows)
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
            user = users.create_user(rt.db, password=DEMO_PASSWORD, teams=rt.profile.teams, **spec)
        found.append(user)
    return found


def load_demo(rt: Runtime, *, referrals: int = 300, seed: int = 2026, history: bool = True
              ) -> str:
    """Create the demo users, then `referrals` referrals spread over the last months, with
    their cases moved along their pathways (`history=False`: all received now, every case
    where routing left it); running it again adds nothing."""
    by_email = {u.email: u for u in ensure_demo_users(rt)}
    front_door = by_email["frontdoor@demo.test"]
    senders = [("staff", front_door), ("self", front_door),
               ("partner", by_email["fire@demo.test"]), ("partner", by_email["police@demo.test"])]
    rng = random.Random(seed)
    created = rejected = 0
    sent: list[dict[str, Any]] = []
    for n in range(referrals):
        channel, user = senders[rng.randrange(len(senders))]
        body = demo_referral(rng, rt, channel)
        if sent and rng.random() < REFERRED_AGAIN:
            # The same family again, with a need of today: found, not created twice.
            again = rng.choice(sent)
            body = {**again, "channel": channel, "answers": _again(rng, again["answers"])}
        if channel == "partner":
            body["referrer"] = {"organisation": user.organisation, "name": user.name}
        try:
            status, out = intake.submit_referral(rt, user=user, body=body,
                                                 idempotency_key=f"demo-{seed}-{n}")
        except ValidationFailed:
            rejected += 1
            continue
        sent.append(body)
        if status != 201:
            continue  # already loaded: replayed, nothing new
        created += 1
        if not history:
            continue
        # Its own random numbers, so a second load draws the same referrals as the first.
        steps = random.Random(f"{seed}-{n}")
        # Older referrals first in time order: n spreads them over the last DAYS_BACK days.
        days_ago = DAYS_BACK * (referrals - n) / referrals + steps.random()
        _move_along(rt, steps, out, by_email, days_ago)
    if created and history:
        escalation.escalate_overdue(rt)
    with rt.db.reader() as session:
        total = session.exec(select(func.count()).select_from(Referral)).one()
        closed = session.exec(select(func.count()).select_from(Case)
                              .where(Case.closed_at.is_not(None))).one()
        overdue = session.exec(select(func.count()).select_from(Case)
                               .where(Case.closed_at.is_(None),
                                      Case.overdue_since.is_not(None))).one()
    return "\n".join([
        f"demo: {referrals} referrals sent ({created} new, {rejected} refused by validation); "
        f"{total} referrals in the database; {closed} cases closed, {overdue} open and overdue",
        f"demo accounts (password {DEMO_PASSWORD!r}, development only):",
        *_accounts_table(rt, list(by_email.values())),
    ])


# A referral in twelve is a family referred before; referrals go back four months.
REFERRED_AGAIN = 1 / 12
DAYS_BACK = 120


def _again(rng: random.Random, answers: dict[str, Any]) -> dict[str, Any]:
    """What a second referral of the same family says: some of the first one's needs again
    (so it stays consistent with who is in the household), never none of them."""
    needs = [q for q, v in answers.items() if v]
    if not needs:
        return dict(answers)
    keep = rng.sample(needs, rng.randint(1, len(needs)))
    return {q: q in keep for q in needs}


def _accounts_table(rt: Runtime, accounts: list[User]) -> list[str]:
    rows = [("email", "role", "team or organisation")]
    for u in accounts:
        rows.append((u.email, u.role.replace("_", " "),
                     rt.profile.team_name(u.team) if u.team else (u.organisation or "every team")))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    return [f"  {r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]}" for r in rows]


def _move_along(rt: Runtime, rng: random.Random, out: dict[str, Any],
                by_email: dict[str, User], days_ago: float) -> None:
    """Move the referral's cases some steps along their pathways with the real case service,
    as the team (or the manager) would, then set the clock back as if it all happened then."""
    workers = {u.team: u for u in by_email.values() if u.team}
    manager = by_email["manager@demo.test"]
    for item in out.get("cases", []):
        steps = rng.choices([0, 1, 2, 3, 4], weights=[4, 3, 3, 2, 1])[0]
        actor = (workers.get(f"{item['service']}:{item['instance']}")
                 or workers.get(item["service"]) or manager)
        for _ in range(steps):
            case = casework.get_case(rt, user=actor, case_id=item["id"])
            event = _pick_event(rng, case["allowed_events"])
            if event is None:
                break
            try:
                casework.fire_case_event(rt, user=actor, case_id=item["id"], body=event)
            except (ValidationFailed, Conflict, Forbidden):
                break
        if actor is not manager and rng.random() < ASSIGNED:
            # The team's worker takes the case (refused once it is closed).
            with contextlib.suppress(ValidationFailed, Conflict, Forbidden):
                casework.fire_case_event(rt, user=actor, case_id=item["id"],
                                         body={"event": "assign", "worker": actor.id})
    _backdate(rt, out["reference"], days_ago)


# Most cases a team works have a named worker.
ASSIGNED = 0.7

# Events the demo never fires: they open linked referrals or undo work, which would muddle
# the story a newcomer reads.
SKIPPED_EVENTS = {"step_up", "step_down", "cancel", "reopen", "decline", "hold"}


def _pick_event(rng: random.Random, allowed: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One allowed event whose fields the demo can fill (codes, text, dates), with them."""
    choices = [e for e in allowed if e["event"] not in SKIPPED_EVENTS
               and all(f["kind"] in ("code", "text", "date") for f in e["fields"])]
    if not choices:
        return None
    event = rng.choice(choices)
    body: dict[str, Any] = {"event": event["event"]}
    for f in event["fields"]:
        if f["kind"] == "code":
            body[f["name"]] = rng.choice(f["choices"])["code"]
        elif f["kind"] == "date":
            body[f["name"]] = date.today().isoformat()
        else:
            body[f["name"]] = "Demo: recorded by the demo loader."
    return body


def _backdate(rt: Runtime, reference: str, days_ago: float) -> None:
    """Set a demo referral's clock back: it was received `days_ago` days ago and each case
    event followed a few days after the one before; what is due is worked out again from the
    pathway, so some cases are overdue. Demo only: nothing in the service changes the past."""
    now = utcnow()
    received = now - timedelta(days=days_ago)
    shift = now - received
    calendar = rt.pathways.calendar
    with rt.db.unit_of_work() as session:
        referral = session.exec(select(Referral).where(Referral.reference == reference)).one()
        referral.received_at -= shift
        if referral.consent_recorded_at is not None:
            referral.consent_recorded_at -= shift
        for decision in session.exec(select(Decision)
                                     .where(Decision.referral_id == referral.id)).all():
            decision.decided_at -= shift
        for case in session.exec(select(Case).where(Case.referral_id == referral.id)).all():
            case.opened_at -= shift
            history = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                   .order_by(CaseEvent.at, CaseEvent.id)).all()
            step = max(days_ago / (len(history) + 1), 0.1)
            for i, row in enumerate(history):
                row.at = case.opened_at + timedelta(days=step * i) if i else case.opened_at
            if case.closed_at is not None:
                case.closed_at = history[-1].at if history else case.opened_at
            pathway = rt.pathways.for_service(case.service)
            due = columns_for(pathway, CaseView.of(case, history), calendar=calendar,
                              now=now, escalated_at=None)
            for name, value in due.as_values().items():
                setattr(case, name, value if case.closed_at is None else None)
