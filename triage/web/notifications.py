"""The notifications page for everyone signed in (unread first, mark one or all read, for
the reader only), and the managers' overview of overdue and escalated cases by team."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from triage.policy import (
    FRONT_DOOR_PAGES,
    PARTNER_PAGES,
    READ_NOTIFICATIONS,
    SEE_OVERDUE_OVERVIEW,
    TEAM_CASE_PAGES,
    may,
)
from triage.services.cases import overview as case_overview
from triage.services.notices import inbox
from triage.web.security import current_user, require_role, runtime

bp = Blueprint("inbox", __name__, url_prefix="/notifications")


def _links(item: dict[str, Any]) -> dict[str, Any]:
    """Where a notification points: its case for teams, its referral for the front door and
    managers, the partner's own view of a referral they sent."""
    user = current_user()
    links = []
    if item["case_id"] and may(user, TEAM_CASE_PAGES):
        links.append((f"Case {item['case_id']}",
                      url_for("casework.show", case_id=item["case_id"])))
    if item["referral"]:
        if may(user, FRONT_DOOR_PAGES):
            links.append((f"Referral {item['referral']}",
                          url_for("referral.show", reference=item["referral"])))
        elif may(user, PARTNER_PAGES):
            links.append((f"Referral {item['referral']}",
                          url_for("partner.show", reference=item["referral"])))
    return {**item, "links": links}


@bp.get("/")
@require_role(READ_NOTIFICATIONS)
def index():
    rt, user = runtime(), current_user()
    found = inbox.inbox(rt, user=user)
    summary = (case_overview.overdue_by_team(rt, user=user)
               if may(user, SEE_OVERDUE_OVERVIEW) else None)
    return render_template("notifications/index.html",
                           unread=[_links(n) for n in found["unread"]],
                           read=[_links(n) for n in found["read"]],
                           unread_count=found["unread_count"], cap=inbox.UNREAD_CAP,
                           summary=summary, done=request.args.get("done"))


@bp.post("/<int:notification_id>/read")
@require_role(READ_NOTIFICATIONS)
def mark_read(notification_id: int):
    inbox.mark_read(runtime(), user=current_user(), notification_id=notification_id)
    return redirect(url_for("inbox.index", done="read"))


@bp.post("/read-all")
@require_role(READ_NOTIFICATIONS)
def mark_all_read():
    inbox.mark_all_read(runtime(), user=current_user())
    return redirect(url_for("inbox.index", done="all"))


@bp.get("/overview")
@require_role(SEE_OVERDUE_OVERVIEW)
def overview():
    shown = case_overview.overdue_by_team(runtime(), user=current_user())
    return render_template("notifications/overview.html", overview=shown)
