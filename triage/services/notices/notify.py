"""Notifications: who is told what when a referral arrives or a case moves (outbox handlers).
Reading them (a user's inbox, marking them read) is triage.services.notices.inbox.

Recipients: `user:<id>` (a person with an account), `team:<service>:<instance>` (the team's
shared inbox, emailed to its members), `team:front_door`, `managers` (when a team has no
manager), `referrer:<referral id>` (a referrer without an account, reached by email only).
Bodies carry references, services, states and coded outcomes, never personal data.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from triage.models import Case, CaseEvent, Notification, Referral, Role, User
from triage.services.cases import lead_agency
from triage.services.notices import mail
from triage.services.notices.outbox import after_commit, before_done, handler
from triage.statements import new_rows

FRONT_DOOR = "team:front_door"


def _add(session: Session, *, outbox_id: int, recipient: str, kind: str, subject: str,
         body: str, referral_id: int | None, case_id: int | None = None,
         email: str | None = None) -> None:
    """Store one notification (all of a transaction's in one insert, before its messages are
    marked done). A message is handled once (its row is locked and marked done in the same
    transaction) and (outbox_id, recipient) is unique, so a redelivery cannot duplicate it;
    within one message, a recipient is told once."""
    told: set[tuple[int, str]] = session.info.setdefault("notified", set())
    if (outbox_id, recipient) in told:
        return
    told.add((outbox_id, recipient))
    session.info.setdefault("notifications", []).append({
        "outbox_id": outbox_id, "recipient": recipient, "kind": kind, "subject": subject[:200],
        "body": body, "referral_id": referral_id, "case_id": case_id, "email": email})
    before_done(session, _write_notifications)
    _email_after_commit(session, outbox_id)


# Other packages' outbox handlers store their notifications the same way (password resets).
add_notification = _add


def _write_notifications(session: Session) -> None:
    new_rows(session, Notification, session.info.pop("notifications", []), ids=False)


def _email_after_commit(session: Session, outbox_id: int) -> None:
    pending: list[int] = session.info.setdefault("mail_outbox_ids", [])
    if not pending:
        after_commit(session, lambda rt: mail.send_pending(rt, outbox_ids=list(pending)))
    if outbox_id not in pending:
        pending.append(outbox_id)


def _team(case: Case) -> str:
    return f"team:{case.service}:{case.instance}"


def _name(rt: Any, case: Case) -> str:
    service = rt.profile.services.get(case.service)
    if service is None:
        return case.service
    instance = service.instances.get(case.instance)
    return instance.name if instance else service.name


def referrer_of(session: Session, referral: Referral) -> tuple[str, str | None] | None:
    """Who referred: their account when they have one, else the email they gave."""
    if referral.submitted_by_id is not None:
        user = session.get(User, referral.submitted_by_id)
        return (f"user:{referral.submitted_by_id}",
                user.email if user is not None and user.active else None)
    if referral.referrer_email:
        return f"referrer:{referral.id}", referral.referrer_email
    return None


@handler("referral.received")
def referral_received(session: Session, rt: Any, payload: dict, outbox_id: int) -> None:
    """Acknowledge a referral to its sender; tell each receiving team of the cases opened.

    Runs for every referral. Intake puts what it needs in the payload (reference, status,
    sender, cases as opened), so under load this reads nothing; older or linked-referral
    messages carry only the id and are read from the database."""
    if "reference" in payload:
        referral = SimpleNamespace(
            id=payload["referral_id"], reference=payload["reference"],
            status=payload["status"], urgent=payload["urgent"],
            submitted_by_id=payload["submitted_by_id"], email=payload["submitted_by_email"])
        cases = [SimpleNamespace(id=c[0], service=c[1], instance=c[2], state=c[3])
                 for c in payload["cases"]]
    else:
        referral = session.exec(
            select(Referral.id, Referral.reference, Referral.status, Referral.urgent,
                   Referral.submitted_by_id, User.email)
            .join(User, User.id == Referral.submitted_by_id, isouter=True)
            .where(Referral.id == payload["referral_id"])).first()
        if referral is None:
            return
        cases = session.exec(select(Case.id, Case.service, Case.instance, Case.state)
                             .where(Case.referral_id == referral.id)).all()
    if referral.submitted_by_id is not None:
        _add(session, outbox_id=outbox_id, recipient=f"user:{referral.submitted_by_id}",
             kind="referral.received", email=referral.email,
             subject=f"Referral {referral.reference} received",
             body=f"Referral {referral.reference} was received and is {referral.status}.",
             referral_id=referral.id)
    for case in cases:
        _case_opened(session, rt, outbox_id, referral, case)


def received_payload(referral: Referral, cases: list[Case], submitter: User | None
                     ) -> dict[str, Any]:
    """The referral.received message as intake writes it: ids, codes and the sender's
    account email (the account holder's work address, never the family's details)."""
    return {"referral_id": referral.id, "reference": referral.reference,
            "status": str(referral.status), "urgent": bool(referral.urgent),
            "submitted_by_id": submitter.id if submitter else None,
            "submitted_by_email": submitter.email if submitter and submitter.active else None,
            "cases": [[c.id, c.service, c.instance, c.state] for c in cases]}


@handler("referral.closed")
def referral_closed(session: Session, rt: Any, payload: dict, outbox_id: int) -> None:
    """Tell the referrer that the front door closed their referral, and why (the closure's
    meaning from the profile; never the staff note, which can be about the family)."""
    referral = session.get(Referral, payload["referral_id"])
    if referral is None:
        return
    referrer = referrer_of(session, referral)
    if referrer is None:
        return
    why = rt.profile.front_door.closure_text(payload.get("closure") or referral.closure)
    _add(session, outbox_id=outbox_id, recipient=referrer[0], email=referrer[1],
         kind="referral.closed", referral_id=referral.id,
         subject=f"Referral {referral.reference} closed: {why}",
         body=f"Referral {referral.reference} was closed at the front door without a "
              f"referral to a service. Reason: {why}.")


@handler("cases.opened")
def cases_opened(session: Session, rt: Any, payload: dict, outbox_id: int) -> None:
    """Tell the receiving teams of cases opened after intake (e.g. once consent is given)."""
    for case_id in payload["case_ids"]:
        case = session.get(Case, case_id)
        if case is not None:
            _case_opened(session, rt, outbox_id, session.get(Referral, case.referral_id), case)


def _case_opened(session: Session, rt: Any, outbox_id: int, referral: Referral,
                 case: Case) -> None:
    name = _name(rt, case)
    _add(session, outbox_id=outbox_id, recipient=_team(case),
         kind="case.opened", subject=f"New case for {name}: {referral.reference}",
         body=f"Referral {referral.reference} was routed to {name}"
              f"{' (urgent)' if referral.urgent else ''}. Case {case.id} is {case.state}.",
         referral_id=referral.id, case_id=case.id)


# -- a case moved: the effects its event names -------------------------------------------
def _label(rt: Any, case: Case, row: CaseEvent, field: str) -> str | None:
    """The label of a coded field the event recorded (a decline reason, a lead agency)."""
    code = (row.payload or {}).get(field)
    if not isinstance(code, str):
        return None
    pathway = rt.pathways.for_service(case.service)
    if field == "outcome":
        return pathway.data.outcomes.get(code, code)
    for t in pathway.transitions:
        if t.event == row.event and field in t.choices:
            return t.choices[field].get(code, code)
    return code


def _notices(session: Session, rt: Any, effect: str, case: Case, referral: Referral,
             row: CaseEvent) -> list[dict[str, Any]]:
    name, ref = _name(rt, case), referral.reference
    referrer = referrer_of(session, referral)
    to_referrer = ({"recipient": referrer[0], "email": referrer[1]} if referrer else None)
    if effect == "notify_referrer_accepted" and to_referrer:
        return [{**to_referrer, "kind": "case.accepted",
                 "subject": f"Referral {ref}: accepted by {name}",
                 "body": f"{name} has accepted case {case.id} for referral {ref}."}]
    if effect == "notify_referrer_declined" and to_referrer:
        why = _label(rt, case, row, "reason") or "no reason given"
        return [{**to_referrer, "kind": "case.declined",
                 "subject": f"Referral {ref}: declined by {name}",
                 "body": f"{name} declined case {case.id} for referral {ref}: {why}. The "
                         "referral has gone back to the front door to be triaged again."}]
    if effect == "notify_referrer_closed" and to_referrer:
        outcome = _label(rt, case, row, "outcome") or "not recorded"
        agency = _label(rt, case, row, "lead_agency")
        if agency:
            outcome = f"{outcome}: {agency}"
        return [{**to_referrer, "kind": "case.closed",
                 "subject": f"Referral {ref}: case closed by {name} ({outcome})",
                 "body": f"{name} closed case {case.id} for referral {ref} on "
                         f"{row.at:%d %B %Y}. Outcome: {outcome}."}]
    if effect == "notify_lead_agency":
        return _lead_agency(session, rt, case, referral, row)
    if effect == "notify_team_reopened":
        return [{"recipient": _team(case), "email": None, "kind": "case.reopened",
                 "subject": f"Case {case.id} reopened: {ref}",
                 "body": f"Case {case.id} for referral {ref} was reopened and is "
                         f"{row.to_state}. Its history is kept."}]
    if effect == "return_to_front_door":
        why = _label(rt, case, row, "reason") or "no reason given"
        return [{"recipient": FRONT_DOOR, "email": None, "kind": "referral.returned",
                 "subject": f"Referral {ref} returned for re-triage",
                 "body": f"{name} declined case {case.id} ({why}). Referral {ref} needs "
                         "triaging again."}]
    return []


def _lead_agency(session: Session, rt: Any, case: Case, referral: Referral, row: CaseEvent
                 ) -> list[dict[str, Any]]:
    """A lead agency that is one of our services is told in its team's inbox, beside the
    linked case the allocation opened for it; other agencies have no account here, so the
    allocating team is reminded to pass the papers on."""
    label = _label(rt, case, row, "lead_agency") or "the lead agency"
    team = rt.profile.texts.get("meeting_team", "meeting").lower()
    service_id = lead_agency.lead_agency_service(rt, (row.payload or {}).get("lead_agency"))
    opened = lead_agency.linked_case(session, case, service_id) if service_id else None
    if opened is not None:
        service = rt.profile.services[opened.service]
        return [{"recipient": f"team:{opened.service}:{opened.instance}", "email": None,
                 "kind": "case.allocated",
                 "subject": f"Allocated by {_name(rt, case)}: {referral.reference}",
                 "body": f"{_name(rt, case)} allocated referral {referral.reference} "
                         f"(case {case.id}) to {service.name} as lead agency: case "
                         f"{opened.id} is open for you."}]
    return [{"recipient": _team(case), "email": None, "kind": "case.allocated",
             "subject": f"Pass on the allocation: {referral.reference}",
             "body": f"Case {case.id} for referral {referral.reference} was allocated to "
                     f"{label}. Send them the {team}'s papers and decision."}]


@handler("case.moved")
def case_moved(session: Session, rt: Any, payload: dict, outbox_id: int) -> None:
    """Tell whoever the event's effects name (referrer, lead agency, team, front door)."""
    row = session.get(CaseEvent, payload["case_event_id"])
    case = session.get(Case, payload["case_id"])
    if row is None or case is None:
        return
    referral = session.get(Referral, case.referral_id)
    merged: dict[str, dict[str, Any]] = {}
    for effect in payload["effects"]:
        for notice in _notices(session, rt, effect, case, referral, row):
            if notice["recipient"] in merged:  # one notification per recipient per message
                merged[notice["recipient"]]["body"] += "\n" + notice["body"]
            else:
                merged[notice["recipient"]] = notice
    for notice in merged.values():
        _add(session, outbox_id=outbox_id, referral_id=referral.id, case_id=case.id, **notice)


@handler("case.escalated")
def case_escalated(session: Session, rt: Any, payload: dict, outbox_id: int) -> None:
    """Tell the team's managers (or every manager without a team, or the managers' inbox)
    that a case is overdue."""
    case = session.get(Case, payload["case_id"])
    if case is None:
        return
    referral = session.get(Referral, case.referral_id)
    managers = session.exec(select(User).where(
        User.role == Role.manager, User.active.is_(True),
        User.team.in_(rt.profile.teams.covering(case.service, case.instance)))).all()
    if not managers:
        managers = session.exec(select(User).where(
            User.role == Role.manager, User.active.is_(True),
            or_(User.team.is_(None), User.team == ""))).all()
    overdue = "; ".join(f"{item['label']} was due {item['due_at']}" for item in payload["items"])
    notice = {"kind": "case.escalated",
              "subject": f"Overdue: case {case.id} at {_name(rt, case)} ({referral.reference})",
              "body": f"Case {case.id} for referral {referral.reference} at {_name(rt, case)} "
                      f"is overdue: {overdue}. It is {case.state}."}
    recipients = [(f"user:{m.id}", m.email) for m in managers] or [("managers", None)]
    for recipient, email in recipients:
        _add(session, outbox_id=outbox_id, recipient=recipient, email=email,
             referral_id=referral.id, case_id=case.id, **notice)
