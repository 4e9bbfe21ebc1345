"""What a user may do on one case, for the pages that offer it (the rules: policy.case_actions)."""

from __future__ import annotations

from triage.models import User
from triage.policy import CaseActions, case_actions
from triage.runtime import Runtime
from triage.services.cases.casework import find_case


def actions_on(rt: Runtime, *, user: User, case_id: int) -> CaseActions:
    """Which of the case's forms to offer. Not audited: call it after get_case, which checks
    and audits the view."""
    with rt.db.reader() as session:
        return case_actions(user, find_case(session, case_id), rt.profile.teams)
