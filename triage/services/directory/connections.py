"""Onward connections a case records (a connecting service's "connections made"): each one picks
a service from the directory (its `service`, an ORUK service id) or names an organisation in
free text, with the need it meets. Each is kept as a row, so reports count connections by
organisation (a directory organisation by its id; a typed one by its name)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from triage.errors import ValidationFailed
from triage.models import (
    Case,
    CaseEvent,
    DirectoryOrganisation,
    DirectoryService,
    OnwardConnection,
)
from triage.runtime import Runtime
from triage.services.directory import catalogue
from triage.services.directory.ids import as_uuid
from triage.statements import insert_rows

CONNECTIONS = "connections"  # the payload field kind


def _fields(pathway) -> list[str]:
    return [name for name, spec in pathway.data.fields.items() if spec.kind == CONNECTIONS]


def choices(rt: Runtime) -> list[tuple[str, str]]:
    """(service id, "Service (Organisation)") for the pick list: the council's services, then
    partners' active services by name."""
    profile = rt.profile
    org = catalogue.organisation(profile)["name"]
    out = [(catalogue.service_id(profile, s.id), f"{s.name} ({org})")
           for s in profile.services.values() if s.status == "active"]
    with rt.db.reader() as session:
        rows = session.exec(select(DirectoryService.id, DirectoryService.name,
                                   DirectoryOrganisation.name)
                            .join(DirectoryOrganisation,
                                  DirectoryOrganisation.id == DirectoryService.organisation_id)
                            .where(DirectoryService.status == "active")
                            .order_by(DirectoryService.name, DirectoryService.id)).all()
    return out + [(sid, f"{name} ({org_name})") for sid, name, org_name in rows]


def _lookup(rt: Runtime, session: Session, service_id: str) -> tuple[str, str] | None:
    """(organisation id, organisation name) of a directory service, or None."""
    profile = rt.profile
    own = {catalogue.service_id(profile, s): s for s in profile.services}
    if service_id in own:
        org = catalogue.organisation(profile)
        return org["id"], org["name"]
    found = session.exec(select(DirectoryOrganisation.id, DirectoryOrganisation.name)
                         .join(DirectoryService,
                               DirectoryService.organisation_id == DirectoryOrganisation.id)
                         .where(DirectoryService.id == service_id)).first()
    return (found[0], found[1]) if found else None


def resolve(rt: Runtime, session: Session, pathway, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with each picked directory service checked and its organisation named as
    the directory names it (a connection without a pick keeps the organisation typed); 422
    naming an unknown service."""
    errors: dict[str, list[str]] = {}
    out = dict(payload)
    for name in _fields(pathway):
        items = payload.get(name)
        if not isinstance(items, list):
            continue
        resolved = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or item.get("service") in (None, ""):
                resolved.append(item)
                continue
            sid = as_uuid(item.get("service"))
            found = _lookup(rt, session, sid) if sid else None
            if found is None:
                errors[f"{name}.{i}.service"] = ["Not a service of the directory; choose one "
                                                 "from the list or type the organisation."]
                resolved.append(item)
                continue
            # The directory's name for it wins over anything typed beside the pick.
            resolved.append({**item, "service": sid, "organisation": found[1]})
        out[name] = resolved
    if errors:
        raise ValidationFailed(errors)
    return out


def record(rt: Runtime, session: Session, pathway, case: Case, row: CaseEvent,
           at: datetime) -> None:
    """A row per onward connection the event recorded."""
    rows = []
    for name in _fields(pathway):
        for item in row.payload.get(name) or []:
            if not isinstance(item, Mapping):
                continue
            sid = item.get("service")
            found = _lookup(rt, session, sid) if sid else None
            rows.append(OnwardConnection(
                case_id=case.id, case_event_id=row.id, service_id=sid if found else None,
                organisation_id=found[0] if found else None,
                organisation=str(item.get("organisation", ""))[:300],
                need=str(item.get("need", "")), made_at=at))
    insert_rows(session, rows)


def by_organisation(rt: Runtime, *, start: datetime | None = None,
                    end: datetime | None = None) -> list[dict[str, Any]]:
    """Onward connections counted by organisation (directory organisations by id, typed ones
    by name), most first: what a report of connections by organisation reads."""
    key = func.coalesce(OnwardConnection.organisation_id, OnwardConnection.organisation)
    query = select(key, func.min(OnwardConnection.organisation),
                   func.count(OnwardConnection.id)).group_by(key)
    if start is not None:
        query = query.where(OnwardConnection.made_at >= start)
    if end is not None:
        query = query.where(OnwardConnection.made_at < end)
    with rt.db.reader() as session:
        rows = session.exec(query).all()
    out = [{"organisation": name, "organisation_id": as_uuid(k), "connections": n}
           for k, name, n in rows]
    return sorted(out, key=lambda r: (-r["connections"], r["organisation"]))
