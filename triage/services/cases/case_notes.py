"""Notes on a case: free text from its team, kept beside the case's history (audited by id)."""

from __future__ import annotations

from sqlmodel import select

from triage.errors import Forbidden, ValidationFailed
from triage.models import CaseNote, User
from triage.policy import can_add_note
from triage.runtime import Runtime
from triage.services import audit
from triage.services.cases.casework import find_case
from triage.services.privacy import visibility

MAX_NOTE = 5000


def add_note(rt: Runtime, *, user: User, case_id: int, text: str) -> CaseNote:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"note": ["Enter the note."]})
    if len(text) > MAX_NOTE:
        raise ValidationFailed({"note": [f"The note must be {MAX_NOTE:,} characters or fewer."]})
    with rt.db.unit_of_work() as session:
        case = find_case(session, case_id)
        visibility.refuse_hidden_case(session, user, case.id, "case.note_refused")
        if not can_add_note(user, case, rt.profile.teams):
            audit.record(session, actor=user, action="case.note_refused", object_type="case",
                         object_id=case.id)
            session.commit()
            raise Forbidden("Only the case's team and managers may add notes.")
        note = CaseNote(case_id=case.id, by_id=user.id, by_label=user.name or user.email,
                        text=text)
        session.add(note)
        session.flush()
        audit.record(session, actor=user, action="case.note", object_type="case",
                     object_id=case.id, note_id=note.id)
    return note


def notes_for(rt: Runtime, *, case_id: int) -> list[CaseNote]:
    """A case's notes, oldest first. Call after get_case (which checks and audits the view)."""
    with rt.db.reader() as session:
        return list(session.exec(select(CaseNote).where(CaseNote.case_id == case_id)
                                 .order_by(CaseNote.at)).all())
