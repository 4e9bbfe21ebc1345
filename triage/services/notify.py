"""Notifications: who is told what when a referral arrives or a case moves (outbox handlers)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from triage.models import Case, Notification, Referral, User
from triage.services.outbox import handler


def _add(session: Session, *, outbox_id: int, recipient: str, kind: str, subject: str,
         body: str, referral_id: int | None, case_id: int | None = None,
         email: str | None = None) -> None:
    exists = session.exec(select(Notification.id).where(
        Notification.outbox_id == outbox_id, Notification.recipient == recipient)).first()
    if exists is None:
        session.add(Notification(outbox_id=outbox_id, recipient=recipient, kind=kind,
                                 subject=subject, body=body, referral_id=referral_id,
                                 case_id=case_id, email=email))


@handler("referral.received")
def referral_received(session: Session, rt: Any, payload: dict, outbox_id: int) -> None:
    """Acknowledge a referral to its sender; tell each receiving team of the cases opened."""
    referral = session.get(Referral, payload["referral_id"])
    if referral is None:
        return
    if referral.submitted_by_id is not None:
        user = session.get(User, referral.submitted_by_id)
        _add(session, outbox_id=outbox_id, recipient=f"user:{referral.submitted_by_id}",
             kind="referral.received", email=user.email if user else None,
             subject=f"Referral {referral.reference} received",
             body=f"Referral {referral.reference} was received and is {referral.status}.",
             referral_id=referral.id)
    for case in session.exec(select(Case).where(Case.referral_id == referral.id)).all():
        _case_opened(session, rt, outbox_id, referral, case)


@handler("cases.opened")
def cases_opened(session: Session, rt: Any, payload: dict, outbox_id: int) -> None:
    """Tell the receiving teams of cases opened after intake (e.g. once consent is given)."""
    for case_id in payload["case_ids"]:
        case = session.get(Case, case_id)
        if case is not None:
            _case_opened(session, rt, outbox_id, session.get(Referral, case.referral_id), case)


def _case_opened(session: Session, rt: Any, outbox_id: int, referral: Referral,
                 case: Case) -> None:
    service = rt.profile.services.get(case.service)
    name = service.instances[case.instance].name if service else case.service
    _add(session, outbox_id=outbox_id, recipient=f"team:{case.service}:{case.instance}",
         kind="case.opened", subject=f"New case for {name}: {referral.reference}",
         body=f"Referral {referral.reference} was routed to {name}"
              f"{' (urgent)' if referral.urgent else ''}. Case {case.id} is {case.state}.",
         referral_id=referral.id, case_id=case.id)
