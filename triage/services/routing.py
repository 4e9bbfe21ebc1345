"""Deciding a referral with the rules engine and turning its routes into cases."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

import rules
from triage.db import insert_rows
from triage.models import Case, CaseEvent, Decision, Referral, ReferralStatus, User
from triage.models.base import utcnow
from triage.runtime import Runtime
from triage.schemas.referral import ReferralInput
from triage.services import audit, outbox
from triage.services.case_dues import CaseView, columns_for
from triage.services.matching import open_cases_for_household

SYSTEM = "triage (automatic)"


def facts_for(rt: Runtime, data: ReferralInput, *, referral_date: date,
              open_family_support: str | None) -> Any:
    return rules.derive_facts(
        rt.profile.checklist,
        answers=data.answers,
        people=[rules.Person(role=p.role, date_of_birth=p.date_of_birth,
                             relationship=p.relationship) for p in data.people],
        referral_date=referral_date,
        place=rt.profile.place_for(data.postcode),
        information_only=data.information_only,
        step_down=data.step_down,
        open_family_support_instance=open_family_support,
    )


def decide(rt: Runtime, data: ReferralInput, *, referral_date: date,
           open_family_support: str | None) -> Any:
    return rt.ruleset.evaluate(facts_for(rt, data, referral_date=referral_date,
                                         open_family_support=open_family_support))


def decision_body(decision: Any) -> dict[str, Any]:
    return rules.decision_as_dict(decision)


def decide_and_route(rt: Runtime, session: Session, *, referral: Referral, data: ReferralInput,
                     actor: User | None, known_household: bool = True
                     ) -> tuple[Decision, list[Case]]:
    """Store the engine's decision and open the cases it routes to, if it may."""
    family_cases = open_cases_for_household(session, referral.household_id,
                                            rt.profile.family_support_services) \
        if known_household else []
    open_family_support = family_cases[0].instance if family_cases else None
    decision = decide(rt, data, referral_date=referral.received_at.date(),
                      open_family_support=open_family_support)
    body = decision_body(decision)
    row = Decision(referral_id=referral.id, kind="engine", level=decision.level, body=body,
                   inputs={"referral_date": referral.received_at.date().isoformat(),
                           "open_family_support_instance": open_family_support},
                   ruleset_id=decision.ruleset_id, ruleset_version=decision.ruleset_version)
    insert_rows(session, [row])
    referral.urgent = decision.urgent
    cases = apply_decision(rt, session, referral=referral, body=body, actor=actor,
                           announce=False)
    return row, cases


def statutory(rt: Runtime, body: dict[str, Any]) -> bool:
    return any(rt.profile.services[r["service"]].statutory for r in body["routes"]
               if r["service"] in rt.profile.services)


def apply_decision(rt: Runtime, session: Session, *, referral: Referral, body: dict[str, Any],
                   actor: User | None, announce: bool = True) -> list[Case]:
    """Set the referral's status from a decision body and open its cases when it may.

    Early help is voluntary: below the statutory threshold nothing is routed without consent.
    At the statutory threshold the referral proceeds without it, and that is audited.
    """
    if body.get("needs_review"):
        referral.status = ReferralStatus.needs_review
        return []
    needs_consent = not statutory(rt, body)
    if needs_consent and referral.consent != "given":
        referral.status = ReferralStatus.awaiting_consent
        return []
    if not needs_consent and referral.consent != "given":
        audit.record(session, actor=actor, action="consent.bypassed", object_type="referral",
                     object_id=referral.id, basis="safeguarding",
                     rules=[r["rule"] for r in body["reasons"]])
    cases = open_cases(rt, session, referral=referral, routes=body["routes"], actor=actor,
                       announce=announce)
    referral.status = ReferralStatus.routed if cases else ReferralStatus.needs_review
    return cases


def open_cases(rt: Runtime, session: Session, *, referral: Referral,
               routes: list[dict[str, Any]], actor: User | None,
               announce: bool = True) -> list[Case]:
    """Open one case per routed instance. With announce, the teams are told through the
    outbox; at intake the referral.received message tells them instead (one message)."""
    cases = []
    now = utcnow()
    for route in routes:
        pathway = rt.pathways.for_service(route["service"])
        # What is due from the opening (first contact, the next hub meeting...): the worklist
        # and the escalation sweep read these columns, never the history.
        opened = CaseView(state=pathway.initial_state, opened_at=now, instance=route["instance"],
                          history=[pathway.opening(actor=SYSTEM, at=now)])
        due = columns_for(pathway, opened, calendar=rt.pathways.calendar, now=now,
                          escalated_at=None)
        cases.append(Case(referral_id=referral.id, household_id=referral.household_id,
                          service=route["service"], instance=route["instance"],
                          state=pathway.initial_state, opened_at=now, **due.as_values()))
    insert_rows(session, cases)
    insert_rows(session, [
        CaseEvent(case_id=case.id, from_state=None, to_state=case.state, event="open",
                  by_id=actor.id if actor else None, by_label=actor.email if actor else SYSTEM,
                  at=now, reason=route.get("reason"))
        for case, route in zip(cases, routes, strict=True)])
    if cases and announce:
        outbox.enqueue(session, topic="cases.opened",
                       payload={"case_ids": [c.id for c in cases]})
    return cases
