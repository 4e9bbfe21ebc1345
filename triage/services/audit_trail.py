"""The audit viewer: who viewed or changed which record, when and from which page, newest
first, filtered by person, user, record, action and dates, a page at a time (keyset).

Managers and admins only. A restriction hides its records' events from anyone it does not
name, as it hides the records (triage.services.privacy.visibility). Each look is audited
itself (`audit.view`, with the filters' ids and codes, never text typed into them).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import and_, bindparam, or_, tuple_
from sqlmodel import Session, select

from triage.errors import ValidationFailed, flatten_errors
from triage.models import AuditEvent, Case, HouseholdMember, Referral, ReferralPerson, User
from triage.policy import VIEW_AUDIT, require
from triage.runtime import Runtime
from triage.schemas.audit import AuditPageSchema, AuditQuerySchema
from triage.services import audit
from triage.services.privacy import visibility
from triage.urls import REFERENCE_PATTERN

LONDON = ZoneInfo("Europe/London")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CSV_HEADING = ("at", "user_id", "user", "role", "action", "record_type", "record_id",
               "reference", "route")
# A CSV download is one query, however many events match; more than this is refused with a
# 422 naming the filters (narrow the dates).
CSV_LIMIT = 50_000

_PAGE = AuditPageSchema()


def parse_query(args: dict[str, str]) -> dict[str, Any]:
    try:
        return AuditQuerySchema().load(args)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None


def cursor_of(at: datetime, event_id: int) -> str:
    """Where the page after an event starts (opaque to callers)."""
    delta = at.astimezone(UTC) - EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}-{event_id}"


def _from_cursor(cursor: str) -> tuple[datetime, int]:
    micros, _, event_id = cursor.partition("-")
    return EPOCH + timedelta(microseconds=int(micros)), int(event_id)


def _day_start(day: date) -> datetime:
    """Midnight in the council's time zone at the start of `day`, in UTC."""
    return datetime.combine(day, time(), tzinfo=LONDON).astimezone(UTC)


def _about(kind: str, ids) -> Any:
    return and_(AuditEvent.object_type == kind,
                AuditEvent.object_id.in_(sorted(str(i) for i in ids)))


def person_records(session: Session, person_id: int) -> dict[str, set[int]]:
    """The records a person's events are on: the person, their households, the referrals
    naming them and the cases of those referrals and households (a few indexed reads)."""
    households = set(session.exec(select(HouseholdMember.household_id)
                                  .where(HouseholdMember.person_id == person_id)))
    referrals = set(session.exec(select(ReferralPerson.referral_id)
                                 .where(ReferralPerson.person_id == person_id)))
    cases: set[int] = set()
    if referrals:
        cases |= set(session.exec(select(Case.id).where(Case.referral_id.in_(referrals))))
    if households:
        cases |= set(session.exec(select(Case.id).where(Case.household_id.in_(households))))
    return {"person": {person_id}, "household": households, "referral": referrals,
            "case": cases}


def _not_hidden(hidden: visibility.Hidden) -> list[Any]:
    """Conditions leaving out the events on records a restriction hides."""
    out = []
    for kind, ids in (("person", hidden.people), ("household", hidden.households),
                      ("referral", hidden.referrals), ("case", hidden.cases)):
        if ids:
            out.append(or_(AuditEvent.object_type != kind,
                           AuditEvent.object_id.not_in(sorted(str(i) for i in ids))))
    return out


def _record_id(session: Session, query: dict[str, Any]) -> str:
    """A referral may be named by its reference: its events are kept under its id."""
    object_id = query["object_id"]
    if query["object_type"] == "referral" and re.match(REFERENCE_PATTERN, object_id):
        found = session.exec(select(Referral.id).where(Referral.reference == object_id)).first()
        if found is None:
            raise ValidationFailed({"object_id": ["No referral has that reference."]})
        return str(found)
    return object_id


def _conditions(session: Session, user: User, query: dict[str, Any]) -> tuple[list[Any], str, str]:
    """The WHERE conditions for the filters, and what the look is audited as (the person or
    record filtered on, else the audit trail as a whole)."""
    conditions: list[Any] = []
    audited = ("audit", "*")
    if query["person"] is not None:
        person_id = query["person"]
        visibility.visible_person(session, user, person_id, "audit.view_refused",
                                  profile_id=query["profile"])
        records = person_records(session, person_id)
        conditions.append(or_(*(_about(kind, ids) for kind, ids in records.items() if ids)))
        audited = ("person", str(person_id))
    if query["user"] is not None:
        if session.get(User, query["user"]) is None:
            raise ValidationFailed({"user": ["No user has that id."]})
        conditions.append(AuditEvent.actor_id == query["user"])
    if query["object_type"] is not None:
        object_id = _record_id(session, query)
        conditions += [AuditEvent.object_type == query["object_type"],
                       AuditEvent.object_id == object_id]
        if audited[0] == "audit" and object_id.isdigit():
            audited = (query["object_type"], object_id)
    if query["action"] is not None:
        conditions.append(AuditEvent.action == query["action"])
    if query["date_from"] is not None:
        conditions.append(AuditEvent.at >= _day_start(query["date_from"]))
    if query["date_to"] is not None:
        conditions.append(AuditEvent.at < _day_start(query["date_to"] + timedelta(days=1)))
    conditions += _not_hidden(visibility.hidden_for(session, user))
    return conditions, *audited


def _described(session: Session, rows: list[Any]) -> list[dict[str, Any]]:
    """Rows with their users' names and roles and their referrals' references (two reads)."""
    actor_ids = {r.actor_id for r in rows if r.actor_id is not None}
    users = ({u.id: {"id": u.id, "name": u.name or u.email, "role": str(u.role)}
              for u in session.exec(select(User).where(User.id.in_(actor_ids)))}
             if actor_ids else {})
    referral_ids = {int(r.object_id) for r in rows
                    if r.object_type == "referral" and r.object_id.isdigit()}
    references = (dict(session.exec(select(Referral.id, Referral.reference)
                                    .where(Referral.id.in_(referral_ids))).all())
                  if referral_ids else {})
    return [{"id": r.id, "at": r.at, "user": users.get(r.actor_id),
             "action": r.action, "object_type": r.object_type, "object_id": r.object_id,
             "reference": references.get(int(r.object_id))
             if r.object_type == "referral" and r.object_id.isdigit() else None,
             "route": r.route} for r in rows]


def _audit_look(session: Session, user: User, query: dict[str, Any], object_type: str,
                object_id: str, shown: int) -> None:
    """Audit a look with its filters: ids, codes and dates only (a record id that is not a
    number is left out, in case someone typed something else into it)."""
    filters: dict[str, Any] = {k: query[k] for k in ("person", "user", "object_type", "action")
                               if query[k] is not None}
    if query["object_id"] is not None and query["object_id"].isdigit():
        filters["object_id"] = query["object_id"]
    filters.update({k: query[f"date_{k}"].isoformat() for k in ("from", "to")
                    if query[f"date_{k}"] is not None})
    audit.record(session, actor=user, action="audit.view", object_type=object_type,
                 object_id=object_id, filters=filters, later_page=bool(query["before"]),
                 format=query["format"], shown=shown)


_COLUMNS = (AuditEvent.id, AuditEvent.at, AuditEvent.actor_id, AuditEvent.action,
            AuditEvent.object_type, AuditEvent.object_id, AuditEvent.route)


def page_statement(session: Session, user: User, query: dict[str, Any]
                   ) -> tuple[Any, str, str]:
    """The SELECT of one page (limit + 1 rows, to tell whether there is a next page) and what
    the look is audited as."""
    conditions, object_type, object_id = _conditions(session, user, query)
    if query["before"]:
        at, event_id = _from_cursor(query["before"])
        # The cursor's time bound with the column's type (UTC as each database keeps it).
        conditions.append(tuple_(AuditEvent.at, AuditEvent.id) < tuple_(
            bindparam("cursor_at", at, type_=AuditEvent.__table__.c.at.type), event_id))
    stmt = (select(*_COLUMNS).where(*conditions)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(query["limit"] + 1))
    return stmt, object_type, object_id


def events(rt: Runtime, *, user: User, args: dict[str, str]) -> dict[str, Any]:
    """A page of events, newest first, and where the next one starts (next_before, or None
    on the last page). Stable across pages: an event written meanwhile is newer than every
    page already read, so it never shifts the pages that follow."""
    require(user, VIEW_AUDIT, "view the audit trail")
    query = {**parse_query(args), "profile": rt.profile.id}
    limit = query["limit"]
    with rt.db.unit_of_work() as session:
        stmt, object_type, object_id = page_statement(session, user, query)
        rows = session.exec(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        shown = _described(session, rows)
        _audit_look(session, user, query, object_type, object_id, len(shown))
    last = rows[-1] if rows and more else None
    return _PAGE.dump({"events": shown, "limit": limit,
                       "next_before": cursor_of(last.at, last.id) if last else None})


def csv_rows(rt: Runtime, *, user: User, args: dict[str, str]) -> list[list[Any]]:
    """Every event the filters match, newest first, as CSV rows (heading first); at most
    CSV_LIMIT. The download is audited like a page."""
    require(user, VIEW_AUDIT, "view the audit trail")
    query = {**parse_query(args), "format": "csv", "profile": rt.profile.id}
    with rt.db.unit_of_work() as session:
        conditions, object_type, object_id = _conditions(session, user, query)
        rows = session.exec(select(*_COLUMNS).where(*conditions)
                            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                            .limit(CSV_LIMIT + 1)).all()
        if len(rows) > CSV_LIMIT:
            raise ValidationFailed({"from": [f"More than {CSV_LIMIT} events match: choose "
                                             "a shorter period or another filter."]})
        shown = _described(session, rows)
        _audit_look(session, user, query, object_type, object_id, len(shown))
    out: list[list[Any]] = [list(CSV_HEADING)]
    for e in shown:
        who = e["user"] or {}
        out.append([e["at"].isoformat(), who.get("id"), who.get("name"), who.get("role"),
                    e["action"], e["object_type"], e["object_id"], e["reference"], e["route"]])
    return out


def account_names(rt: Runtime, *, user: User) -> list[dict[str, Any]]:
    """Every account's id, name and role, by name: the viewer's user filter to choose from."""
    require(user, VIEW_AUDIT, "view the audit trail")
    with rt.db.reader() as session:
        rows = session.exec(select(User.id, User.name, User.email, User.role)).all()
    return sorted(({"id": i, "name": name or email, "role": str(role)}
                   for i, name, email, role in rows),
                  key=lambda u: (u["name"].lower(), u["id"]))
