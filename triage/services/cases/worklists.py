"""Case worklists for the API: a team's cases, soonest due first, filtered by service,
instance, state and whether they are overdue; each listing is audited (the case ids shown)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, or_
from sqlmodel import select

from triage.errors import Forbidden, ValidationFailed, flatten_errors
from triage.models import Case, Referral, User
from triage.models.base import utcnow
from triage.policy import (
    LIST_ANY_TEAMS_CASES,
    can_list_worker_cases,
    can_see_caseloads,
    team_of,
)
from triage.runtime import Runtime
from triage.schemas.cases import CaseListQuerySchema, CaseListSchema
from triage.services import audit, paging
from triage.services.privacy import visibility

_LIST = CaseListSchema()


def _query(args: dict[str, str], schema) -> dict[str, Any]:
    try:
        return schema.load(args)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None


def _scope(rt: Runtime, user: User, query: dict[str, Any]
           ) -> tuple[str | None, tuple[str, ...] | None]:
    """The service and the instances (None: all of them) the caller may list: their own
    team's (a service, an instance, or several instances of one service; `instance` narrows
    it to one of them) unless their role may list any team's."""
    service, instance = query["service"], query["instance"]
    if query["team"] is not None:
        return _team_scope(rt, user, query)
    if user.role not in LIST_ANY_TEAMS_CASES:
        team = team_of(user, rt.profile.teams)
        if user.role == "partner" or team is None or team.service not in rt.profile.services:
            raise Forbidden("Your account works no service team; partners list their referrals "
                            "with GET /api/v1/referrals?mine=1.")
        if service not in (None, team.service) or (
                instance is not None and not team.covers(team.service, instance)):
            raise Forbidden("You may list the cases of your own team "
                            f"({rt.profile.teams.name(user.team) or 'none'}) only.")
        if instance is not None:
            return _checked(rt, query, team.service, (instance,))
        service, instances = team.service, team.instance_filter
        return _checked(rt, query, service, instances)
    return _checked(rt, query, service, (instance,) if instance is not None else None)


def _team_scope(rt: Runtime, user: User, query: dict[str, Any]
                ) -> tuple[str | None, tuple[str, ...] | None]:
    """team=<id>: one of the profile's teams (its service and instances); staff who may not
    list any team's cases name their own."""
    team = rt.profile.teams.get(query["team"])
    if team is None or team.service is None:
        raise ValidationFailed({"team": [rt.profile.teams.refusal(query["team"])]})
    if query["service"] is not None or query["instance"] is not None:
        raise ValidationFailed({"team": ["Give team, or service and instance, not both."]})
    if user.role not in LIST_ANY_TEAMS_CASES and (user.role == "partner"
                                                   or query["team"] != user.team):
        raise Forbidden("You may list the cases of your own team "
                        f"({rt.profile.teams.name(user.team) or 'none'}) only.")
    return _checked(rt, query, team.service, team.instance_filter)


def _checked(rt: Runtime, query: dict[str, Any], service: str | None,
             instances: tuple[str, ...] | None) -> tuple[str | None, tuple[str, ...] | None]:
    errors: dict[str, list[str]] = {}
    if service is not None and service not in rt.profile.services:
        errors["service"] = [f"Unknown service; one of: {', '.join(rt.profile.services)}."]
    elif instances is not None:
        if service is None:
            errors["instance"] = ["Give the service too."]
        elif any(i not in rt.profile.services[service].instances for i in instances):
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
    return service, instances


def _worker_filter(user: User, query: dict[str, Any]) -> int | None:
    """worker=me (the caller's caseload) or worker=<id> (managers and admins): whose cases."""
    given = query["worker"]
    if given is None:
        return None
    worker_id = user.id if given == "me" else int(given)
    if not can_list_worker_cases(user, worker_id):
        raise Forbidden("You may list your own caseload (worker=me); managers list another "
                        "worker's.")
    return worker_id


def workers_by_id(session, ids) -> dict[int, dict[str, Any]]:
    """{id: {"id", "name"}} for the named workers of a page of cases, in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(User.id, User.name, User.email).where(User.id.in_(wanted)))
    return {i: {"id": i, "name": name or email} for i, name, email in rows}


def list_cases(rt: Runtime, *, user: User, args: dict[str, str],
               count_cap: int | None = None) -> dict[str, Any]:
    """A team's worklist: open cases (or those in `state`), soonest due first and those with
    nothing due last, overdue ones only with overdue=1; worker=me narrows it to the caller's
    caseload (worker=<id> to a worker's, for managers). `total` counts the matching cases up
    to `count_cap` (paging.COUNT_CAP unless given; `total_capped` when there are more); a
    page starts after the `next` of the previous one (`after`), or at an `offset`. The list
    (which case ids were shown) is audited."""
    query = _query(args, CaseListQuerySchema())
    cursor = paging.parse_cursor(query["after"])
    if cursor is not None and query["offset"]:
        raise ValidationFailed({"after": ["Give after or offset, not both."]})
    worker_id = _worker_filter(user, query)
    service, instances = _scope(rt, user, query)
    if service and instances is None and len(rt.profile.services[service].instances) == 1:
        # A one-team service (one instance for the whole area): naming its instance lets the
        # team's index hand its cases over in due order.
        instances = tuple(rt.profile.services[service].instances)
    now = utcnow()
    matching = []
    if service:
        matching.append(Case.service == service)
    if instances is not None and len(instances) == 1:
        matching.append(Case.instance == instances[0])
    elif instances is not None:
        # A team of several instances (a footprint's planning areas): one query with IN,
        # read from ix_case_team_open_due per instance and merged by due date.
        matching.append(Case.instance.in_(instances))
    if worker_id is not None:
        matching.append(Case.worker_id == worker_id)
    with rt.db.reader() as session:
        hidden = visibility.hidden_for(session, user)
    if hidden.cases:
        matching.append(Case.id.not_in(hidden.cases))
    if query["state"]:
        matching.append(Case.state == query["state"])
    else:
        matching.append(Case.closed_at.is_(None))
    dated = [Case.next_due_at.is_not(None)]
    undated = [Case.next_due_at.is_(None)]
    if query["overdue"] is True:
        matching.append(Case.next_due_at <= now)
    elif query["overdue"] is False:
        matching.append(or_(Case.next_due_at.is_(None), Case.next_due_at > now))
        dated.append(Case.next_due_at > now)  # implied by `matching`; said as a range to seek
    # Dated cases then undated ones, read apart: one ORDER BY putting NULLs last would need a
    # sort of every matching case (SQLite's index keeps NULLs first, PostgreSQL's last).
    # closed_at (NULL throughout an open list) is named in the ORDER BY because PostgreSQL does
    # not count `closed_at IS NULL` as fixing it, and would otherwise sort instead of reading
    # ix_case_team_open_due (service, instance, closed_at, next_due_at, id) in order.
    order = ([] if query["state"] else [Case.closed_at]) + [Case.next_due_at, Case.id]
    page = (select(Case, Referral.reference, Referral.urgent)
            .join(Referral, Referral.id == Case.referral_id).where(*matching)
            .order_by(*order))
    offset, limit = query["offset"], query["limit"]
    wanted = limit + 1  # one more than the page: whether there is a next page
    with rt.db.unit_of_work() as session:
        total = paging.capped_count(session, matching, Case, count_cap)
        if cursor is not None and cursor.moment is None:
            rows = list(session.exec(page.where(*undated, Case.id > cursor.id)
                                     .limit(wanted)).all())
        else:
            seek = [paging.after(Case.next_due_at, Case.id, cursor)] if cursor else []
            rows = list(session.exec(page.where(*dated, *seek).offset(offset)
                                     .limit(wanted)).all())
            if len(rows) < wanted:
                skip = 0
                if offset and not rows:
                    # Past the dated cases: how many there are says where the undated start.
                    dated_total = session.exec(select(func.count()).select_from(Case)
                                               .where(*matching, *dated)).one()
                    skip = max(0, offset - dated_total)
                rows += session.exec(page.where(*undated).offset(skip)
                                     .limit(wanted - len(rows))).all()
        more = len(rows) > limit
        rows = rows[:limit]
        audit.record(session, actor=user, action="case.list", object_type="case",
                     object_id=f"{service or '*'}:{_instances_label(instances)}"[:64],
                     instances=list(instances) if instances and len(instances) > 1 else None,
                     state=query["state"], overdue=query["overdue"], worker=worker_id,
                     case_ids=[c.id for c, _, _ in rows])
        workers = workers_by_id(session, [c.worker_id for c, _, _ in rows])
    items = [{"case": c, "reference": ref, "urgent": urgent,
              "worker": workers.get(c.worker_id),
              "status": rt.pathways.for_service(c.service).status_of(c.state),
              "overdue": c.next_due_at is not None and c.next_due_at <= now}
             for c, ref, urgent in rows]
    last = rows[-1][0] if rows else None
    return _LIST.dump({
        "cases": items, "total": total.n, "total_capped": total.more, "limit": limit,
        "offset": offset,
        "next_offset": offset + len(items) if more and cursor is None else None,
        "next": paging.cursor_after(last.next_due_at, last.id) if more and last else None})


def _instances_label(instances: tuple[str, ...] | None) -> str:
    """The audit row's object_id part for the instances listed (the list itself is in
    the detail when there are several)."""
    if instances is None:
        return "*"
    return instances[0] if len(instances) == 1 else f"{len(instances)} instances"


def caseloads(rt: Runtime, *, user: User, team: str) -> list[dict[str, Any]]:
    """A team's open cases (any team of the profile: a service, an instance, several
    instances) counted per named worker (most first), then those unassigned
    ({"worker": None}); for the team's managers. Audited (counts, no case ids)."""
    found = rt.profile.teams.get(team)
    if found is None or found.service is None:
        raise ValidationFailed({"team": [rt.profile.teams.refusal(team)]})
    if not can_see_caseloads(user, found, rt.profile.teams):
        raise Forbidden("Only the team's managers see its caseloads.")
    matching = [Case.service == found.service, Case.closed_at.is_(None)]
    if found.instance_filter is not None:
        matching.append(Case.instance.in_(found.instance_filter))
    with rt.db.unit_of_work() as session:
        rows = session.exec(select(Case.worker_id, func.count()).where(*matching)
                            .group_by(Case.worker_id)).all()
        workers = workers_by_id(session, [w for w, _ in rows])
        audit.record(session, actor=user, action="case.caseloads", object_type="case",
                     object_id=found.id[:64])
    named = sorted(({"worker": workers.get(w, {"id": w, "name": str(w)}), "open": n}
                    for w, n in rows if w is not None),
                   key=lambda row: (-row["open"], row["worker"]["name"]))
    unassigned = sum(n for w, n in rows if w is None)
    return [*named, {"worker": None, "open": unassigned}]
