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
# Closing an urgent or statutory-level referral without a service needs a manager.
CLOSE_URGENT_REFERRALS = {Role.manager, Role.admin}
RECORD_CONSENT = {Role.front_door, Role.manager, Role.admin, Role.hub_coordinator,
                  Role.practitioner}
# Moving a case is the receiving team's work and its managers'; admins run the system, they do
# not work cases. A manager with a team manages that team; one without manages every team.
MANAGE_CASES = {Role.manager}
WORK_CASES = {Role.hub_coordinator, Role.practitioner, Role.front_door}
# Worklists: a team lists its own cases; these roles may list any team's.
LIST_ANY_TEAMS_CASES = {Role.admin, Role.front_door, Role.manager}


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
    """Only the receiving team (its service, or its service:instance) and its managers."""
    if user.role in MANAGE_CASES:
        return not user.team or on_team(user, case)
    return user.role in WORK_CASES and on_team(user, case)


def manages(user: User, service: str, instance: str) -> bool:
    """Whether the user is a manager of the team that works service:instance."""
    team = user.team or ""
    return user.role == Role.manager and team in ("", service, f"{service}:{instance}")


def team_of(user: User) -> tuple[str | None, str | None]:
    """The (service, instance) a staff member's team works; (None, None) without a team."""
    if not user.team:
        return None, None
    service, _, instance = user.team.partition(":")
    return service, instance or None


# Web app areas (issue 5): which roles see which pages and navigation items.
FRONT_DOOR_PAGES = {Role.admin, Role.front_door, Role.manager}
HUB_PAGES = {Role.admin, Role.manager, Role.hub_coordinator}
TEAM_CASE_PAGES = {Role.admin, Role.manager, Role.hub_coordinator, Role.practitioner,
                   Role.front_door}
PARTNER_PAGES = {Role.partner}
STAFF_REFERRAL_FORM = SUBMIT_REFERRALS - {Role.partner}


def may(user: User | None, allowed: set[Role]) -> bool:
    """For templates and navigation: whether the user's role is in the set (no raising)."""
    return user is not None and user.role in allowed


# People and search
# Search and the family record: front door, managers and admins everywhere; hub coordinators
# and practitioners among the families their team works with; partners never.
SEARCH_PEOPLE = {Role.admin, Role.front_door, Role.manager, Role.hub_coordinator,
                 Role.practitioner}
SEE_ALL_PEOPLE = SEE_ALL_REFERRALS


def sees_all_people(user: User) -> bool:
    return user.role in SEE_ALL_PEOPLE


# Workers
# Staff who may hold a case as its named worker (an active account on the case's team).
HOLD_CASES = {Role.practitioner, Role.hub_coordinator, Role.manager, Role.front_door}


def may_hold_case(worker: User, case: Case) -> bool:
    """Whether `worker` may be a case's named worker: active staff on the case's team."""
    return bool(worker.active) and worker.role in HOLD_CASES and on_team(worker, case)


def can_assign_case(user: User, case: Case, worker_id: int | None) -> bool:
    """The team's managers assign anyone; a team member may take a case (assign to self) or
    hand back one they hold."""
    if manages(user, case.service, case.instance):
        return True
    if not (user.role in WORK_CASES and on_team(user, case)):
        return False
    return worker_id == user.id or (worker_id is None and case.worker_id == user.id)


def can_list_worker_cases(user: User, worker_id: int) -> bool:
    """Anyone lists their own caseload; managers and admins list another worker's."""
    return worker_id == user.id or user.role in {Role.manager, Role.admin}


def can_see_caseloads(user: User, service: str, instance: str) -> bool:
    """A team's caseload counts per worker: its managers (and admins)."""
    return user.role == Role.admin or manages(user, service, instance)


# Accounts (issue 12): only administrators create, change, deactivate and reset accounts,
# issue or revoke tokens for others and see sign-in history.
ADMINISTER_ACCOUNTS = {Role.admin}
# A role change or deactivation that would leave no active account with one of these roles
# is refused (someone must always be able to administer the service).
MUST_KEEP_ONE_ACTIVE = Role.admin
