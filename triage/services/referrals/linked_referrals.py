"""Referrals a case event opens, linked to the case's referral: a step-up to the statutory
front door, or a step-down from a statutory hand-off to early help (outbox handler).

The new referral goes the way every referral goes: the same people and household, the
rules engine's decision stored with its rule-set version, cases opened by routing (or held
for consent), the receiving team told through the outbox. A step-up keeps the engine's
decision beside a staff override to the statutory service that takes the people on it (by
the services' age ranges, at the profile's step_up_level); a step-down drops the answers of
the checklist kinds marked dropped_on_step_down (the statutory team found the threshold not
met), is marked as a step-down and is routed by the rules.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

import rules
from rules.facts import age_on
from triage.models import (
    Case,
    CaseEvent,
    CaseReferralLink,
    Decision,
    Person,
    Referral,
    ReferralPerson,
    User,
)
from triage.runtime import Runtime
from triage.schemas.referral import PersonInput, ReferralInput
from triage.services import audit
from triage.services.notices import outbox
from triage.services.notices.outbox import handler
from triage.services.referrals import routing
from triage.statements import insert_rows

STEP_DOWN = "open_early_help_referral"


def statutory_routes(rt: Runtime, people: tuple[PersonInput, ...], postcode: str,
                     on: date, *, from_service: str | None = None) -> list[dict[str, str]]:
    """The statutory services whose age range takes the people concerned, each at the instance
    for the family's place. The people concerned are those the stepping-up case's service
    works with (its age range in the profile: a family service's children, an adult
    service's adults); failing that the subjects, failing that everyone on the referral."""
    ages = [age_on(p.date_of_birth, on) for p in _concerned(rt, people, on, from_service)]
    level = rt.profile.step_up_level
    place = rt.profile.place_for(postcode)
    routes = []
    for service in rt.profile.services.values():
        if not service.statutory or not any(_in_range(service.ages, age) for age in ages):
            continue
        if service.instance_from:
            instance = place.column(service.instance_from) if place is not None else None
        else:
            instance = next(iter(service.instances), None)
        if instance in service.instances:
            routes.append({"service": service.id, "instance": instance,
                           "reason": f"Stepped up to {service.name}.",
                           "consent_needed": rules.consent_needed(rt.profile, service.id,
                                                                  level)})
    return routes


def _in_range(ages: dict, age: int) -> bool:
    low, high = ages.get("min"), ages.get("max")
    return (low is None or age >= low) and (high is None or age < high)


def _concerned(rt: Runtime, people: tuple[PersonInput, ...], on: date,
               from_service: str | None) -> list[PersonInput]:
    service = rt.profile.services.get(from_service) if from_service else None
    if service is not None and (service.ages.get("min") is not None
                                or service.ages.get("max") is not None):
        within = [p for p in people if _in_range(service.ages, age_on(p.date_of_birth, on))]
        if within:
            return within
    return [p for p in people if p.role == "subject"] or list(people)


def _step_up(rt: Runtime, session: Session, *, referral: Referral, data: ReferralInput,
             actor: User | None, case: Case, row: CaseEvent) -> None:
    decision = routing.decide(rt, data, referral_date=referral.received_at.date(),
                              open_family_support=None)
    body = routing.decision_body(decision)
    routes = statutory_routes(rt, data.people, data.postcode, referral.received_at.date(),
                              from_service=case.service)
    threshold = rt.profile.levels[rt.profile.step_up_level]
    stepped_up = {
        **body, "level": threshold.number, "level_code": threshold.code,
        "level_name": threshold.name,
        "routes": routes, "needs_review": not routes,
        "review_reasons": [] if routes else [
            "No statutory service in the profile takes the people on this referral."],
        "reasons": [{"rule": "case-step-up", "indicators": [],
                     "text": f"Stepped up from case {case.id} ({case.service}): {row.reason}"},
                    *body["reasons"]],
    }
    common = {"referral_id": referral.id, "ruleset_id": decision.ruleset_id,
              "ruleset_version": decision.ruleset_version}
    insert_rows(session, [
        Decision(kind="engine", level=decision.level, level_code=decision.level_code, body=body,
                 inputs={"referral_date": referral.received_at.date().isoformat(),
                         "open_family_support_instance": None}, **common),
        Decision(kind="override", level=threshold.number, level_code=threshold.code,
                 body=stepped_up, reason=row.reason,
                 decided_by_id=actor.id if actor else None, **common),
    ])
    referral.urgent = decision.urgent
    routing.apply_decision(rt, session, referral=referral, body=stepped_up, actor=actor,
                           announce=False)


@handler("case.open_linked_referral")
def open_linked_referral(session: Session, rt: Any, payload: dict, outbox_id: int) -> None:
    """Open the referral a step-up or step-down names; once per case event."""
    row = session.get(CaseEvent, payload["case_event_id"])
    if row is None or session.exec(select(CaseReferralLink.id).where(
            CaseReferralLink.case_event_id == row.id)).first() is not None:
        return
    case = session.get(Case, row.case_id)
    source = session.get(Referral, case.referral_id)
    actor = session.get(User, row.by_id) if row.by_id is not None else None
    step_down = payload["effect"] == STEP_DOWN
    checklist = rt.profile.checklist
    dropped = checklist.kinds_dropped_on_step_down() if step_down else frozenset()
    answers = {k: v for k, v in source.answers.items()
               if k in checklist.questions and checklist.questions[k].kind not in dropped}
    named = session.exec(
        select(ReferralPerson, Person).join(Person, Person.id == ReferralPerson.person_id)
        .where(ReferralPerson.referral_id == source.id).order_by(ReferralPerson.ref)).all()
    service = rt.profile.services.get(case.service)
    data = ReferralInput(
        channel="staff",
        referrer={"organisation": service.name if service else case.service,
                  "email": actor.email if actor else None},
        postcode=source.postcode,
        people=tuple(PersonInput(ref=rp.ref, role=rp.role, relationship=rp.relationship,
                                 given_name=p.given_name, family_name=p.family_name,
                                 date_of_birth=p.date_of_birth) for rp, p in named),
        answers=answers, consent=source.consent, information_only=False,
        step_down=step_down, concerns=row.reason)
    referral = Referral(
        profile_id=rt.profile.id, checklist_id=checklist.id,
        checklist_version=checklist.version, channel=data.channel,
        referrer_organisation=data.referrer["organisation"],
        referrer_name=actor.name if actor else None, referrer_email=data.referrer["email"],
        submitted_by_id=actor.id if actor else None, postcode=source.postcode,
        household_id=source.household_id, consent=source.consent,
        consent_recorded_at=source.consent_recorded_at, step_down=step_down,
        concerns=row.reason, answers=answers, linked_referral_id=source.id,
        raw_body={"linked_from": {"referral": source.reference, "case_id": case.id,
                                  "case_event_id": row.id, "effect": payload["effect"]}})
    insert_rows(session, [referral])
    referral.reference = rt.profile.reference_for(referral.received_at, referral.id)
    insert_rows(session, [ReferralPerson(referral_id=referral.id, ref=rp.ref,
                                         person_id=rp.person_id, role=rp.role,
                                         relationship=rp.relationship, matched=True)
                          for rp, _ in named])
    audit.record(session, actor=actor, action="referral.create", object_type="referral",
                 object_id=referral.id, channel=data.channel, linked_from=source.id,
                 case_id=case.id, effect=payload["effect"])
    if step_down:
        decided = routing.decide_new(rt, session, data, household_id=referral.household_id,
                                     known_household=True, received_at=referral.received_at,
                                     lock=True)
        referral.status = decided.outcome.status
        referral.urgent = decided.result.urgent
        routing.route_new(rt, session, referral=referral, decided=decided, actor=actor)
    else:
        _step_up(rt, session, referral=referral, data=data, actor=actor, case=case, row=row)
    outbox.enqueue(session, topic="referral.received", payload={"referral_id": referral.id})
    session.execute(update(Referral.__table__).where(Referral.__table__.c.id == referral.id)
                    .values(reference=referral.reference, status=referral.status,
                            urgent=referral.urgent))
    insert_rows(session, [CaseReferralLink(case_id=case.id, case_event_id=row.id,
                                           referral_id=referral.id, kind=payload["effect"])])
