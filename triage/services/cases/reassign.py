"""Handing over a worker's open cases all at once (a leaver, a long absence): one action by the
team's manager, one transaction, an assign history row on every case."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from triage.errors import Forbidden, ValidationFailed
from triage.models import Case, User
from triage.models.base import MAX_ID, utcnow
from triage.policy import can_assign_case
from triage.runtime import Runtime
from triage.services import audit
from triage.services.cases import casework
from triage.services.cases.case_dues import CaseView, histories


def reassign_open_cases(rt: Runtime, *, user: User, body: Any) -> dict[str, Any]:
    """`{"from_worker": id, "to_worker": id | null, "note": "..."}`: every open case the first
    worker holds goes to the second (null: unassigned) or nothing does. 422 naming the cases
    the new worker may not hold; 403 unless the caller manages every one of them."""
    if not isinstance(body, dict):
        raise ValidationFailed({"_body": ["Send a JSON object."]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(body) - {"from_worker", "to_worker", "note"})
    for key in unknown:
        errors[key] = ["Not a field; send from_worker, to_worker and an optional note."]
    from_id, to_id = body.get("from_worker"), body.get("to_worker")
    if isinstance(from_id, bool) or not isinstance(from_id, int) or not 0 < from_id <= MAX_ID:
        errors["from_worker"] = ["Must be the user id (a whole number) of the worker whose "
                                 "cases are handed over."]
    if "to_worker" not in body or (to_id is not None and (
            isinstance(to_id, bool) or not isinstance(to_id, int))):
        errors["to_worker"] = ["Must be the user id of the new worker, or null to unassign."]
    elif to_id is not None and to_id == from_id:
        errors["to_worker"] = ["Must be another worker than from_worker."]
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > casework.MAX_FREE_TEXT):
        errors["note"] = [f"Must be text of at most {casework.MAX_FREE_TEXT} characters."]
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    moved: list[int] = []
    with rt.db.unit_of_work() as session:
        cases = session.exec(select(Case).where(Case.worker_id == from_id,
                                                Case.closed_at.is_(None))
                             .order_by(Case.id).with_for_update()).all()
        refused = [c.id for c in cases if not can_assign_case(user, c, to_id)]
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
