"""Administering accounts: listing, creating and changing users, deactivating and
reactivating them. Every change is audited (ids and codes only) and bumps the account's
generation, so remembered API tokens are re-checked everywhere at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from config.profile import Profile
from triage import policy
from triage.errors import Conflict, NotFound, ValidationFailed, flatten_errors
from triage.models import ApiToken, PasswordReset, Role, User, WebSession
from triage.models.base import utcnow
from triage.runtime import Runtime
from triage.schemas.accounts import ChangeUserSchema, NewUserSchema, UserQuerySchema
from triage.services import audit
from triage.services.accounts.users import bump_generation

PAGE_SIZE = 50
# The front door works as a team of its own (notifications go to team:front_door).
FRONT_DOOR_TEAM = "front_door"
LAST_ADMIN = ("There must always be an active administrator: make someone else an "
              "administrator first.")


def teams(profile: Profile) -> list[tuple[str, str]]:
    """The teams the account forms list, (id, name): the front door, then the profile's
    teams by name (teams.yaml, or each service and each of its instances)."""
    return profile.teams.choices(with_front_door=True)


def roles_offered(rt: Runtime) -> list[str]:
    """The roles an account may be given under this profile: the meeting coordinator only
    when a pathway has a meeting (without one the role would mean nothing)."""
    from triage.services.hub.meetings import has_meetings

    meetings = has_meetings(rt)
    return [r.value for r in Role if meetings or r != Role.hub_coordinator]


def role_names(rt: Runtime) -> dict[str, str]:
    """Every role's name as pages show it (the meeting coordinator in the profile's words)."""
    names = {Role.admin: "Administrator", Role.front_door: "Front door",
             Role.manager: "Manager", Role.hub_coordinator: rt.profile.texts["meeting_coordinator"],
             Role.practitioner: "Practitioner", Role.partner: "Partner"}
    return {role.value: name for role, name in names.items()}


def _load(schema: Any, body: Any) -> dict[str, Any]:
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None


def _allowed(admin: User) -> None:
    policy.require(admin, policy.ADMINISTER_ACCOUNTS, "administer accounts")


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int
    page: int
    pages: int
    query: dict[str, Any]


def list_users(rt: Runtime, *, admin: User, args: dict[str, str]) -> UserPage:
    """Accounts by name and email, filtered by role, team (a service's members include its
    instances') and whether active."""
    _allowed(admin)
    query = _load(UserQuerySchema(), args)
    stmt = select(User)
    if query["role"]:
        stmt = stmt.where(User.role == query["role"])
    if query["team"]:
        stmt = stmt.where((User.team == query["team"])
                          | User.team.startswith(query["team"] + ":", autoescape=True))
    if query["active"]:
        stmt = stmt.where(User.active.is_(query["active"] == "yes"))
    with rt.db.reader() as session:
        total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
        rows = session.exec(stmt.order_by(func.lower(func.coalesce(User.name, User.email)),
                                          User.id)
                            .offset((query["page"] - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    pages = max(1, -(-total // PAGE_SIZE))
    return UserPage(users=list(rows), total=total, page=query["page"], pages=pages, query=query)


def get_user(rt: Runtime, *, admin: User, user_id: int) -> User:
    _allowed(admin)
    with rt.db.reader() as session:
        user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


def create_user(rt: Runtime, *, admin: User, body: dict[str, Any]) -> User:
    """A new staff or partner account, without a password (send a reset next)."""
    _allowed(admin)
    data = _load(NewUserSchema(teams=rt.profile.teams, roles=roles_offered(rt)), body)
    email = data["email"].strip().lower()
    with rt.db.unit_of_work() as session:
        if session.exec(select(User.id).where(User.email == email)).first() is not None:
            raise ValidationFailed({"email": ["An account with this email address already "
                                              "exists."]})
        user = User(email=email, name=data["name"], role=data["role"], team=data["team"],
                    organisation=data["organisation"])
        session.add(user)
        session.flush()
        audit.record(session, actor=admin, action="user.create", object_type="user",
                     object_id=user.id, role=user.role, team=user.team)
    return user


def _locked(session: Session, rt: Runtime, user_id: int) -> User:
    user = session.get(User, user_id, with_for_update=not rt.db.is_sqlite)
    if user is None:
        raise NotFound("No such account.")
    return user


def _other_active_admins(session: Session, rt: Runtime, user: User) -> int:
    """Active administrators besides `user`, their rows locked (on PostgreSQL) so that two
    administrators demoting each other at once cannot both succeed."""
    stmt = select(User.id).where(User.role == policy.MUST_KEEP_ONE_ACTIVE,
                                 User.active.is_(True), User.id != user.id)
    if not rt.db.is_sqlite:
        stmt = stmt.with_for_update()
    return len(session.exec(stmt).all())


def change_user(rt: Runtime, *, admin: User, user_id: int, body: dict[str, Any]) -> User:
    """Change an account's name, role, team and organisation; the last active administrator
    keeps the admin role."""
    _allowed(admin)
    data = _load(ChangeUserSchema(teams=rt.profile.teams, roles=roles_offered(rt)), body)
    with rt.db.unit_of_work() as session:
        user = _locked(session, rt, user_id)
        if (user.role == Role.admin and user.active and data["role"] != Role.admin
                and _other_active_admins(session, rt, user) == 0):
            raise ValidationFailed({"role": [LAST_ADMIN]})
        changed = [k for k in ("name", "role", "team", "organisation")
                   if getattr(user, k) != data[k]]
        if not changed:
            return user
        detail: dict[str, Any] = {"fields": changed}
        if "role" in changed:
            detail.update(role_from=user.role, role_to=data["role"])
        if "team" in changed:
            detail.update(team_from=user.team, team_to=data["team"])
        for k in changed:
            setattr(user, k, data[k])
        session.flush()
        bump_generation(session, user.id)
        audit.record(session, actor=admin, action="user.change", object_type="user",
                     object_id=user.id, **detail)
    return user


def deactivate(rt: Runtime, *, admin: User, user_id: int) -> dict[str, int]:
    """Switch an account off: its web sessions end and its API tokens are revoked in the same
    transaction, and every process re-checks the account before trusting a remembered token,
    so nothing it holds works from the next request on. Refused for the last active admin."""
    _allowed(admin)
    now = utcnow()
    with rt.db.unit_of_work() as session:
        user = _locked(session, rt, user_id)
        if not user.active:
            raise Conflict("This account is already deactivated.")
        if user.role == Role.admin and _other_active_admins(session, rt, user) == 0:
            raise Conflict(LAST_ADMIN)
        user.active = False
        session.flush()
        bump_generation(session, user.id)
        sessions = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        tokens = session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                                        ApiToken.revoked_at.is_(None))
                                 .values(revoked_at=now))
        session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id,
                                                    PasswordReset.ended_at.is_(None))
                        .values(ended_at=now, ended_by="deactivated"))
        counts = {"sessions_ended": sessions.rowcount, "tokens_revoked": tokens.rowcount}
        audit.record(session, actor=admin, action="user.deactivate", object_type="user",
                     object_id=user.id, **counts)
    rt.db.token_cache.clear()
    return counts


def reactivate(rt: Runtime, *, admin: User, user_id: int) -> None:
    """Switch an account back on. Its old API tokens stay revoked; issue new ones."""
    _allowed(admin)
    with rt.db.unit_of_work() as session:
        user = _locked(session, rt, user_id)
        if user.active:
            raise Conflict("This account is already active.")
        user.active = True
        session.flush()
        bump_generation(session, user.id)
        audit.record(session, actor=admin, action="user.reactivate", object_type="user",
                     object_id=user.id)
