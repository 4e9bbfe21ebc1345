"""A user's notifications as they read them: their own and their team's, unread first then
newest, marking one or all of them read, and how many are unread (for every page's menu).

A team's notifications are shared by its members, so "read" is kept per user
(NotificationRead): one member reading a notification leaves it unread for the others.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import and_, case, exists, func, literal, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from triage.errors import NotFound, ValidationFailed, flatten_errors
from triage.models import Notification, NotificationRead, Referral, Role, User
from triage.models.base import MAX_ID, utcnow
from triage.policy import team_of
from triage.runtime import Runtime
from triage.schemas.cases import NotificationListSchema, NotificationQuerySchema

# The menu shows "99+" past this: counting stops there, so the count stays cheap however many
# notifications a team has never read.
UNREAD_CAP = 99

_LIST = NotificationListSchema()


def recipients(profile: Any, user: User) -> list[str]:
    """The inboxes a user reads: their own, their team's (each instance of a service team by
    name) and, for managers, the managers' inbox."""
    names = [f"user:{user.id}"]
    team = team_of(user, profile.teams)
    if team is not None and user.role != Role.partner:
        if team.service is None:
            names.append(f"team:{team.id}")  # the front door
        else:
            if team.whole_service:
                names.append(f"team:{team.service}")
            names += [f"team:{team.service}:{i}" for i in sorted(team.instances)]
    if user.role == Role.manager:
        names.append("managers")
    return names


def _mine(profile: Any, user: User) -> Any:
    return Notification.recipient.in_(recipients(profile, user))


def _read_by(user: User) -> Any:
    return exists().where(NotificationRead.notification_id == Notification.id,
                          NotificationRead.user_id == user.id)


def _newest_ids(profile: Any, user: User, *, unread: bool | None, limit: int) -> Any:
    """The ids of the user's newest `limit` notifications (unread, read or both): each inbox
    read newest first down its index (recipient, created_at) and stopped at `limit`, then
    merged. One query over every inbox at once would gather and sort all of a team's
    notifications, however old, to take the newest fifty."""
    parts = []
    for name in recipients(profile, user):
        part = select(Notification.id, Notification.created_at).where(
            Notification.recipient == name)
        if unread is True:
            part = part.where(~_read_by(user))
        elif unread is False:
            part = part.where(_read_by(user))
        parts.append(select(part.order_by(Notification.created_at.desc(),
                                          Notification.id.desc()).limit(limit).subquery()))
    merged = union_all(*parts).subquery()
    return (select(merged.c.id).order_by(merged.c.created_at.desc(), merged.c.id.desc())
            .limit(limit))


def listed_statement(profile: Any, user: User, *, unread: bool | None, limit: int) -> Any:
    """The user's notifications (unread, read or both), newest first, with their referral's
    reference and when this user read them."""
    newest = _newest_ids(profile, user, unread=unread, limit=limit).subquery()
    stmt = (select(Notification, Referral.reference, NotificationRead.read_at)
            .join(newest, newest.c.id == Notification.id)
            .join(Referral, Referral.id == Notification.referral_id, isouter=True)
            .join(NotificationRead, and_(NotificationRead.notification_id == Notification.id,
                                         NotificationRead.user_id == user.id), isouter=True))
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def _listed(session: Session, profile: Any, user: User, *, unread: bool | None,
            limit: int) -> list[dict[str, Any]]:
    rows = session.exec(listed_statement(profile, user, unread=unread, limit=limit)).all()
    return [{"id": n.id, "recipient": n.recipient, "kind": n.kind, "subject": n.subject,
             "body": n.body, "referral": ref, "case_id": n.case_id, "created_at": n.created_at,
             "sent_at": n.sent_at, "read_at": read_at} for n, ref, read_at in rows]


def notifications_for(rt: Runtime, *, user: User, args: dict[str, str]) -> dict[str, Any]:
    """The user's notifications, unread first, each part newest first (references, never
    personal data); `read_at` is when this user read it."""
    try:
        query = NotificationQuerySchema().load(args)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None
    limit = query["limit"]
    with rt.db.reader() as session:
        items = _listed(session, rt.profile, user, unread=True, limit=limit)
        if not query["unread"] and len(items) < limit:
            items += _listed(session, rt.profile, user, unread=False, limit=limit - len(items))
    return _LIST.dump({"notifications": items})


def inbox(rt: Runtime, *, user: User, unread_limit: int = 50, read_limit: int = 20
          ) -> dict[str, Any]:
    """For the notifications page: the unread ones and the latest read ones, newest first."""
    with rt.db.reader() as session:
        unread = _listed(session, rt.profile, user, unread=True, limit=unread_limit)
        read = _listed(session, rt.profile, user, unread=False, limit=read_limit)
        count = _unread(session, rt.profile, user)
    return {"unread": _LIST.dump({"notifications": unread})["notifications"],
            "read": _LIST.dump({"notifications": read})["notifications"],
            "unread_count": count}


def unread_statement(profile: Any, user: User) -> Any:
    """How many of the user's notifications they have not read, up to UNREAD_CAP + 1 (each
    inbox counted down its index only as far as the cap)."""
    parts = [select(select(literal(1).label("one")).select_from(Notification)
                    .where(Notification.recipient == name, ~_read_by(user))
                    .limit(UNREAD_CAP + 1).subquery())
             for name in recipients(profile, user)]
    counted = func.count()
    return select(case((counted > UNREAD_CAP + 1, UNREAD_CAP + 1), else_=counted)).select_from(
        union_all(*parts).subquery())


def _unread(session: Session, profile: Any, user: User) -> int:
    return session.exec(unread_statement(profile, user)).one()


def unread_count(rt: Runtime, *, user: User) -> int:
    """How many of the user's notifications they have not read, counted up to UNREAD_CAP + 1
    (shown as "99+")."""
    with rt.db.reader() as session:
        return _unread(session, rt.profile, user)


def _insert_ignoring_repeats(session: Session):
    dialect = session.get_bind().dialect.name
    build = pg_insert if dialect == "postgresql" else sqlite_insert
    return build(NotificationRead.__table__)


def mark_read(rt: Runtime, *, user: User, notification_id: int) -> dict[str, Any]:
    """Mark one of the user's notifications read (for them only; again changes nothing). 404
    for a notification that is not theirs or their team's."""
    if not 0 < notification_id <= MAX_ID:
        raise NotFound("No such notification.")
    now = utcnow()
    with rt.db.unit_of_work() as session:
        found = session.exec(select(Notification.id).where(
            Notification.id == notification_id, _mine(rt.profile, user))).first()
        if found is None:
            raise NotFound("No such notification.")
        session.execute(_insert_ignoring_repeats(session).values(
            notification_id=notification_id, user_id=user.id, read_at=now)
            .on_conflict_do_nothing())
        read_at = session.exec(select(NotificationRead.read_at).where(
            NotificationRead.notification_id == notification_id,
            NotificationRead.user_id == user.id)).one()
    return {"id": notification_id, "read_at": read_at}


def mark_all_read(rt: Runtime, *, user: User) -> dict[str, Any]:
    """Mark every unread notification of the user's read, for them only, in one statement."""
    now = utcnow()
    with rt.db.unit_of_work() as session:
        unread = (select(Notification.id, literal(user.id), literal(now, NotificationRead
                                                                     .__table__.c.read_at.type))
                  .where(_mine(rt.profile, user), ~_read_by(user)))
        marked = len(session.execute(_insert_ignoring_repeats(session).from_select(
            ["notification_id", "user_id", "read_at"], unread).on_conflict_do_nothing()
            .returning(NotificationRead.__table__.c.notification_id)).all())
    return {"marked": marked, "read_at": now}
