"""The managers' overview: open cases overdue now, and those of them whose managers have been
told (escalated), counted by team.

Overdue is what the worklists call overdue: an open case whose earliest due item's deadline
(next_due_at) has passed. Escalated is an overdue case the escalation sweep has told its
managers about since that deadline passed (escalated_at at or after next_due_at); a case
escalated for an earlier deadline that is overdue again, unescalated, is overdue only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func
from sqlmodel import select

from triage.models import Case, User
from triage.models.base import utcnow
from triage.policy import SEE_OVERDUE_OVERVIEW, overview_teams, require
from triage.runtime import Runtime
from triage.services.privacy import visibility


def overdue_by_team(rt: Runtime, *, user: User, now: datetime | None = None
                    ) -> dict[str, Any]:
    """{"teams": [{"service", "instance", "overdue", "escalated"}], "overdue", "escalated",
    "at"}: a manager's own team's (or every team's, for admins and managers without a team),
    teams with most overdue first. Cases a restriction hides from the user are not counted."""
    require(user, SEE_OVERDUE_OVERVIEW, "see the overdue cases of every team")
    now = now or utcnow()
    matching = [Case.closed_at.is_(None), Case.next_due_at <= now]
    team = overview_teams(user, rt.profile.teams)
    if team is not None:
        matching.append(Case.service == (team.service or ""))
        if team.instance_filter is not None:
            matching.append(Case.instance.in_(team.instance_filter))
    escalated = func.sum(case((and_(Case.escalated_at.is_not(None),
                                    Case.escalated_at >= Case.next_due_at), 1), else_=0))
    with rt.db.reader() as session:
        hidden = visibility.hidden_for(session, user)
        if hidden.cases:
            matching.append(Case.id.not_in(hidden.cases))
        rows = session.exec(select(Case.service, Case.instance, func.count(), escalated)
                            .where(*matching).group_by(Case.service, Case.instance)).all()
    teams = sorted(({"service": s, "instance": i, "overdue": n, "escalated": int(e or 0)}
                    for s, i, n, e in rows),
                   key=lambda row: (-row["overdue"], row["service"], row["instance"]))
    return {"teams": teams, "overdue": sum(t["overdue"] for t in teams),
            "escalated": sum(t["escalated"] for t in teams), "at": now}
