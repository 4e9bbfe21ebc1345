"""After the first decision: recording consent later, and staff overriding level or routes."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlmodel import select

import rules
from triage.errors import Conflict, Forbidden, NotFound, ValidationFailed, flatten_errors
from triage.models import Case, Decision, ReferralStatus, User
from triage.models.base import utcnow
from triage.policy import (
    CLOSE_URGENT_REFERRALS,
    OVERRIDE_DECISIONS,
    RECORD_CONSENT,
    can_view_referral,
    require,
)
from triage.runtime import Runtime
from triage.schemas.decisions import ConsentSchema, close_schema_for, override_schema_for
from triage.schemas.output import ReferralOutSchema
from triage.services import audit
from triage.services.notices import outbox
from triage.services.privacy import visibility
from triage.services.referrals import routing
from triage.services.referrals.intake import find_referral, load_record

_OUT = ReferralOutSchema()


def _load(schema, body: Any) -> dict:
    if not isinstance(body, dict):
        raise ValidationFailed({"_schema": ["The body must be a JSON object."]})
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None


def record_consent(rt: Runtime, *, user: User, reference: str, body: Any) -> dict[str, Any]:
    """Record the person's answer; consent given opens the cases the decision held back."""
    require(user, RECORD_CONSENT, "record consent")
    data = _load(ConsentSchema(), body)
    with rt.db.unit_of_work() as session:
        referral = find_referral(session, reference, profile_id=rt.profile.id,
                                 for_update=True)
        record = load_record(rt, session, referral)
        _may_act_on(rt, session, user, referral, record, reference, "consent")
        if referral.status != ReferralStatus.awaiting_consent:
            raise Conflict(f"Referral {referral.reference} is {referral.status}, not waiting "
                           "for consent.", status=referral.status)
        referral.consent = data["consent"]
        referral.consent_recorded_at = utcnow()
        audit.record(session, actor=user, action="consent.recorded", object_type="referral",
                     object_id=referral.id, consent=data["consent"])
        if data["consent"] == "given":
            chosen = record.override or record.decision
            record.cases = _route_again(rt, session, referral, record.cases, chosen.body, user)
        session.flush()
        ids = outbox.committed_ids(session)
        response = _OUT.dump(record)
    rt.relay.after_commit(ids)
    return response


def override_decision(rt: Runtime, *, user: User, reference: str,
                      body: Any) -> dict[str, Any]:
    """Replace the level and/or routes with a written reason; the engine's decision is kept."""
    require(user, OVERRIDE_DECISIONS, "override triage decisions")
    data = _load(override_schema_for(rt.profile), body)
    _check_routes(rt, data.get("routes"))
    with rt.db.unit_of_work() as session:
        referral = find_referral(session, reference, profile_id=rt.profile.id,
                                 for_update=True)
        record = load_record(rt, session, referral)
        _may_act_on(rt, session, user, referral, record, reference, "override")
        if referral.status == ReferralStatus.closed:
            raise Conflict(f"Referral {referral.reference} is closed; a new referral is needed "
                           "to route the family now.", status=referral.status)
        if record.decision is None:
            raise Conflict(f"Referral {referral.reference} has no decision to override.")
        base = dict((record.override or record.decision).body)
        code = data["level_code"] or routing.level_code_of(base)
        level = rt.profile.level(code)
        if level is None:
            raise Conflict(f"The decision's level {code!r} is no longer one of this council's "
                           "levels: give level_code.")
        if data.get("routes") is None:
            _check_kept_routes(base["routes"])
        relevel = code != routing.level_code_of(base)
        routes = [{**r, "consent_needed": rules.consent_needed(rt.profile, r["service"], code)
                   if relevel or "consent_needed" not in r else r["consent_needed"]}
                  for r in base["routes"]] if data.get("routes") is None else [
            {"service": r["service"], "instance": r["instance"],
             "reason": f"Chosen by {user.email}: {data['reason']}",
             "consent_needed": rules.consent_needed(rt.profile, r["service"], code),
             # A person chose the instance: caseload allocation never moves it.
             **({"allocation": {"home": r["instance"], "outcome": "chosen"}}
                if rt.profile.allocation_for(r["service"]) else {})}
            for r in data["routes"]]
        new_body = {
            **base,
            "level": level.number,
            "level_code": level.code,
            "level_name": level.name,
            "routes": routes,
            "needs_review": False,
            "review_reasons": [],
            "reasons": [{"rule": "staff-override", "text": data["reason"], "indicators": []},
                        *base["reasons"]],
        }
        for previous in session.exec(select(Decision).where(
                Decision.referral_id == referral.id, Decision.kind == "override",
                Decision.current.is_(True))).all():
            previous.current = False
        row = Decision(referral_id=referral.id, kind="override", level=level.number,
                       level_code=level.code, body=new_body,
                       ruleset_id=record.decision.ruleset_id,
                       ruleset_version=record.decision.ruleset_version,
                       decided_by_id=user.id, reason=data["reason"])
        session.add(row)
        audit.record(session, actor=user, action="decision.override", object_type="referral",
                     object_id=referral.id, level=level.code,
                     routes=[f"{r['service']}:{r['instance']}" for r in routes])
        record.override = row
        record.cases = _route_again(rt, session, referral, record.cases, new_body, user)
        session.flush()
        ids = outbox.committed_ids(session)
        response = _OUT.dump(record)
    rt.relay.after_commit(ids)
    return response


def _check_kept_routes(routes: list[dict[str, Any]]) -> None:
    """An override that keeps the decision's routes can open cases only where each route
    names its instance (outside the council's area the engine leaves it to the front door)."""
    unplaced = [r["service"] for r in routes if not r.get("instance")]
    if unplaced:
        raise ValidationFailed({"routes": [
            f"The decision's route to {', '.join(unplaced)} has no instance (the postcode is "
            "outside the council's area): give the routes, each with its instance."]})


# A referral still at the front door: not routed (or returned), or waiting for consent.
CLOSABLE = (ReferralStatus.received, ReferralStatus.needs_review,
             ReferralStatus.awaiting_consent)


def close_referral(rt: Runtime, *, user: User, reference: str, body: Any) -> dict[str, Any]:
    """Close a referral at the front door without a service, for one of the profile's
    reasons (advice given, a duplicate, entered in error...), with a note of what was done.
    It leaves the front door's worklists, and the referrer is told. A referral with an open
    case is closed by its teams, not here (409)."""
    require(user, OVERRIDE_DECISIONS, "close referrals")
    closures = rt.profile.front_door.closures
    if not closures:
        raise Conflict("This council's profile has no front_door.closures, so referrals "
                       "cannot be closed at the front door.")
    data = _load(close_schema_for(closures), body)
    with rt.db.unit_of_work() as session:
        referral = find_referral(session, reference, profile_id=rt.profile.id,
                                 for_update=True)
        record = load_record(rt, session, referral)
        _may_act_on(rt, session, user, referral, record, reference, "close")
        open_cases = [c for c in record.cases if c.closed_at is None]
        if open_cases:
            raise Conflict(
                f"Referral {referral.reference} has open cases "
                f"({', '.join(f'{c.service} case {c.id}' for c in open_cases)}); their teams "
                "close those, not the front door.", status=referral.status)
        if referral.status not in CLOSABLE:
            raise Conflict(f"Referral {referral.reference} is {referral.status}; only a "
                           "referral still at the front door can be closed here.",
                           status=referral.status)
        chosen = record.override or record.decision
        if (referral.urgent or (chosen and routing.statutory(rt, chosen.body))) \
                and user.role not in CLOSE_URGENT_REFERRALS:
            raise Forbidden(f"Referral {referral.reference} is urgent or at the statutory "
                            "threshold: only a manager may close it without a service.")
        referral.status = ReferralStatus.closed
        referral.closed_at = utcnow()
        referral.closure = data["closure"]
        referral.closure_note = data["note"]
        referral.closed_by_id = user.id
        audit.record(session, actor=user, action="referral.closed", object_type="referral",
                     object_id=referral.id, closure=data["closure"])
        outbox.enqueue(session, topic="referral.closed",
                       payload={"referral_id": referral.id, "closure": data["closure"]})
        session.flush()
        ids = outbox.committed_ids(session)
        response = _OUT.dump(record)
    rt.relay.after_commit(ids)
    return response


def _may_act_on(rt: Runtime, session, user: User, referral, record, reference: str,
                what: str) -> None:
    """Only someone who may see a referral may change it. Otherwise the same answer as for a
    missing reference (no probing), and the refusal is audited (committed on its own, since
    the caller's transaction is rolled back by the error)."""
    if (not visibility.hides_referral(session, user, referral)
            and can_view_referral(user, referral, record.cases, rt.profile.teams)):
        return
    audit.record(session, actor=user, action=f"referral.{what}_refused", object_type="referral",
                 object_id=referral.id)
    session.commit()
    raise NotFound(f"No referral with reference {reference}.")


def _check_routes(rt: Runtime, routes: list[dict] | None) -> None:
    errors: dict[str, list[str]] = {}
    for i, route in enumerate(routes or []):
        service = rt.profile.services.get(route["service"])
        if service is None:
            errors[f"routes.{i}.service"] = [
                f"Unknown service; one of: {', '.join(rt.profile.services)}."]
        elif route["instance"] not in service.instances:
            errors[f"routes.{i}.instance"] = [
                f"Unknown instance of {service.id}; one of: {', '.join(service.instances)}."]
    if errors:
        raise ValidationFailed(errors)


def _route_again(rt: Runtime, session, referral, cases: list[Case], body: dict,
                 user: User) -> list[Case]:
    """Open cases for routes that have none open yet (if the referral may be routed). A new
    route that needs consent the family has not given waits, even on a routed referral."""
    have = {(c.service, c.instance) for c in cases if c.closed_at is None}
    missing = [r for r in body["routes"] if (r["service"], r["instance"]) not in have]
    waits = referral.consent != "given" and any(
        routing.route_needs_consent(rt, body, r) for r in missing)
    if waits or referral.status in (ReferralStatus.needs_review,
                                    ReferralStatus.awaiting_consent, ReferralStatus.received):
        # A referral back at the front door after a decline may still have other open cases:
        # open only the routes it lacks, and it is routed again if anything is open.
        opened = routing.apply_decision(rt, session, referral=referral,
                                        body={**body, "routes": missing}, actor=user)
        if have and not opened and referral.status == ReferralStatus.needs_review:
            referral.status = ReferralStatus.routed
        return cases + opened
    return cases + routing.open_cases(rt, session, referral=referral, routes=missing,
                                      actor=user, allocate=True)
