"""Rectification: correcting a person's details with a reason, re-checked by the intake's own
person schema, the old and new value of each field kept (person_change), search keys kept in
step, audited with field names only."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError
from sqlmodel import Session, select

from triage.errors import NotFound, ValidationFailed, flatten_errors
from triage.models import Person, PersonChange, User
from triage.models.base import MAX_ID, utcnow
from triage.policy import RECTIFY_PEOPLE, require
from triage.runtime import Runtime
from triage.schemas.privacy import RectificationInSchema
from triage.schemas.referral import PersonSchema
from triage.schemas.text import problems_in
from triage.services import audit
from triage.services.people.keys import keys_of
from triage.services.privacy import visibility
from triage.services.privacy.restrictions import load

# The contact keys of a referral body (contract 5.1) and the person column each is kept in.
CONTACT_COLUMNS = {"phone": "phone", "email": "email", "preferred": "preferred_contact",
                   "safe_to_contact": "safe_to_contact",
                   "safe_contact_notes": "safe_contact_notes", "language": "language",
                   "interpreter": "interpreter"}
IDENTITY = ("given_name", "family_name", "date_of_birth", "nhs_number", "sex", "ethnicity")
# The person columns a correction may change: what a history row's `field` names.
FIELDS = (*IDENTITY, *CONTACT_COLUMNS.values())
_PERSON = PersonSchema(exclude=("ref", "role", "relationship"), partial=True)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _checked(rt: Runtime, changes: dict[str, Any]) -> dict[str, Any]:
    """{column: new value}: the changes as the intake would load them; 422 naming each field."""
    if not changes:
        raise ValidationFailed({"changes": ["Give at least one field to correct."]})
    # As at intake, a person named on a staff or partner referral keeps both names: a
    # correction changes a name, it does not remove one (nor the date of birth).
    removed = {f"changes.{k}": ["Cannot be removed; give the corrected value."]
               for k in ("given_name", "family_name", "date_of_birth")
               if k in changes and (changes[k] is None or str(changes[k]).strip() == "")}
    if removed:
        raise ValidationFailed(removed)
    try:
        loaded = _PERSON.load(changes)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages, "changes")) from None
    ethnicity = loaded.get("ethnicity")
    if ethnicity is not None and ethnicity not in rt.profile.ethnicity:
        raise ValidationFailed({"changes.ethnicity": [
            f"Unknown code; one of: {', '.join(rt.profile.ethnicity)}."]})
    columns = {k: loaded[k] for k in IDENTITY if k in loaded}
    for key, value in (loaded.get("contact") or {}).items():
        columns[CONTACT_COLUMNS[key]] = value
    return columns


def _keep_keys_in_step(person: Person) -> None:
    for column, value in keys_of(person).items():
        setattr(person, column, value)


def rectify(rt: Runtime, *, user: User, person_id: int, body: Any) -> dict[str, Any]:
    """Correct a person's details: every field re-checked, nothing saved unless all pass; a
    history row per changed field. Returns {"changed": [fields], "changes": history}."""
    require(user, RECTIFY_PEOPLE, "correct a person's details")
    errors: dict[str, list[str]] = problems_in(body)
    if errors:
        raise ValidationFailed(errors)
    try:
        data = load(RectificationInSchema(), body)
    except ValidationFailed as exc:
        # Check the changes too, so one answer names every problem.
        errors, data = exc.errors, {}
    changes = body.get("changes") if isinstance(body, dict) else None
    try:
        columns = _checked(rt, changes if isinstance(changes, dict) else {})
    except ValidationFailed as exc:
        if "changes" not in errors:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    if person_id > MAX_ID:
        raise NotFound("No such person.")
    with rt.db.unit_of_work() as session:
        person = visibility.visible_person(session, user, person_id, "person.rectify_refused",
                                            profile_id=rt.profile.id)
        now = utcnow()
        changed = []
        for column, new in columns.items():
            old = getattr(person, column)
            if old == new:
                continue
            changed.append(column)
            session.add(PersonChange(person_id=person_id, field=column, old_value=_text(old),
                                     new_value=_text(new), reason=data["reason"],
                                     by_id=user.id, at=now))
            setattr(person, column, new)
        if changed:
            _keep_keys_in_step(person)
            if set(changed) & set(CONTACT_COLUMNS.values()):
                person.contact_updated_at = now
            session.add(person)
            session.flush()
        audit.record(session, actor=user, action="person.rectified", object_type="person",
                     object_id=person_id, fields=changed)
        return {"changed": changed, "changes": history(session, person_id)}


def history(session: Session, person_id: int) -> list[dict[str, Any]]:
    """Each correction to a person, newest first: field, old and new value, why, by whom."""
    rows = session.exec(select(PersonChange, User.name, User.email)
                        .outerjoin(User, User.id == PersonChange.by_id)
                        .where(PersonChange.person_id == person_id)
                        .order_by(PersonChange.at.desc(), PersonChange.id.desc())).all()
    return [{"field": c.field, "old": c.old_value, "new": c.new_value, "reason": c.reason,
             "at": c.at, "by": name or email} for c, name, email in rows]
