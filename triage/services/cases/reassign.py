"""Handing over a worker's open cases all at once (a leaver, a long absence): one action by the
team's manager, one transaction, an assign history row on every case."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlmodel import select

from triage.errors import Forbidden, ValidationFailed, flatten_errors
from triage.models import Case, User
from triage.models.base import utcnow
from triage.policy import can_hand_over_case
from triage.runtime import Runtime
from triage.schemas.cases import ReassignInSchema
from triage.services import audit
from triage.services.cases import casework
from triage.services.cases.case_dues import CaseView, histories

_IN = ReassignInSchema()


def reassign_open_cases(rt: Runtime, *, user: User, body: Any) -> dict[str, Any]:
    """`{"from_worker": id, "to_worker": id | null, "note": "..."}`: every open case the first
    worker holds goes to the second (null: unassigned) or nothing does. 422 naming the cases
    the new worker may not hold; 403 unless the caller manages every one of them."""
    try:
        data = _IN.load(body if isinstance(body, dict) else {"_body": body})
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None
    from_id, to_id, note = data["from_worker"], data["to_worker"], data["note"]
    if to_id is not None and to_id == from_id:
        raise ValidationFailed({"to_worker": ["Must be another worker than from_worker."]})
    now = utcnow()
    moved: list[int] = []
    with rt.db.unit_of_work() as session:
        cases = session.exec(select(Case).where(Case.worker_id == from_id,
                                                Case.closed_at.is_(None))
                             .order_by(Case.id).with_for_update()).all()
        refused = [c.id for c in cases if not can_hand_over_case(user, c, rt.profile.teams)]
        if refused:
            audit.record(session, actor=user, action="cases.reassign_refused",
                         object_type="user", object_id=from_id, cases=len(refused))
            session.commit()
            raise Forbidden(f"You do not manage the teams of {len(refused)} of this worker's "
                            "open cases; their teams' managers must hand them over.")
        history = histories(session, [c.id for c in cases])
        problems: dict[str, list[str]] = {}
        for case in cases:
            pathway = rt.pathways.for_service(case.service)
            view = CaseView.of(case, history[case.id])
            try:
                casework.assign_case(rt, session, user, pathway, case, view, None,
                                     {"worker": to_id, "note": note or "Handed over"}, now)
            except ValidationFailed as exc:
                problems[f"cases.{case.id}"] = [m for ms in exc.errors.values() for m in ms]
            else:
                moved.append(case.id)
        if problems:
            raise ValidationFailed(problems)
        audit.record(session, actor=user, action="cases.reassigned", object_type="user",
                     object_id=from_id, to_worker=to_id, cases=len(moved))
    return {"from_worker": from_id, "to_worker": to_id, "count": len(moved), "cases": moved}
