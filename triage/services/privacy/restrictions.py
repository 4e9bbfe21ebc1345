"""Restricting a person's record (and their households') so only named users see it, and
lifting it; managers and admins, with a reason; every step audited (ids only)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError
from sqlmodel import Session, select

from triage.errors import NotFound, ValidationFailed, flatten_errors
from triage.models import Person, RecordRestriction, RestrictionUser, User
from triage.models.base import MAX_ID, utcnow
from triage.policy import (
    RESTRICT_RECORDS,
    may_be_named_on_restriction,
    require,
    sees_all_people,
)
from triage.runtime import Runtime
from triage.schemas.privacy import ReasonInSchema, RestrictionInSchema
from triage.schemas.text import problems_in
from triage.services import audit
from triage.services.privacy import visibility


def load(schema: Schema, body: Any) -> dict[str, Any]:
    """A privacy operation's body, loaded by its schema; 422 naming every bad field."""
    if not isinstance(body, dict):
        raise ValidationFailed({"_schema": ["The body must be a JSON object."]})
    bad = problems_in(body)
    if bad:
        raise ValidationFailed(bad)
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None


def _named(session: Session, ids: list[int]) -> list[User]:
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_(set(ids))))}
    errors = {f"users.{i}": ["No such active staff member who may see records."]
              for i, uid in enumerate(ids)
              if uid not in users or not may_be_named_on_restriction(users[uid])}
    if errors:
        raise ValidationFailed(errors)
    return [users[uid] for uid in dict.fromkeys(ids)]


def user_ids_for_emails(rt: Runtime, emails: list[str]) -> list[int]:
    """The web form names users by email: their ids, or a 422 naming each unknown one."""
    wanted = [e.strip().lower() for e in emails if e.strip()]
    if not wanted:
        raise ValidationFailed({"users": ["Name at least one user who may see it."]})
    with rt.db.reader() as session:
        found = {u.email.lower(): u.id for u in session.exec(select(User))
                 if u.email.lower() in wanted}
    missing = [e for e in wanted if e not in found]
    if missing:
        raise ValidationFailed({"users": [f"No staff member with the email {e}."
                                          for e in missing]})
    return [found[e] for e in wanted]


def _lift(session: Session, restriction: RecordRestriction, user: User, reason: str) -> None:
    restriction.lifted_at = utcnow()
    restriction.lifted_by_id = user.id
    restriction.lift_reason = reason
    session.add(restriction)


def set_restriction(rt: Runtime, *, user: User, person_id: int, body: Any) -> dict[str, Any]:
    """Restrict a person's record to the named users (replacing a restriction in force that
    names the caller). 404 for a person the caller may not see."""
    require(user, RESTRICT_RECORDS, "restrict a record")
    data = load(RestrictionInSchema(), body)
    if person_id > MAX_ID:
        raise NotFound("No such person.")
    with rt.db.unit_of_work() as session:
        # The person's row is locked so two managers restricting at once leave one in force.
        person = session.get(Person, person_id, with_for_update=True)
        if (person is None or person.profile_id != rt.profile.id or not sees_all_people(user)
                or person_id in visibility.hidden_for(session, user).people):
            audit.record(session, actor=user, action="person.restrict_refused",
                         object_type="person", object_id=person_id)
            session.commit()
            raise NotFound("No such person.")
        named = _named(session, data["users"])
        current = session.exec(select(RecordRestriction).where(
            RecordRestriction.person_id == person_id,
            RecordRestriction.lifted_at.is_(None))).first()
        if current is not None:
            _lift(session, current, user, "Replaced by a new restriction.")
        restriction = RecordRestriction(person_id=person_id, reason=data["reason"],
                                        set_by_id=user.id)
        session.add(restriction)
        session.flush()
        for u in named:
            session.add(RestrictionUser(restriction_id=restriction.id, user_id=u.id))
        session.flush()
        audit.record(session, actor=user, action="person.restricted", object_type="person",
                     object_id=person_id, restriction_id=restriction.id,
                     user_ids=[u.id for u in named],
                     replaced=current.id if current is not None else None)
        return visibility.restriction_of(session, person_id) or {}


def lift_restriction(rt: Runtime, *, user: User, restriction_id: int, body: Any
                     ) -> dict[str, Any]:
    """Lift a restriction in force. Managers and admins may lift one that does not name them
    (someone must, when the named users have left); lifting shows nothing of the record."""
    require(user, RESTRICT_RECORDS, "lift a restriction")
    data = load(ReasonInSchema(), body)
    if restriction_id > MAX_ID:
        raise NotFound("No such restriction.")
    with rt.db.unit_of_work() as session:
        restriction = session.get(RecordRestriction, restriction_id)
        person = session.get(Person, restriction.person_id) if restriction else None
        if restriction is None or restriction.lifted_at is not None \
                or person is None or person.profile_id != rt.profile.id:
            raise NotFound("No restriction in force with that id.")
        _lift(session, restriction, user, data["reason"])
        audit.record(session, actor=user, action="person.restriction_lifted",
                     object_type="person", object_id=restriction.person_id,
                     restriction_id=restriction.id)
        return {"id": restriction.id, "person_id": restriction.person_id,
                "lifted_at": restriction.lifted_at}


def list_restrictions(rt: Runtime, *, user: User) -> list[dict[str, Any]]:
    """The restrictions in force: ids, when, who set them and who is named (no names of the
    people restricted), so managers can lift one whose named users have left. Audited."""
    require(user, RESTRICT_RECORDS, "list restrictions")
    with rt.db.unit_of_work() as session:
        active = visibility.active_restrictions(session)
        rows = session.exec(select(RecordRestriction).join(
            Person, Person.id == RecordRestriction.person_id).where(
            RecordRestriction.id.in_(list(active) or [0]), Person.profile_id == rt.profile.id)
            .order_by(RecordRestriction.set_at)).all()
        ids = {uid for _, named in active.values() for uid in named} | {
            r.set_by_id for r in rows}
        users = {u.id: u for u in session.exec(select(User).where(User.id.in_(ids or {0})))}
        audit.record(session, actor=user, action="restriction.list", object_type="person",
                     object_id="restrictions", count=len(rows))

        def who(uid: int) -> dict[str, Any]:
            u = users.get(uid)
            return {"id": uid, "name": (u.name or u.email) if u else str(uid),
                    "active": bool(u and u.active)}

        return [{"id": r.id, "person_id": r.person_id, "set_at": r.set_at,
                 "set_by": who(r.set_by_id),
                 "users": [who(uid) for uid in sorted(active[r.id][1])]} for r in rows]
