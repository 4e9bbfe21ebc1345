"""Case worklists for the API: a team's cases, soonest due first, filtered by service,
instance, state and whether they are overdue; each listing is audited (the case ids shown)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import case as sql_case
from sqlmodel import select

from triage.errors import Forbidden, ValidationFailed, flatten_errors
from triage.models import Case, Referral, User
from triage.models.base import utcnow
from triage.policy import LIST_ANY_TEAMS_CASES, team_of
from triage.runtime import Runtime
from triage.schemas.cases import CaseListQuerySchema, CaseListSchema
from triage.services import audit

_LIST = CaseListSchema()


def _query(args: dict[str, str], schema) -> dict[str, Any]:
    try:
        return schema.load(args)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None


def _scope(rt: Runtime, user: User, query: dict[str, Any]) -> tuple[str | None, str | None]:
    """The service and instance the caller may list: their own team's unless their role may
    list any team's."""
    service, instance = query["service"], query["instance"]
    if user.role not in LIST_ANY_TEAMS_CASES:
        own_service, own_instance = team_of(user)
        if user.role == "partner" or own_service not in rt.profile.services:
            raise Forbidden("Your account works no service team; partners list their referrals "
                            "with GET /api/v1/referrals?mine=1.")
        if service not in (None, own_service) or (own_instance and instance not in
                                                   (None, own_instance)):
            raise Forbidden(f"You may list the cases of your own team ({user.team}) only.")
        service, instance = own_service, instance or own_instance
    errors: dict[str, list[str]] = {}
    if service is not None and service not in rt.profile.services:
        errors["service"] = [f"Unknown service; one of: {', '.join(rt.profile.services)}."]
    elif instance is not None:
        if service is None:
            errors["instance"] = ["Give the service too."]
        elif instance not in rt.profile.services[service].instances:
            errors["instance"] = [f"Unknown instance of {service}; one of: "
                                  f"{', '.join(rt.profile.services[service].instances)}."]
    state = query["state"]
    if state is not None and not errors:
        known = (rt.pathways.for_service(service).states if service
                 else {s for p in rt.pathways for s in p.states})
        if state not in known:
            errors["state"] = [f"Unknown state; one of: {', '.join(sorted(known))}."]
    if errors:
        raise ValidationFailed(errors)
    return service, instance


def list_cases(rt: Runtime, *, user: User, args: dict[str, str]) -> dict[str, Any]:
    """A team's worklist: open cases (or those in `state`), soonest due first, overdue ones
    only with overdue=1. The list (which case ids were shown) is audited."""
    query = _query(args, CaseListQuerySchema())
    service, instance = _scope(rt, user, query)
    now = utcnow()
    stmt = (select(Case, Referral.reference, Referral.urgent)
            .join(Referral, Referral.id == Case.referral_id))
    if service:
        stmt = stmt.where(Case.service == service)
    if instance:
        stmt = stmt.where(Case.instance == instance)
    if query["state"]:
        stmt = stmt.where(Case.state == query["state"])
    else:
        stmt = stmt.where(Case.closed_at.is_(None))
    if query["overdue"] is True:
        stmt = stmt.where(Case.next_due_at <= now)
    elif query["overdue"] is False:
        stmt = stmt.where((Case.next_due_at.is_(None)) | (Case.next_due_at > now))
    stmt = (stmt.order_by(sql_case((Case.next_due_at.is_(None), 1), else_=0),
                          Case.next_due_at, Case.id)
            .offset(query["offset"]).limit(query["limit"]))
    with rt.db.unit_of_work() as session:
        rows = session.exec(stmt).all()
        audit.record(session, actor=user, action="case.list", object_type="case",
                     object_id=f"{service or '*'}:{instance or '*'}",
                     state=query["state"], overdue=query["overdue"],
                     case_ids=[c.id for c, _, _ in rows])
    items = [{"case": c, "reference": ref, "urgent": urgent,
              "status": rt.pathways.for_service(c.service).status_of(c.state),
              "overdue": c.next_due_at is not None and c.next_due_at <= now}
             for c, ref, urgent in rows]
    return _LIST.dump({"cases": items, "limit": query["limit"], "offset": query["offset"],
                       "next_offset": query["offset"] + len(items)
                       if len(items) == query["limit"] else None})
