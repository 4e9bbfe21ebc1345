"""Capacity status per service instance: whether a team can take people now, in the FHIR SDOH
referral guide's codes, with notes for referrers. Its team's managers (and admins) set it; it is
shown beside each route of the front door's live decision, on the directory and in the feed.
A route to a team without capacity stays a route: the rules decide, the worker is warned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from triage.errors import Forbidden, NotFound, ValidationFailed
from triage.models import CapacityStatus, User
from triage.models.base import utcnow
from triage.policy import can_set_capacity
from triage.runtime import Runtime
from triage.services import audit

# code -> what it means to a referrer (the four codes of the FHIR SDOH guide).
CODES: Mapping[str, str] = {
    "capacity": "Taking new people",
    "no-capacity": "No capacity: not taking new people just now",
    "waitlist": "Waiting list",
    "additional-assessment-required": "Additional assessment needed before taking people",
}
MAX_NOTES = 500


@dataclass(frozen=True)
class Status:
    service: str
    instance: str
    code: str
    notes: str | None
    set_by_id: int
    set_by: str
    set_at: datetime

    @property
    def display(self) -> str:
        return CODES.get(self.code, self.code)

    @property
    def warns(self) -> bool:
        """Anything but `capacity` is worth a warning before referring."""
        return self.code != "capacity"

    def public(self) -> dict[str, Any]:
        """What the feed and the public pages show: never who set it."""
        out: dict[str, Any] = {"code": self.code, "display": self.display,
                               "updated": self.set_at.isoformat()}
        if self.notes:
            out["notes"] = self.notes
        return out

    def for_staff(self) -> dict[str, Any]:
        return {"service": self.service, "instance": self.instance, "code": self.code,
                "display": self.display, "notes": self.notes,
                "set_by": {"id": self.set_by_id, "name": self.set_by},
                "set_at": self.set_at}


def all_statuses(session: Session) -> dict[tuple[str, str], Status]:
    rows = session.exec(select(CapacityStatus, User.name, User.email)
                        .join(User, User.id == CapacityStatus.set_by_id)).all()
    return {(row.service, row.instance): Status(
        service=row.service, instance=row.instance, code=row.code, notes=row.notes,
        set_by_id=row.set_by_id, set_by=name or email, set_at=row.set_at)
        for row, name, email in rows}


def statuses(rt: Runtime) -> dict[tuple[str, str], Status]:
    with rt.db.reader() as session:
        return all_statuses(session)


def _instance(rt: Runtime, service: str, instance: str) -> None:
    found = rt.profile.services.get(service)
    if found is None or instance not in found.instances:
        raise NotFound(f"No service instance {service}:{instance} in the profile.")


def check_body(body: Any) -> tuple[str, str | None]:
    """The code and notes of a capacity status, or a 422 naming each problem."""
    if not isinstance(body, Mapping):
        raise ValidationFailed({"_schema": ["The body must be a JSON object with a code."]})
    errors: dict[str, list[str]] = {}
    for key in body:
        if key not in ("code", "notes"):
            errors[str(key)] = ["Not a field of a capacity status; it takes: code, notes."]
    code = body.get("code")
    if code not in CODES:
        errors["code"] = [f"Must be one of {', '.join(CODES)}."]
    notes = body.get("notes")
    if notes is not None and not isinstance(notes, str):
        errors["notes"] = ["Must be text."]
    elif isinstance(notes, str):
        notes = notes.strip() or None
        if notes and len(notes) > MAX_NOTES:
            errors["notes"] = [f"Must be at most {MAX_NOTES} characters."]
        elif notes and any(ord(c) < 32 and c not in "\n\r\t" for c in notes):
            errors["notes"] = ["Must not hold control characters."]
    if errors:
        raise ValidationFailed(errors)
    return str(code), notes


def set_status(rt: Runtime, *, user: User, service: str, instance: str,
               body: Any) -> dict[str, Any]:
    """Set (replace) the instance's capacity status; its team's managers and admins only.
    Audited (codes only: notes are for referrers and never about a person)."""
    _instance(rt, service, instance)
    if not can_set_capacity(user, service, instance, rt.profile.teams):
        with rt.db.unit_of_work() as session:
            audit.record(session, actor=user, action="capacity.set_refused",
                         object_type="service_instance", object_id=f"{service}:{instance}")
        raise Forbidden("Only the managers of "
                        f"{rt.profile.teams.case_team_name(service, instance)} (and admins) "
                        "may set its capacity.")
    code, notes = check_body(body)
    now = utcnow()
    with rt.db.unit_of_work() as session:
        row = session.exec(select(CapacityStatus).where(
            CapacityStatus.service == service, CapacityStatus.instance == instance)
            .with_for_update()).first()
        previous = row.code if row is not None else None
        if row is None:
            row = CapacityStatus(service=service, instance=instance, code=code, notes=notes,
                                 set_by_id=user.id, set_at=now)
        else:
            row.code, row.notes, row.set_by_id, row.set_at = code, notes, user.id, now
        session.add(row)
        audit.record(session, actor=user, action="capacity.set",
                     object_type="service_instance", object_id=f"{service}:{instance}",
                     code=code, previous=previous)
    return Status(service=service, instance=instance, code=code, notes=notes,
                  set_by_id=user.id, set_by=user.name or user.email, set_at=now).for_staff()


def get_status(rt: Runtime, service: str, instance: str) -> dict[str, Any]:
    _instance(rt, service, instance)
    found = statuses(rt).get((service, instance))
    if found is None:
        return {"service": service, "instance": instance, "code": None, "display":
                "Not stated", "notes": None, "set_by": None, "set_at": None}
    return found.for_staff()


def list_statuses(rt: Runtime) -> list[dict[str, Any]]:
    """Every instance of the profile with its status (None where nobody has set one)."""
    known = statuses(rt)
    out = []
    for service in rt.profile.services.values():
        for instance in service.instances.values():
            found = known.get((service.id, instance.id))
            out.append(found.for_staff() if found else {
                "service": service.id, "instance": instance.id, "code": None,
                "display": "Not stated", "notes": None, "set_by": None, "set_at": None})
    return out
