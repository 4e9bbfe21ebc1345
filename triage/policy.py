"""Who may do what: every permission check in one place, named for what it allows."""

from __future__ import annotations

from collections.abc import Iterable

from triage.errors import Forbidden
from triage.models import Case, Referral, Role, User

SEE_ALL_REFERRALS = {Role.admin, Role.front_door, Role.manager}
SUBMIT_REFERRALS = {Role.admin, Role.front_door, Role.hub_coordinator, Role.practitioner,
                    Role.manager, Role.partner}
PREVIEW_DECISIONS = SUBMIT_REFERRALS
OVERRIDE_DECISIONS = {Role.front_door, Role.manager, Role.admin}
RECORD_CONSENT = {Role.front_door, Role.manager, Role.admin, Role.hub_coordinator,
                  Role.practitioner}
MOVE_CASES_ANYWHERE = {Role.manager, Role.admin}
WORK_CASES = {Role.hub_coordinator, Role.practitioner, Role.front_door}


def require(user: User, allowed: set[Role], what: str) -> None:
    if user.role not in allowed:
        raise Forbidden(f"Your role ({user.role}) may not {what}.")


def on_team(user: User, case: Case) -> bool:
    """A team is a service id (all its instances) or service:instance."""
    team = user.team or ""
    return team in (case.service, f"{case.service}:{case.instance}")


def can_view_referral(user: User, referral: Referral, cases: Iterable[Case]) -> bool:
    if user.role in SEE_ALL_REFERRALS:
        return True
    if user.role == Role.partner:
        return referral.submitted_by_id == user.id
    return any(on_team(user, case) for case in cases) or referral.submitted_by_id == user.id


def can_view_case(user: User, case: Case) -> bool:
    return user.role in SEE_ALL_REFERRALS or on_team(user, case)


def can_move_case(user: User, case: Case) -> bool:
    if user.role in MOVE_CASES_ANYWHERE:
        return True
    return user.role in WORK_CASES and on_team(user, case)
