"""Who may do what: every permission check in one place, named for what it allows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from config.teams import Team, Teams
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


def team_of(user: User, teams: Teams) -> Team | None:
    """The profile's team of a staff member (the instances of one service whose cases it
    works); None without a team, or with one the profile no longer has."""
    return teams.get(user.team)


def covers(user: User, teams: Teams, service: str, instance: str | None) -> bool:
    """Whether the user's team works service:instance's cases: a service team (all its
    instances), an instance's team, or a team of several instances (teams.yaml)."""
    team = teams.get(user.team)
    return team is not None and team.covers(service, instance)


def on_team(user: User, case: Case, teams: Teams) -> bool:
    return covers(user, teams, case.service, case.instance)


def can_view_referral(user: User, referral: Referral, cases: Iterable[Case],
                      teams: Teams) -> bool:
    if user.role in SEE_ALL_REFERRALS:
        return True
    if user.role == Role.partner:
        return referral.submitted_by_id == user.id
    return any(on_team(user, case, teams) for case in cases) or \
        referral.submitted_by_id == user.id


def can_view_case(user: User, case: Case, teams: Teams) -> bool:
    return user.role in SEE_ALL_REFERRALS or on_team(user, case, teams)


# Working a case: firing its pathway's events (a hub meeting's decisions among them), adding
# notes, and the forms for each. Only the receiving team (its service, or service:instance) and
# its managers. Seeing a case (admins, the front door, every manager) is not working it: pages
# offer a form only where its POST would be allowed (case_actions).
def works_for_team(user: User, service: str, instance: str | None, teams: Teams) -> bool:
    """Whether the user works (or manages) a team whose cases include service:instance's."""
    ours = covers(user, teams, service, instance)
    if user.role in MANAGE_CASES:
        return not user.team or ours
    return user.role in WORK_CASES and ours


def can_move_case(user: User, case: Case, teams: Teams) -> bool:
    """Only the receiving team (one covering its service and instance) and its managers."""
    return works_for_team(user, case.service, case.instance, teams)


def can_add_note(user: User, case: Case, teams: Teams) -> bool:
    """Notes are the team's working record: the same people who move the case."""
    return can_move_case(user, case, teams)


def manages(user: User, service: str, instance: str | None, teams: Teams) -> bool:
    """Whether the user is a manager of a team that works service:instance (a manager
    without a team manages every team)."""
    return user.role == Role.manager and (not user.team or
                                          covers(user, teams, service, instance))


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


# The referral form's known-person check ("already known" before sending): the family
# record's rule. The front door, managers and admins (who make referrals at the front door)
# are told about anyone known; a hub coordinator or practitioner only about families their
# team works with; partners never (a partner's preview never reveals whether a family is known).
CHECK_KNOWN_PEOPLE = SEARCH_PEOPLE


# Workers
# Staff who may hold a case as its named worker (an active account on the case's team).
HOLD_CASES = {Role.practitioner, Role.hub_coordinator, Role.manager, Role.front_door}


def may_hold_case(worker: User, case: Case, teams: Teams) -> bool:
    """Whether `worker` may be a case's named worker: active staff on the case's team."""
    return bool(worker.active) and worker.role in HOLD_CASES and on_team(worker, case, teams)


def can_assign_case(user: User, case: Case, worker_id: int | None, teams: Teams) -> bool:
    """The team's managers assign anyone; a team member may take a case (assign to self) or
    hand back one they hold."""
    if manages(user, case.service, case.instance, teams):
        return True
    if not (user.role in WORK_CASES and on_team(user, case, teams)):
        return False
    return worker_id == user.id or (worker_id is None and case.worker_id == user.id)


def can_hand_over_case(user: User, case: Case, teams: Teams) -> bool:
    """Handing a worker's open cases to another at once (a leaver): the team's managers only;
    a team member takes one case at a time (can_assign_case)."""
    return manages(user, case.service, case.instance, teams)


ASSIGN_EVENT = "assign"


@dataclass(frozen=True)
class CaseActions:
    """What one user may do on one case: what its pages offer, each exactly when its POST
    would be allowed."""

    move: bool  # the pathway's events, and a hub meeting's decisions
    note: bool
    assign_anyone: bool  # any worker of the team, or nobody
    take: bool  # assign it to oneself
    hand_back: bool  # unassign a case one holds

    def may_fire(self, event: str) -> bool:
        if event == ASSIGN_EVENT:
            return self.assign_anyone or self.take or self.hand_back
        return self.move


def case_actions(user: User, case: Case, teams: Teams) -> CaseActions:
    move = can_move_case(user, case, teams)
    return CaseActions(
        move=move, note=can_add_note(user, case, teams),
        assign_anyone=move and manages(user, case.service, case.instance, teams),
        take=move and can_assign_case(user, case, user.id, teams)
        and may_hold_case(user, case, teams),
        hand_back=move and can_assign_case(user, case, None, teams))


def can_list_worker_cases(user: User, worker_id: int) -> bool:
    """Anyone lists their own caseload; managers and admins list another worker's."""
    return worker_id == user.id or user.role in {Role.manager, Role.admin}


def can_see_caseloads(user: User, team: Team, teams: Teams) -> bool:
    """A team's caseload counts per worker: managers of every instance it works (and
    admins)."""
    return user.role == Role.admin or (team.service is not None and all(
        manages(user, team.service, i, teams) for i in team.instances))


# Privacy operations (UK GDPR)
# Restricting a record to named users, and lifting it: managers and admins, with a reason.
RESTRICT_RECORDS = {Role.manager, Role.admin}
# Who may be named on a restriction: staff who could otherwise work with the record.
NAMED_ON_RESTRICTIONS = SEARCH_PEOPLE
# A subject-access export holds everything about a person: the front door (which answers
# requests), managers and admins; teams see their own cases, not whole records.
EXPORT_SUBJECT_DATA = {Role.front_door, Role.manager, Role.admin}
# Correcting a person's details (rectification): the same roles that see every record.
RECTIFY_PEOPLE = {Role.front_door, Role.manager, Role.admin}
# Merging two records of one person (or one family) and undoing it, and the "check who this
# is" worklist: the roles that see every record, so they see both records of a pair.
MERGE_RECORDS = {Role.front_door, Role.manager, Role.admin}
REVIEW_MATCHES = MERGE_RECORDS
# The retention schedule: only admins see what is due and confirm erasure.
REVIEW_RETENTION = {Role.admin}


def may_see_restricted(user: User, named_user_ids: Iterable[int]) -> bool:
    """A restricted record is seen only by the users named on it: not by role, not by team,
    not even admins (a member of staff's own family, a person at risk who has moved)."""
    return user.id is not None and user.id in set(named_user_ids)


def may_be_named_on_restriction(user: User) -> bool:
    """Active staff who could otherwise see records; never partners."""
    return bool(user.active) and user.role in NAMED_ON_RESTRICTIONS


def restriction_spares_own_referral(user: User, referral: Referral) -> bool:
    """A partner still sees a referral they sent about a restricted person: their view holds
    only what they sent, and a 404 on their own referral would tell them the person is
    restricted."""
    return user.role == Role.partner and referral.submitted_by_id == user.id


# Oversight (issue 15)
# Notifications: everyone signed in reads their own and their team's.
READ_NOTIFICATIONS = set(Role)
# The audit trail (who viewed or changed which record): managers and admins. A restriction
# hides its records' events as it hides the records (may_see_restricted), admins included.
VIEW_AUDIT = {Role.manager, Role.admin}
# Overdue and escalated cases counted by team: managers (their own team's, or every team's
# without one) and admins.
SEE_OVERDUE_OVERVIEW = {Role.manager, Role.admin}


def overview_teams(user: User, teams: Teams) -> Team | None:
    """Whose cases a user's overdue overview (and capacity page) counts: None for every team
    (admins, managers without a team), else the manager's team. A manager whose team the
    profile no longer has counts nothing (an empty team), never every team."""
    if user.role != Role.manager or not user.team:
        return None
    return teams.get(user.team) or Team(id=user.team, name=user.team, service=None)


# Capacity (policy §5 caseload allocation): open cases against each team's capacity, counts
# only: managers (their own team's service, or every service without a team) and admins.
SEE_CAPACITY = {Role.manager, Role.admin}


# Accounts (issue 12): only administrators create, change, deactivate and reset accounts,
# issue or revoke tokens for others and see sign-in history.
ADMINISTER_ACCOUNTS = {Role.admin}
# A role change or deactivation that would leave no active account with one of these roles
# is refused (someone must always be able to administer the service).
MUST_KEEP_ONE_ACTIVE = Role.admin
