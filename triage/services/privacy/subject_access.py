"""The subject-access export: everything held about one person (details, contact,
households, referrals naming them with answers and decisions, cases with history and notes,
corrections, restrictions, and who viewed their records), for JSON and a printable page.
Producing it is audited; a restriction hides it as it hides the record."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, or_, text
from sqlmodel import Session, select

from triage.errors import NotFound
from triage.models import (
    AuditEvent,
    Case,
    CaseEvent,
    CaseNote,
    Decision,
    Household,
    HouseholdMember,
    RecordRestriction,
    Referral,
    ReferralPerson,
    RestrictionUser,
    User,
)
from triage.models.base import MAX_ID, utcnow
from triage.policy import EXPORT_SUBJECT_DATA, require
from triage.runtime import Runtime
from triage.services import audit
from triage.services.people.record import contact
from triage.services.privacy import rectification, visibility

VIEWS_LIMIT = 5000


def _names(session: Session, ids: set[int | None]) -> dict[int, dict[str, Any]]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {u.id: {"id": u.id, "name": u.name or u.email, "role": u.role}
            for u in session.exec(select(User).where(User.id.in_(wanted)))}


def _referrals(session: Session, person_id: int) -> list[dict[str, Any]]:
    rows = session.exec(select(Referral, ReferralPerson.role, ReferralPerson.relationship)
                        .join(ReferralPerson, ReferralPerson.referral_id == Referral.id)
                        .where(ReferralPerson.person_id == person_id)
                        .order_by(Referral.received_at)).all()
    ids = [r.id for r, _, _ in rows]
    decisions: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for d in session.exec(select(Decision).where(Decision.referral_id.in_(ids or [0]))
                          .order_by(Decision.decided_at, Decision.id)):
        decisions[d.referral_id].append({
            "kind": d.kind, "level": d.level, "level_code": d.level_code,
            "level_name": d.body.get("level_name"),
            "routes": d.body.get("routes", []),
            "reasons": [r.get("text") for r in d.body.get("reasons", [])],
            "decided_at": d.decided_at, "reason": d.reason, "current": d.current,
            "ruleset": {"id": d.ruleset_id, "version": d.ruleset_version}})
    return [{"reference": r.reference, "received_at": r.received_at, "status": r.status,
             "channel": r.channel, "role": role, "relationship": relationship,
             "referrer": {"organisation": r.referrer_organisation, "name": r.referrer_name,
                          "email": r.referrer_email, "phone": r.referrer_phone},
             "postcode": r.postcode, "consent": r.consent,
             "consent_recorded_at": r.consent_recorded_at, "urgent": r.urgent,
             "concerns": r.concerns, "answers": r.answers,
             "closure": {"closure": r.closure, "note": r.closure_note, "at": r.closed_at}
             if r.closed_at else None,
             "decisions": decisions[r.id]} for r, role, relationship in rows], ids


def _cases(session: Session, referral_ids: list[int], household_ids: list[int]
           ) -> list[dict[str, Any]]:
    cases = session.exec(select(Case, Referral.reference)
                         .join(Referral, Referral.id == Case.referral_id)
                         .where(or_(Case.referral_id.in_(referral_ids or [0]),
                                    Case.household_id.in_(household_ids or [0])))
                         .order_by(Case.opened_at, Case.id)).all()
    ids = [c.id for c, _ in cases]
    history: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for e in session.exec(select(CaseEvent).where(CaseEvent.case_id.in_(ids or [0]))
                          .order_by(CaseEvent.at, CaseEvent.id)):
        history[e.case_id].append({"at": e.at, "event": e.event, "from": e.from_state,
                                   "to": e.to_state, "by": e.by_label, "reason": e.reason})
    notes: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for n in session.exec(select(CaseNote).where(CaseNote.case_id.in_(ids or [0]))
                          .order_by(CaseNote.at, CaseNote.id)):
        notes[n.case_id].append({"at": n.at, "by": n.by_label, "text": n.text})
    workers = _names(session, {c.worker_id for c, _ in cases})
    return [{"id": c.id, "referral": ref, "service": c.service, "instance": c.instance,
             "state": c.state, "opened_at": c.opened_at, "closed_at": c.closed_at,
             "outcome": c.outcome, "worker": workers.get(c.worker_id),
             "history": history[c.id], "notes": notes[c.id]} for c, ref in cases]


def _restrictions(session: Session, person_id: int) -> list[dict[str, Any]]:
    rows = session.exec(select(RecordRestriction).where(RecordRestriction.person_id == person_id)
                        .order_by(RecordRestriction.set_at)).all()
    named: dict[int, list[int]] = {r.id: [] for r in rows}
    for rid, uid in session.exec(select(RestrictionUser.restriction_id, RestrictionUser.user_id)
                                 .where(RestrictionUser.restriction_id.in_(list(named) or [0]))):
        named[rid].append(uid)
    users = _names(session, {u for ids in named.values() for u in ids})
    return [{"set_at": r.set_at, "reason": r.reason, "lifted_at": r.lifted_at,
             "lift_reason": r.lift_reason,
             "users": [users.get(u, {"id": u}) for u in sorted(named[r.id])]} for r in rows]


def _views(session: Session, person_id: int, households: list[int], referrals: list[int],
           cases: list[int]) -> list[dict[str, Any]]:
    """Who read or changed these records: the audit rows about the person, their households,
    referrals and cases (newest first, bounded)."""
    def about(kind: str, ids: list[int]):
        return and_(AuditEvent.object_type == kind,
                    AuditEvent.object_id.in_([str(i) for i in ids] or ["-"]))

    pid = str(person_id)
    rows = session.exec(select(AuditEvent).where(or_(
        about("person", [person_id]), about("household", households),
        about("referral", referrals), about("case", cases),
        # The referral journey's "already known" check names every person it matched.
        and_(AuditEvent.action == "person.match_view", or_(
            AuditEvent.object_id.like(f"{pid},%"), AuditEvent.object_id.like(f"%,{pid}"),
            AuditEvent.object_id.like(f"%,{pid},%"))),
        and_(AuditEvent.object_type == "person",
             AuditEvent.object_id.in_(["search", "candidates"]),
             _search_found(session, person_id))))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(VIEWS_LIMIT)).all()
    actors = _names(session, {r.actor_id for r in rows})
    return [{"at": r.at, "action": r.action, "object_type": r.object_type,
             "object_id": r.object_id,
             "by": actors.get(r.actor_id) if r.actor_id else None} for r in rows]


def _search_found(session: Session, person_id: int):
    """A search (or intake candidates) audit row whose results (detail.person_ids) included
    the person."""
    if session.get_bind().dialect.name == "postgresql":
        return text("(audit_event.detail -> 'person_ids') @> CAST(:found AS jsonb)").bindparams(
            found=json.dumps([person_id]))
    return text("EXISTS (SELECT 1 FROM json_each(audit_event.detail, '$.person_ids') "
                "WHERE json_each.value = :found)").bindparams(found=person_id)


def export_person(rt: Runtime, *, user: User, person_id: int) -> dict[str, Any]:
    """Everything held about a person, for answering a subject-access request. 404 for a
    person who does not exist or whom a restriction hides from the caller."""
    require(user, EXPORT_SUBJECT_DATA, "export a person's records")
    if person_id < 1 or person_id > MAX_ID:
        raise NotFound("No such person.")
    with rt.db.unit_of_work() as session:
        person = visibility.visible_person(session, user, person_id, "person.export_refused",
                                            profile_id=rt.profile.id)
        households = session.exec(select(Household, HouseholdMember.relationship,
                                         HouseholdMember.since)
                                  .join(HouseholdMember,
                                        HouseholdMember.household_id == Household.id)
                                  .where(HouseholdMember.person_id == person_id)
                                  .order_by(Household.id)).all()
        household_ids = [h.id for h, _, _ in households]
        referrals, referral_ids = _referrals(session, person_id)
        cases = _cases(session, referral_ids, household_ids)
        views = _views(session, person_id, household_ids, referral_ids,
                       [c["id"] for c in cases])
        body = {
            "exported_at": utcnow(),
            "person": {"id": person.id, "given_name": person.given_name,
                       "family_name": person.family_name,
                       "date_of_birth": person.date_of_birth, "nhs_number": person.nhs_number,
                       "sex": person.sex, "ethnicity": person.ethnicity,
                       "ethnicity_text": rt.profile.ethnicity.get(person.ethnicity or ""),
                       "created_at": person.created_at,
                       "anonymised_at": person.anonymised_at},
            "contact": contact(person),
            "households": [{"id": h.id, "relationship": rel, "since": since,
                            "address": {"line1": h.address_line1, "line2": h.address_line2,
                                        "town": h.town, "postcode": h.postcode,
                                        "district": h.district}}
                           for h, rel, since in households],
            "referrals": referrals,
            "cases": cases,
            "changes": rectification.history(session, person_id),
            "restrictions": _restrictions(session, person_id),
            "views": views,
        }
        audit.record(session, actor=user, action="person.export", object_type="person",
                     object_id=person_id, referrals=len(referrals), cases=len(cases),
                     views=len(views))
    return body
