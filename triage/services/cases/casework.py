"""Case use cases: read a case with its pathway, fire an event on it (worklists: worklists).

A case moves in one unit of work: the pathway (workflows) checks the event against the case's
state, history and payload; the case row is updated only if it still has the version it was
read at (UPDATE ... WHERE id = ? AND version = ?; no row means someone else moved it first,
409 and nothing changes); the history row, the referral's status and the outbox messages for
the event's effects commit with it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import update
from sqlmodel import Session, select

from config.teams import Teams
from triage.errors import Conflict, Forbidden, NotFound, ValidationFailed, flatten_errors
from triage.models import (
    Case,
    CaseEvent,
    CaseReferralLink,
    Household,
    Person,
    Referral,
    ReferralPerson,
    ReferralStatus,
    User,
)
from triage.models.base import MAX_ID, utcnow
from triage.policy import can_assign_case, can_move_case, can_view_case, may_hold_case
from triage.runtime import Runtime
from triage.schemas.cases import (
    AllowedEventSchema,
    CaseEventInSchema,
    CaseOutSchema,
)
from triage.services import audit
from triage.services.cases import lead_agency
from triage.services.cases.case_dues import WORKER_EVENTS, CaseView, columns_for, histories
from triage.services.cases.worklists import list_cases  # noqa: F401  (callers use cases.list_cases)
from triage.services.directory import connections
from triage.services.notices import outbox
from triage.services.privacy import visibility
from triage.statements import insert_rows
from workflows import Due, EventNotAllowed, EventSpec, MissingFields, Pathway

log = logging.getLogger(__name__)

_OUT = CaseOutSchema()
# Optional free text any event may carry besides the fields it needs.
FREE_TEXT = ("reason", "note")
MAX_FREE_TEXT = 2000
LINKED_REFERRAL_EFFECTS = ("open_statutory_referral", "open_early_help_referral")
ASSIGN = "assign"
assert ASSIGN in WORKER_EVENTS


@dataclass
class CaseRecord:
    """A case with everything shown beside it; what CaseOutSchema dumps."""

    case: Case
    reference: str
    urgent: bool
    pathway: Pathway
    history: list[CaseEvent]
    allowed_events: list[dict[str, Any]]
    due: dict[str, Any]
    service_name: str
    instance_name: str
    linked_referrals: list[dict[str, Any]] = field(default_factory=list)
    # How to contact the people on the case's referral, and whether it is safe to.
    contacts: list[dict[str, Any]] = field(default_factory=list)
    worker: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        return self.pathway.status_of(self.case.state)

    @property
    def closed(self) -> bool:
        return self.pathway.is_closed(self.case.state)

    @property
    def outcome_label(self) -> str | None:
        outcome = self.case.outcome
        return self.pathway.data.outcomes.get(outcome, outcome) if outcome else None


# -- reading -----------------------------------------------------------------------------
def find_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"No case with id {case_id}.")
    return case


def find_case_and_referral(session: Session, case_id: int, *, profile_id: str
                           ) -> tuple[Case, str, bool]:
    """The case with its referral's reference and urgency, in one query; a case of another
    council's profile is not found."""
    found = session.exec(select(Case, Referral.reference, Referral.urgent)
                         .join(Referral, Referral.id == Case.referral_id)
                         .where(Case.id == case_id, Referral.profile_id == profile_id)).first()
    if found is None:
        raise NotFound(f"No case with id {case_id}.")
    return found


def describe_events(pathway: Pathway, events: list[EventSpec]) -> list[dict[str, Any]]:
    """Allowed events as the API shows them: each with the fields it needs (kind, label) and,
    for coded fields, the codes with their labels."""
    fields_by_name = pathway.data.fields
    out = []
    for spec in events:
        needs = []
        for name in spec.needs:
            f = fields_by_name[name]
            codes = spec.choices.get(name)
            needs.append({"name": name, "kind": "code" if codes is not None else f.kind,
                          "label": f.label,
                          "choices": [{"code": c, "label": _code_label(pathway, spec, name, c)}
                                      for c in codes] if codes is not None else None,
                          "min_items": max(f.min, 1) if f.kind == "connections" else None})
        out.append({"event": spec.name, "label": spec.label, "to": spec.to_state,
                    "needs": list(spec.needs), "fields_": needs})
    return out


def _code_label(pathway: Pathway, spec: EventSpec, name: str, code: str) -> str:
    for row in pathway.transitions:
        if row.event == spec.name and name in row.choices:
            return row.choices[name].get(code, code)
    return code


def _service_names(rt: Runtime, case: Case) -> tuple[str, str]:
    service = rt.profile.services.get(case.service)
    if service is None:
        return case.service, case.instance
    instance = service.instances.get(case.instance)
    return service.name, instance.name if instance else case.instance


def _links(session: Session, pathway: Pathway, case: Case,
           history: list[CaseEvent]) -> list[tuple[str, str, str]]:
    """Referrals the case opened; asked only when its history has an event that opens one."""
    opening = {t.event for t in pathway.transitions
               if set(t.effects) & set(LINKED_REFERRAL_EFFECTS)}
    if not any(row.event in opening for row in history):
        return []
    return list(session.exec(
        select(CaseReferralLink.kind, Referral.reference, Referral.status)
        .join(Referral, Referral.id == CaseReferralLink.referral_id)
        .where(CaseReferralLink.case_id == case.id).order_by(CaseReferralLink.id)).all())


def case_contacts(session: Session, case: Case) -> list[dict[str, Any]]:
    """The people on the case's referral, subject first, with how to contact each as kept
    now (the newest details given on any referral) and the household's address."""
    rows = session.exec(
        select(ReferralPerson, Person).join(Person, Person.id == ReferralPerson.person_id)
        .where(ReferralPerson.referral_id == case.referral_id)
        .order_by(ReferralPerson.role != "subject", ReferralPerson.ref)).all()
    referral = session.get(Referral, case.referral_id)
    home = session.get(Household, referral.household_id) if referral.household_id else None
    address = [line for line in (home.address_line1, home.address_line2, home.town,
                                 home.postcode) if line] if home else []
    return [{"person_id": person.id, "role": link.role, "relationship": link.relationship,
             "given_name": person.given_name, "family_name": person.family_name,
             "date_of_birth": person.date_of_birth.isoformat(),
             "phone": person.phone, "email": person.email,
             "preferred": person.preferred_contact, "safe_to_contact": person.safe_to_contact,
             "safe_contact_notes": person.safe_contact_notes, "language": person.language,
             "interpreter": person.interpreter, "address": address}
            for link, person in rows]


def build_record(rt: Runtime, session: Session, case: Case, history: list[CaseEvent], *,
                 now: datetime, reference: str, urgent: bool) -> CaseRecord:
    pathway = rt.pathways.for_service(case.service)
    view = CaseView.of(case, history)
    calendar = rt.pathways.calendar
    items: list[Due] = pathway.due(view, now=now, calendar=calendar)
    links = _links(session, pathway, case, history)
    service_name, instance_name = _service_names(rt, case)
    allowed = describe_events(pathway, pathway.allowed_events(view, at=now))
    if not pathway.is_closed(case.state):
        allowed.append(describe_assign(session, case, rt.profile.teams))
    return CaseRecord(
        case=case, reference=reference, urgent=bool(urgent), pathway=pathway, history=history,
        allowed_events=allowed, worker=worker_of(session, case.worker_id),
        due={"next_due_at": case.next_due_at,
             "overdue": case.next_due_at is not None and case.next_due_at <= now,
             "overdue_since": case.overdue_since, "escalated_at": case.escalated_at,
             "items": items},
        service_name=service_name, instance_name=instance_name,
        linked_referrals=[{"reference": ref, "status": status, "effect": kind}
                          for kind, ref, status in links],
        contacts=case_contacts(session, case))


# -- named workers -----------------------------------------------------------------------
def worker_of(session: Session, worker_id: int | None) -> dict[str, Any] | None:
    """The case's `worker` as the contract shows it: null, or {"id", "name"}."""
    if worker_id is None:
        return None
    worker = session.get(User, worker_id)
    return {"id": worker_id, "name": display_name(worker)} if worker else None


def display_name(user: User) -> str:
    return user.name or user.email


def team_workers(session: Session, case: Case, teams: Teams) -> list[User]:
    """Active staff who may hold the case: those of every team covering it (its service, its
    instance, or a team of several instances)."""
    covering = teams.covering(case.service, case.instance)
    rows = session.exec(select(User).where(User.active.is_(True), User.team.in_(covering))
                        .order_by(User.name, User.email)).all()
    return [u for u in rows if may_hold_case(u, case, teams)]


def describe_assign(session: Session, case: Case, teams: Teams) -> dict[str, Any]:
    """The assign event as allowed_events shows it: it needs a worker of the case's team
    (its choices; null unassigns) and keeps the state."""
    return {"event": ASSIGN, "label": "Assign to a worker", "to": case.state,
            "needs": ["worker"],
            "fields_": [{"name": "worker", "kind": "worker", "label": "Worker",
                         "choices": [{"code": str(u.id), "label": display_name(u)}
                                     for u in team_workers(session, case, teams)],
                         "min_items": None}]}


@dataclass(frozen=True)
class Assigned:
    """An assign step as fire_case_events logs it (the state does not change)."""

    event: str
    to_state: str


def _worker_id(payload: dict[str, Any]) -> Any:
    value = payload.get("worker")
    if isinstance(value, str) and value.isdigit():
        return int(value)  # a form's select sends the id as text
    return value


def assign_case(rt: Runtime, session: Session, user: User, pathway: Pathway, case: Case,
            view: CaseView, expected_version: int | None, payload: dict[str, Any],
            now: datetime) -> Assigned:
    """Name (or clear, with worker null) the worker who holds the case: the case row
    (compare-and-set on its version) and an `assign` history row with the worker's id and
    name; the state is kept."""
    if expected_version is not None and expected_version != case.version:
        raise _conflict(f"Case {case.id} has changed since version {expected_version} (it "
                        f"is now version {case.version}, {case.state}); reload it and try "
                        "again.", pathway, case, view, now)
    if pathway.is_closed(case.state):
        raise _conflict(f"Case {case.id} is {case.state}: a closed case has no worker; "
                        "reopen it first.", pathway, case, view, now)
    errors: dict[str, list[str]] = {}
    for key, value in payload.items():
        if key == "worker":
            continue
        if key != "note":
            errors[key] = ["Not a field of event 'assign'; it takes: worker, note."]
        elif value is not None and (not isinstance(value, str) or len(value) > MAX_FREE_TEXT):
            errors[key] = [f"Must be text of at most {MAX_FREE_TEXT} characters."]
    worker_id = _worker_id(payload)
    worker = None
    if "worker" not in payload:
        errors["worker"] = ["Missing: the id of a worker of the case's team (null to "
                            "unassign)."]
    elif worker_id is not None:
        if isinstance(worker_id, bool) or not isinstance(worker_id, int):
            errors["worker"] = ["Must be a user id (a whole number) or null."]
        else:
            worker = session.get(User, worker_id) if 0 < worker_id <= MAX_ID else None
            if worker is None or not may_hold_case(worker, case, rt.profile.teams):
                errors["worker"] = [f"Not an active worker of the {case.service}:"
                                    f"{case.instance} team."]
    if errors:
        raise ValidationFailed(errors)
    note = payload.get("note") or None
    row = CaseEvent(case_id=case.id, from_state=case.state, to_state=case.state, event=ASSIGN,
                    by_id=user.id, by_label=user.email, at=now, reason=note,
                    payload={"worker_id": worker_id,
                             "worker_name": display_name(worker) if worker else None,
                             "previous_worker_id": case.worker_id})
    values = {"worker_id": worker_id, "version": case.version + 1}
    _compare_and_set(session, pathway, case, values, now)
    insert_rows(session, [row])
    for key, value in values.items():
        setattr(case, key, value)
    return Assigned(event=ASSIGN, to_state=case.state)


def _compare_and_set(session: Session, pathway: Pathway, case: Case, values: dict[str, Any],
                     now: datetime) -> None:
    """Update the case row only if it still has the version it was read at; otherwise
    someone else's event committed between our read and this update: 409, nothing kept."""
    moved = session.execute(
        update(Case.__table__)
        .where(Case.__table__.c.id == case.id, Case.__table__.c.version == case.version)
        .values(**values))
    if moved.rowcount != 1:
        session.rollback()
        fresh = find_case(session, case.id)
        fresh_view = CaseView.of(fresh, histories(session, [fresh.id])[fresh.id])
        raise _conflict(f"Case {case.id} was moved by someone else at the same time (it is "
                        f"now {fresh.state}); reload it and try again.", pathway, fresh,
                        fresh_view, now)


def get_case(rt: Runtime, *, user: User, case_id: int) -> dict[str, Any]:
    """The case as its team sees it; every read is audited (and every refusal)."""
    now = utcnow()
    with rt.db.unit_of_work() as session:
        case, reference, urgent = find_case_and_referral(session, case_id,
                                                         profile_id=rt.profile.id)
        visibility.refuse_hidden_case(session, user, case.id, "case.view_refused")
        if not can_view_case(user, case, rt.profile.teams):
            audit.record(session, actor=user, action="case.view_refused", object_type="case",
                         object_id=case.id)
            session.commit()
            raise Forbidden(f"Case {case_id} belongs to another team, "
                            f"{rt.profile.teams.case_team_name(case.service, case.instance)}: "
                            "only that team and managers may see it.")
        audit.record(session, actor=user, action="case.view", object_type="case",
                     object_id=case.id)
        record = build_record(rt, session, case, histories(session, [case.id])[case.id],
                              now=now, reference=reference, urgent=urgent)
        return _OUT.dump(record)


# -- moving ------------------------------------------------------------------------------
def parse_event_body(body: Any) -> tuple[str, int | None, dict[str, Any]]:
    if not isinstance(body, dict):
        raise ValidationFailed({"_schema": ["The body must be a JSON object with an event."]})
    if isinstance(body.get("version"), bool):
        raise ValidationFailed({"version": ["Not a valid integer."]})
    try:
        loaded = CaseEventInSchema().load(body)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None
    payload = {k: v for k, v in body.items() if k not in ("event", "version")}
    return loaded["event"], loaded.get("version"), payload


def _conflict(message: str, pathway: Pathway, case: Case, view: CaseView,
              now: datetime) -> Conflict:
    allowed = describe_events(pathway, pathway.allowed_events(view, at=now))
    return Conflict(message, state=case.state, version=case.version,
                    allowed_events=AllowedEventSchema(many=True).dump(allowed))


def _check_extras(pathway: Pathway, spec: EventSpec, payload: dict[str, Any]) -> None:
    """Fields the event does not take are named, not silently stored."""
    errors: dict[str, list[str]] = {}
    takes = [*spec.needs, *(n for n in FREE_TEXT if n not in spec.needs)]
    for key, value in payload.items():
        if key in spec.needs:
            continue
        if key not in FREE_TEXT:
            errors[key] = [f"Not a field of event {spec.name!r}; it takes: {', '.join(takes)}."]
        elif value is not None and (not isinstance(value, str) or len(value) > MAX_FREE_TEXT):
            errors[key] = [f"Must be text of at most {MAX_FREE_TEXT} characters."]
    if errors:
        raise ValidationFailed(errors)


def fire_case_event(rt: Runtime, *, user: User, case_id: int, body: Any) -> dict[str, Any]:
    """Fire one event on a case as `user`; returns the case as GET shows it.

    409 (with the allowed events) when the event is not allowed now or the case changed since
    `version`; 422 naming each missing or bad field; 403 for anyone but the receiving team and
    its managers. In every refusal nothing is written but the audit row."""
    return fire_case_events(rt, user=user, case_id=case_id, bodies=[body])


def fire_case_events(rt: Runtime, *, user: User, case_id: int,
                     bodies: Sequence[Any]) -> dict[str, Any]:
    """Fire events one after another on a case in one transaction: all are recorded or none
    (a hub meeting's discussion and its decision). A `version` in a body is checked against
    the case as the events before it left it. Refusals as for fire_case_event."""
    parsed = [parse_event_body(body) for body in bodies]
    now = utcnow()
    moves = []
    with rt.db.unit_of_work() as session:
        case, reference, urgent = find_case_and_referral(session, case_id,
                                                         profile_id=rt.profile.id)
        visibility.refuse_hidden_case(session, user, case.id, "case.move_refused")
        if not can_move_case(user, case, rt.profile.teams):
            audit.record(session, actor=user, action="case.move_refused", object_type="case",
                         object_id=case.id, event=parsed[0][0][:64])
            session.commit()
            raise Forbidden(f"Only {rt.profile.teams.case_team_name(case.service, case.instance)}"
                            f" and its managers may move case {case.id}.")
        if any(event == ASSIGN and not can_assign_case(user, case, _worker_id(payload),
                                                      rt.profile.teams)
               for event, _, payload in parsed):
            audit.record(session, actor=user, action="case.assign_refused",
                         object_type="case", object_id=case.id)
            session.commit()
            raise Forbidden("Only the managers of "
                            f"{rt.profile.teams.case_team_name(case.service, case.instance)} may "
                            "assign a case to someone else; a team member may take it.")
        pathway = rt.pathways.for_service(case.service)
        view = CaseView.of(case, histories(session, [case.id])[case.id])
        session.expunge(case)  # updated in SQL below; the object only shows the new values
        for event, expected_version, payload in parsed:
            try:
                if event == ASSIGN:
                    step = assign_case(rt, session, user, pathway, case, view, expected_version,
                                   payload, now)
                else:
                    step = _fire(rt, session, user, pathway, case, view, event,
                                 expected_version, payload, now)
            except Conflict as exc:
                if not moves:
                    raise
                # The events before were rolled back with it: describe the case as it is.
                session.rollback()
                fresh = find_case(session, case.id)
                raise _conflict(f"{exc.message} Nothing was recorded: case {fresh.id} is "
                                f"still {fresh.state}.", pathway, fresh,
                                CaseView.of(fresh, histories(session, [fresh.id])[fresh.id]),
                                now) from None
            moves.append(step)
        # No audit row: the history rows are the record of who moved the case, when and how.
        ids = outbox.committed_ids(session)
        record = build_record(rt, session, case, histories(session, [case.id])[case.id],
                              now=now, reference=reference, urgent=urgent)
        response = _OUT.dump(record)
    rt.relay.after_commit(ids)
    for step in moves:
        log.info("case.moved", extra={"case_id": case.id, "case_event": step.event,
                                      "status": step.to_state})
    return response


def _fire(rt: Runtime, session: Session, user: User, pathway: Any, case: Case, view: CaseView,
          event: str, expected_version: int | None, payload: dict[str, Any],
          now: datetime) -> Any:
    """One event on a case in the caller's transaction: the case row (compare-and-set on its
    version), its history row, the referral's status and the event's messages. `case` and
    `view` are left showing the case after it."""
    if expected_version is not None and expected_version != case.version:
        raise _conflict(f"Case {case.id} has changed since version {expected_version} (it "
                        f"is now version {case.version}, {case.state}); reload it and try "
                        "again.", pathway, case, view, now)
    spec = next((e for e in pathway.allowed_events(view, at=now) if e.name == event), None)
    if spec is not None:
        _check_extras(pathway, spec, payload)
    payload = connections.resolve(rt, session, pathway, payload)
    try:
        step = pathway.fire(view, event, payload, actor=user.email, at=now)
    except EventNotAllowed as exc:
        raise _conflict(f"Case {case.id} is {case.state}: {exc}", pathway, case, view,
                        now) from None
    except MissingFields as exc:
        raise ValidationFailed({k: [v] for k, v in exc.fields.items()}) from None

    closed = pathway.is_closed(step.to_state)
    row = CaseEvent(case_id=case.id, from_state=step.from_state, to_state=step.to_state,
                    event=step.event, by_id=user.id, by_label=user.email, at=now,
                    reason=step.reason, payload=dict(step.payload))
    view.history.append(row)
    view.closed_at = now if closed else None
    due = columns_for(pathway, view, calendar=rt.pathways.calendar, now=now,
                      escalated_at=case.escalated_at)
    values = {"state": step.to_state, "version": case.version + 1,
              "closed_at": now if closed else None,
              "outcome": step.outcome if closed else None, **due.as_values()}
    _compare_and_set(session, pathway, case, values, now)
    insert_rows(session, [row])
    connections.record(rt, session, pathway, case, row, now)
    was_closed = case.closed_at is not None
    for key, value in values.items():
        setattr(case, key, value)
    returned = "return_to_front_door" in step.effects
    if lead_agency.OPEN_EFFECT in step.effects:
        # Before the referral follows its cases: the lead agency's case keeps it routed.
        lead_agency.open_lead_agency_case(rt, session, case=case, row=row, actor=user)
    if returned or closed != was_closed:
        follow_cases(session, case.referral_id, returned=returned)
    _enqueue_effects(session, case, row, step.effects)
    return step


def follow_cases(session: Session, referral_id: int, *, returned: bool = False) -> Referral:
    """Set the referral's status from its cases: routed while any is open, closed when all
    are; needs_review when a case was declined back to the front door (it stays there until
    the front door routes it again). The referral row is locked first, so two cases of one
    referral closing at the same time cannot both see the other still open."""
    referral = session.exec(select(Referral).where(Referral.id == referral_id)
                            .with_for_update()).one()
    if returned:
        status = ReferralStatus.needs_review
    elif referral.status in (ReferralStatus.routed, ReferralStatus.closed):
        still_open = session.exec(select(Case.id).where(Case.referral_id == referral_id,
                                                        Case.closed_at.is_(None))).first()
        status = ReferralStatus.routed if still_open is not None else ReferralStatus.closed
    else:
        return referral
    if referral.status != status:
        referral.status = status
        if referral.closure and status != ReferralStatus.closed:
            # Closed at the front door, then a case reopened: the referral is live again
            # (the closure stays in the audit trail as referral.closed).
            referral.closed_at = referral.closure = referral.closure_note = None
            referral.closed_by_id = None
        session.add(referral)
    return referral


def _enqueue_effects(session: Session, case: Case, row: CaseEvent,
                     effects: tuple[str, ...]) -> None:
    """The event's effects go to the outbox in this transaction; handlers do them after."""
    told = [e for e in effects if e not in LINKED_REFERRAL_EFFECTS]
    if told:
        outbox.enqueue(session, topic="case.moved",
                       payload={"case_id": case.id, "case_event_id": row.id, "effects": told})
    for effect in effects:
        if effect in LINKED_REFERRAL_EFFECTS:
            outbox.enqueue(session, topic="case.open_linked_referral",
                           payload={"case_id": case.id, "case_event_id": row.id,
                                    "effect": effect})
