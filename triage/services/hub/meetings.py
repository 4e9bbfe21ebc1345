"""A pathway's meeting (pathways.yaml `meeting:`, in the default profile the hubs' monthly
meetings): the queue of its team's cases, the next meeting and its papers, and recording each
decision at the meeting (through the case service's events). Its states, events and fields
are the profile's; a profile whose pathways have no meeting has none of this (NotFound)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_

from triage.errors import Forbidden, NotFound, ValidationFailed
from triage.models import Role, User
from triage.policy import HUB_PAGES, require, team_of
from triage.runtime import Runtime
from triage.services import paging
from triage.services.cases import casework
from triage.services.paging import Listed
from workflows.calendar import nth_weekday
from workflows.specs import MeetingSpec, PathwaySpec
from workflows.timescales import next_meeting

# Each of the queue's lists shows this many, soonest due first (a hub plans a meeting of a few
# dozen cases; the team's case list pages through the rest).
QUEUE_PAGE = 50
# The meeting pack's cases per page (each is a printed page of its own, and about 2.5 ms to
# prepare): a long agenda is printed a page of them at a time.
PACK_PAGE = 20


@dataclass(frozen=True)
class Meeting:
    hub: str
    service: str
    date: date
    papers_by: date
    next_planned: date


def meeting_pathway(rt: Runtime) -> PathwaySpec | None:
    """The pathway that has a meeting (the loader allows one), or None: no meeting pages,
    menu items or coordinator role."""
    found = rt.pathways.data.meeting_pathways
    return found[0] if found else None


def has_meetings(rt: Runtime) -> bool:
    return meeting_pathway(rt) is not None


def spec_of(rt: Runtime, service: str) -> MeetingSpec:
    """The meeting of this service's pathway (NotFound when it has none)."""
    pathway = rt.pathways.data.pathways.get(service)
    if pathway is None or pathway.meeting is None:
        raise NotFound("This council's profile has no meetings.")
    return pathway.meeting


def hub_for(rt: Runtime, user: User, requested: str | None) -> tuple[str, str]:
    """(service, instance) of the meeting the user coordinates; managers and admins choose.
    NotFound when no pathway has a meeting (the pages do not exist), before any role check."""
    pathway = meeting_pathway(rt)
    if pathway is None:
        raise NotFound("This council's profile has no meetings.")
    team = rt.profile.texts["meeting_team"]
    require(user, HUB_PAGES, f"coordinate a {team.lower()}")
    service = pathway.service
    instances = list(rt.profile.services[service].instances)
    own = team_of(user, rt.profile.teams)
    if user.role == Role.hub_coordinator:
        if own is None or own.service != service or own.single_instance not in instances:
            raise Forbidden(f"Your account is not the coordinator of a {team.lower()}.")
        return service, own.single_instance
    return service, requested if requested in instances else instances[0]


def meeting(rt: Runtime, *, service: str, hub: str, today: date) -> Meeting:
    """The hub's meeting on or after today (the one to run or prepare) and the next one whose
    papers have not gone out (where a case added today is discussed)."""
    data = rt.pathways.data
    rule = data.meetings_by_instance.get(hub, data.meetings_default)
    calendar = rt.pathways.calendar
    this_month = nth_weekday(today.year, today.month, rule.weekday, rule.nth)
    while not calendar.is_working_day(this_month):
        this_month += timedelta(days=1)
    upcoming = this_month if this_month >= today else next_meeting(today, rule, calendar)
    planned = next_meeting(today, rule, calendar)
    return Meeting(hub=hub, service=service, date=upcoming,
                   papers_by=calendar.add_working_days(upcoming, -rule.papers_working_days),
                   next_planned=planned)


def queue(rt: Runtime, *, user: User, service: str, hub: str) -> dict[str, dict[str, Any]]:
    """The hub's open cases by state (the meeting's new, agenda, discussed and listed states):
    the first QUEUE_PAGE, soonest due first, and how many there are in all, counted up to the
    cap ({"cases": [...], "total": n, "more": whether there are more than n}); each list read
    is audited."""
    out = {}
    for state in spec_of(rt, service).queue_states:
        listing = casework.list_cases(rt, user=user, args={"service": service, "instance": hub,
                                                        "state": state,
                                                        "limit": str(QUEUE_PAGE)})
        out[state] = {"cases": listing["cases"], "total": listing["total"],
                      "more": listing["total_capped"]}
    return out


def pack(rt: Runtime, *, user: User, service: str, hub: str, after: str | None = None,
         page_size: int | None = None) -> Listed:
    """The meeting pack, a page of PACK_PAGE cases at a time (soonest due first, starting after
    the cursor `after`): each case on the agenda with its referral (who, what was asked, the
    decision and reasons), read in one transaction with a fixed number of queries; how many
    are on the agenda (up to the count cap); and where the next page starts. Each case and
    referral view is audited."""
    from sqlmodel import select

    from triage.models import Case, Decision, Person, Referral, ReferralPerson
    from triage.policy import can_view_case
    from triage.schemas.output import ReferralOutSchema
    from triage.services import audit
    from triage.services.privacy import visibility
    from triage.services.referrals import re_referral
    from triage.services.referrals.intake import ReferralRecord

    require(user, HUB_PAGES, "read a meeting pack")
    agenda_state = spec_of(rt, service).agenda
    page_size = page_size or PACK_PAGE
    cursor = paging.parse_cursor(after)
    out = []
    with rt.db.unit_of_work() as session:
        hidden = visibility.hidden_for(session, user)
        on_agenda = [Case.service == service, Case.instance == hub, Case.state == agenda_state]
        if hidden.cases:
            on_agenda.append(Case.id.not_in(hidden.cases))
        total = paging.capped_count(session, on_agenda, Case)
        if cursor is None:
            seek = []
        elif cursor.moment is None:
            seek = [Case.next_due_at.is_(None), Case.id > cursor.id]
        else:
            seek = [or_(paging.after(Case.next_due_at, Case.id, cursor),
                        Case.next_due_at.is_(None))]
        agenda = session.exec(select(Case, Referral).join(Referral, Referral.id == Case.referral_id)
                              .where(*on_agenda, *seek)
                              .order_by(Case.next_due_at.is_(None), Case.next_due_at, Case.id)
                              .limit(page_size + 1)).all()
        more = len(agenda) > page_size
        agenda = agenda[:page_size]
        last = agenda[-1][0] if agenda else None
        agenda = [(c, r) for c, r in agenda if can_view_case(user, c, rt.profile.teams)]
        ids = [r.id for _, r in agenda]
        people: dict[int, list] = {i: [] for i in ids}
        decisions: dict[int, dict[str, Decision]] = {i: {} for i in ids}
        cases_of: dict[int, list[Case]] = {i: [] for i in ids}
        if ids:
            for rp, person in session.exec(
                    select(ReferralPerson, Person)
                    .join(Person, Person.id == ReferralPerson.person_id)
                    .where(ReferralPerson.referral_id.in_(ids))
                    .order_by(ReferralPerson.ref)):
                people[rp.referral_id].append((rp, person))
            for d in session.exec(select(Decision).where(Decision.referral_id.in_(ids),
                                                         Decision.current.is_(True))):
                decisions[d.referral_id][d.kind] = d
            for c in session.exec(select(Case).where(Case.referral_id.in_(ids))
                                  .order_by(Case.id)):
                cases_of[c.referral_id].append(c)
        audit.record_each(session, actor=user, events=[
            event for case, referral in agenda
            for event in (("case.view", "case", case.id, {"via": "meeting_pack"}),
                          ("referral.view", "referral", referral.id, {"via": "meeting_pack"}))])
        dump = ReferralOutSchema()
        for case, referral in agenda:
            record = ReferralRecord(
                referral=referral, people=people[referral.id],
                decision=decisions[referral.id].get("engine"),
                override=decisions[referral.id].get("override"), cases=cases_of[referral.id],
                place=rt.profile.api_place(rt.profile.place_for(referral.postcode)),
                re_referral=re_referral.of_referral(session, referral))
            out.append({"case": {"id": case.id, "referral": referral.reference,
                                 "state": case.state},
                        "referral": dump.dump(record)})
    return Listed(out, total, paging.cursor_after(last.next_due_at, last.id)
                  if more and last else None)


def add_to_agenda(rt: Runtime, *, user: User, case_ids: list[int],
                  service: str | None = None) -> int:
    """Put these cases of the service (default: the one with a meeting) on its next meeting's
    agenda: all of them or none."""
    if service is None:
        pathway = meeting_pathway(rt)
        if pathway is None:
            raise NotFound("This council's profile has no meetings.")
        service = pathway.service
    event = spec_of(rt, service).add_to_agenda
    if not case_ids:
        raise ValidationFailed({"cases": ["Select at least one case to add to the agenda."]})
    # Check them all first, so a case that cannot go on the agenda is named before any is
    # added (a change by someone else in between still gets its own 409).
    cannot = []
    for case_id in case_ids:
        case = casework.get_case(rt, user=user, case_id=case_id)
        if case["service"] != service or event not in [e["event"]
                                                       for e in case["allowed_events"]]:
            cannot.append(f"Case {case_id} is {case['state'].replace('_', ' ')} and cannot "
                          "be added to the agenda.")
    if cannot:
        raise ValidationFailed({"cases": cannot})
    for case_id in case_ids:
        casework.fire_case_event(rt, user=user, case_id=case_id, body={"event": event})
    return len(case_ids)


def record_decision(rt: Runtime, *, user: User, case_id: int, meeting_date: str | None,
                    decision: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Record the meeting's discussion of a case (if not yet recorded) and its decision.

    The decision's own fields are checked against the pathway before anything is written, so
    a missing lead professional does not leave the case half-recorded."""
    errors: dict[str, list[str]] = {}
    needs: tuple[str, ...] = ()
    case = casework.get_case(rt, user=user, case_id=case_id)
    spec = spec_of(rt, case["service"])
    team = rt.profile.texts["meeting_team"].lower()
    if decision not in spec.decisions:
        errors["decision"] = [f"Select the {team}'s decision."]
    if not errors:
        pathway = rt.pathways.for_service(case["service"])
        row = next(t for t in pathway.transitions if t.event == decision)
        needs = row.needs
        for name in needs:
            value = (fields.get(name) or "").strip() if isinstance(fields.get(name), str) \
                else fields.get(name)
            codes = row.choices.get(name)
            if not value:
                errors[name] = [f"Enter the {pathway.data.fields[name].label.lower()}."
                                if codes is None else
                                f"Select the {pathway.data.fields[name].label.lower()}."]
            elif codes is not None and value not in codes:
                errors[name] = [f"Select one of the {pathway.data.fields[name].label.lower()}s."]
    if case["state"] == spec.agenda and not meeting_date:
        field = rt.pathways.data.fields[spec.date_field]
        errors[spec.date_field] = [f"Enter the {field.label[:1].lower()}{field.label[1:]}."]
    if errors:
        raise ValidationFailed(errors)
    # The discussion and the decision are recorded together or not at all: a refusal of the
    # decision (someone else moved the case) must not leave it discussed and undecided.
    bodies = [{"event": decision, "version": case["version"],
               **{k: fields[k] for k in needs}}]
    if case["state"] == spec.agenda:
        bodies.insert(0, {"event": spec.record_discussion, spec.date_field: meeting_date,
                          "version": case["version"]})
        del bodies[1]["version"]  # checked once, against the case before the discussion
    return casework.fire_case_events(rt, user=user, case_id=case_id, bodies=bodies)
