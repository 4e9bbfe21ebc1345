"""A hub allocation to a lead agency that is one of the profile's services: a linked case for
that service's team in the family's area, opened with the allocation."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, select

from triage.models import Case, CaseEvent, Referral, User
from triage.runtime import Runtime
from triage.services import audit
from triage.services.referrals import routing
from triage.statements import Row

OPEN_EFFECT = "open_lead_agency_case"


def lead_agency_service(rt: Runtime, code: str | None) -> str | None:
    """The profile's service that is this lead agency (pathways.yaml lead_agency_services)."""
    return rt.pathways.data.lead_agency_services.get(code) if code else None


def linked_case(session: Session, case: Case, service: str) -> Case | None:
    """The open case a hub case's allocation opened for `service`, if any."""
    return session.exec(select(Case).where(Case.source_case_id == case.id,
                                           Case.service == service,
                                           Case.closed_at.is_(None))).first()


def open_lead_agency_case(rt: Runtime, session: Session, *, case: Case, row: CaseEvent,
                          actor: User) -> Row | Case | None:
    """In the allocation's transaction: open the lead agency's case at the instance for the
    family's place (as routing would), linked to the hub's case. None when the agency is not
    one of our services, the family's place gives no instance of it (the hub passes the
    papers on, as for an outside agency), or the linked case is already open. Its team is
    told by the notify_lead_agency effect."""
    service_id = lead_agency_service(rt, (row.payload or {}).get("lead_agency"))
    if service_id is None:
        return None
    existing = linked_case(session, case, service_id)
    if existing is not None:
        return existing
    referral = session.get(Referral, case.referral_id)
    service = rt.profile.services[service_id]
    place = rt.profile.place_for(referral.postcode)
    if service.instance_from:
        instance = place.column(service.instance_from) if place is not None else None
    else:
        instance = next(iter(service.instances), None)
    if instance not in service.instances:
        return None
    hub = rt.profile.team_name(f"{case.service}:{case.instance}")
    # announce=False: the allocation's notify_lead_agency effect tells the team, with why.
    (opened,) = routing.open_cases(rt, session, referral=referral, actor=actor, announce=False,
                                   routes=[{
        "service": service_id, "instance": instance,
        "reason": f"Allocated by {hub} as lead agency (case {case.id})."}])
    session.execute(update(Case.__table__).where(Case.__table__.c.id == opened.id)
                    .values(source_case_id=case.id))
    audit.record(session, actor=actor, action="case.lead_agency_opened", object_type="case",
                 object_id=opened.id, source_case_id=case.id, service=service_id)
    return opened
