"""Deciding a referral with the rules engine and turning its routes into cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import EllipsisType
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

import rules
from triage.models import Case, CaseEvent, Decision, Referral, ReferralStatus, User
from triage.models.base import utcnow
from triage.runtime import Runtime
from triage.schemas.referral import ReferralInput
from triage.services import audit
from triage.services.cases.case_dues import CaseView, columns_for
from triage.services.notices import outbox
from triage.services.referrals import allocation
from triage.statements import BySize, Row, in_list, new_rows

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
        units=rt.profile.localities.columns,
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


@dataclass(frozen=True)
class Outcome:
    """What a decision body means for the referral: its status, the routes whose cases open
    now, and whether any open without the family's consent (a statutory route whose level
    does not need it; audited). Routes that need consent wait until it is given."""

    status: str
    open: tuple[dict[str, Any], ...] = ()
    consent_bypassed: bool = False

    @property
    def opens(self) -> bool:
        return bool(self.open)


def level_code_of(body: dict[str, Any]) -> str:
    """A decision body's level code (a body stored before level codes has only its number)."""
    return str(body.get("level_code", body.get("level")))


def route_needs_consent(rt: Runtime, body: dict[str, Any], route: dict[str, Any]) -> bool:
    """Whether a route waits for consent: as the decision recorded it, or (for a body stored
    before routes carried it) as its service and the decision's level say."""
    if "consent_needed" in route:
        return bool(route["consent_needed"])
    return rules.consent_needed(rt.profile, route["service"], level_code_of(body))


def outcome_of(rt: Runtime, body: dict[str, Any], consent: str) -> Outcome:
    """Early help is voluntary: a route that needs consent opens only once it is given. A
    route that does not (a statutory hand-off at a level whose consent is not required) opens
    at once; the referral waits for consent while any of its routes still need it."""
    if body.get("needs_review"):
        return Outcome(ReferralStatus.needs_review)
    routes = body["routes"]
    if not routes:
        return Outcome(ReferralStatus.needs_review)
    if consent == "given":
        return Outcome(ReferralStatus.routed, open=tuple(routes))
    now = tuple(r for r in routes if not route_needs_consent(rt, body, r))
    status = ReferralStatus.routed if len(now) == len(routes) else \
        ReferralStatus.awaiting_consent
    return Outcome(status, open=now, consent_bypassed=bool(now))


@dataclass(frozen=True)
class Decided:
    """The engine's decision on a new referral, made before the referral is written."""

    result: Any
    body: dict[str, Any]
    inputs: dict[str, Any]  # facts known only at decision time, so it can be re-run
    outcome: Outcome

    @property
    def cases_to_open(self) -> int:
        """How many cases route_new opens for it (one per route that may open now)."""
        return len(self.outcome.open)


def decide_new(rt: Runtime, session: Session, data: ReferralInput, *, household_id: int | None,
               known_household: bool, received_at: datetime, lock: bool = False,
               open_family_support: str | None | EllipsisType = ...) -> Decided:
    """Decide a referral being recorded (its household's open family-support case counts),
    with each balanced service's case allocated as it would open now (allocation). `lock`: a
    writer that opens the cases in this transaction (intake), not a preview.
    `open_family_support`: that case's instance when the caller has read it already
    (known_family), else (`...`) it is read here."""
    if open_family_support is ...:
        open_family_support = open_family_support_instance(
            session, household_id, rt.profile.family_support_services) \
            if known_household else None
    result = decide(rt, data, referral_date=received_at.date(),
                    open_family_support=open_family_support)
    body = decision_body(result)
    if rt.profile.allocation:
        opening = {r["service"] for r in outcome_of(rt, body, data.consent).open}
        body["routes"] = allocation.allocate_routes(
            rt, session, body["routes"], household_id=household_id if known_household else None,
            lock=lock and bool(opening & {a.service for a in rt.profile.allocation}))
    return Decided(result=result, body=body,
                   inputs={"referral_date": received_at.date().isoformat(),
                           "open_family_support_instance": open_family_support},
                   outcome=outcome_of(rt, body, data.consent))


def route_new(rt: Runtime, session: Session, *, referral: Referral | Row, decided: Decided,
              actor: User | None, case_keys: list[int] | None = None
              ) -> tuple[Row, list[Row]]:
    """Store a new referral's decision and open the cases it routes to, if it may (with
    `case_keys`, taken beforehand with next_keys, one per route, when it opens them)."""
    # Nothing reads the decision's key, so it goes in with the next write (see later()).
    row = new_rows(session, Decision, [{
        "referral_id": referral.id, "kind": "engine", "level": decided.result.level,
        "level_code": decided.result.level_code, "body": decided.body, "inputs": decided.inputs,
        "ruleset_id": decided.result.ruleset_id,
        "ruleset_version": decided.result.ruleset_version}], ids=False)[0]
    # The routes were allocated when the referral was decided, in this transaction.
    cases = _carry_out(rt, session, referral=referral, body=decided.body,
                       outcome=decided.outcome, actor=actor, announce=False, keys=case_keys,
                       allocate=False)
    return row, cases


def open_family_support_instance(session: Session, household_id: int | None,
                                 services: tuple[str, ...]) -> str | None:
    """The instance of the household's most recently opened family-support case, if open."""
    if household_id is None or not services:
        return None
    size, params = in_list("s", services)
    found = _OPEN_CASE_AT[size].first(session, {**params, "household_id": household_id})
    return found[0] if found else None


def open_support_instance(case: Any, household_id: Any, services: int) -> Any:
    """The query for the instance of a household's most recently opened case still open of
    one of `services` services (binds s0..s{n-1}), on `case` (case_record or an alias of it)
    for `household_id` (a bind, or a household column to correlate with)."""
    return (select(case.c.instance)
            .where(case.c.household_id == household_id, case.c.closed_at.is_(None),
                   case.c.service.in_([bindparam(f"s{i}") for i in range(services)]))
            .order_by(case.c.opened_at.desc(), case.c.id.desc()).limit(1))


_CASE = Case.__table__
_OPEN_CASE_AT = BySize(lambda n: open_support_instance(_CASE, bindparam("household_id"), n))


def statutory(rt: Runtime, body: dict[str, Any]) -> bool:
    """At a statutory level, or routed to a statutory service."""
    level = rt.profile.level(level_code_of(body))
    return (level is not None and level.statutory) or any(
        rt.profile.services[r["service"]].statutory for r in body["routes"]
        if r["service"] in rt.profile.services)


def apply_decision(rt: Runtime, session: Session, *, referral: Referral, body: dict[str, Any],
                   actor: User | None, announce: bool = True) -> list[Row]:
    """Set a recorded referral's status from a decision body and open its cases when it
    may (see outcome_of); a balanced service's case is allocated as it opens (consent
    recorded now: its team's load now, not at intake)."""
    outcome = outcome_of(rt, body, referral.consent)
    referral.status = outcome.status
    return _carry_out(rt, session, referral=referral, body=body, outcome=outcome, actor=actor,
                      announce=announce)


def _carry_out(rt: Runtime, session: Session, *, referral: Referral | Row,
               body: dict[str, Any], outcome: Outcome, actor: User | None,
               announce: bool, keys: list[int] | None = None,
               allocate: bool = True) -> list[Row]:
    if outcome.consent_bypassed:
        audit.record(session, actor=actor, action="consent.bypassed", object_type="referral",
                     object_id=referral.id, basis="consent_not_required",
                     level=level_code_of(body),
                     routes=[f"{r['service']}:{r['instance']}" for r in outcome.open],
                     rules=[r["rule"] for r in body["reasons"]])
    if not outcome.opens:
        return []
    return open_cases(rt, session, referral=referral, routes=list(outcome.open), actor=actor,
                      announce=announce, keys=keys[:len(outcome.open)] if keys else keys,
                      allocate=allocate)


def open_cases(rt: Runtime, session: Session, *, referral: Referral | Row,
               routes: list[dict[str, Any]], actor: User | None,
               announce: bool = True, keys: list[int] | None = None,
               allocate: bool = False) -> list[Row]:
    """Open one case per routed instance (with `keys`, one per route, taken beforehand).
    With announce, the teams are told through the outbox; at intake the referral.received
    message tells them instead (one message). With allocate, a balanced service's route is
    allocated now (see allocation)."""
    if allocate and rt.profile.allocation:
        routes = allocation.allocate_routes(rt, session, routes,
                                            household_id=referral.household_id, lock=True)
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
        cases.append({"referral_id": referral.id, "household_id": referral.household_id,
                      "service": route["service"], "instance": route["instance"],
                      "state": pathway.initial_state, "opened_at": now, **due.as_values()})
    if keys is not None:
        for case, key in zip(cases, keys, strict=True):
            case["id"] = key
    cases = new_rows(session, Case, cases)
    new_rows(session, CaseEvent, [
        {"case_id": case.id, "from_state": None, "to_state": case.state, "event": "open",
         "by_id": actor.id if actor else None, "by_label": actor.email if actor else SYSTEM,
         "at": now, "reason": route.get("reason")}
        for case, route in zip(cases, routes, strict=True)], ids=False)
    if cases and announce:
        outbox.enqueue(session, topic="cases.opened",
                       payload={"case_ids": [c.id for c in cases]})
    return cases
