"""The audit trail page for managers and admins: filters, a page of events newest first with
each record linked where the viewer may open it, older pages, and a CSV download. The audit
trail service checks, reads and audits the look."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from triage.api.audit import csv_download
from triage.errors import NotFound, ValidationFailed
from triage.policy import ADMINISTER_ACCOUNTS, SEE_ALL_PEOPLE, SEE_ALL_REFERRALS, VIEW_AUDIT, may
from triage.schemas.audit import FILTERS
from triage.services import audit_trail
from triage.web.security import current_user, require_role, runtime

bp = Blueprint("audit", __name__)

RECORD_TYPES = {"person": "Person", "household": "Family", "referral": "Referral",
                "case": "Case", "user": "User account", "api_token": "API token",
                "retention_review": "Retention review", "endpoint": "Page or endpoint"}


def record_link(event: dict[str, Any]) -> str | None:
    """The page of an event's record, when the viewer may open it."""
    user, kind, object_id = current_user(), event["object_type"], event["object_id"]
    if not object_id.isdigit():
        return None
    if kind == "person" and may(user, SEE_ALL_PEOPLE):
        return url_for("people.person", person_id=int(object_id))
    if kind == "household" and may(user, SEE_ALL_PEOPLE):
        return url_for("people.family", household_id=int(object_id))
    if kind == "referral" and event["reference"] and may(user, SEE_ALL_REFERRALS):
        return url_for("referral.show", reference=event["reference"])
    if kind == "case" and may(user, SEE_ALL_REFERRALS):
        return url_for("casework.show", case_id=int(object_id))
    if kind == "user" and may(user, ADMINISTER_ACCOUNTS):
        return url_for("admin_users.show", user_id=int(object_id))
    return None


@bp.get("/audit")
@require_role(VIEW_AUDIT)
def index():
    rt, user = runtime(), current_user()
    args = {k: v for k, v in request.args.items() if k in (*FILTERS, "before", "format")}
    filters = {k: v for k, v in args.items() if k in FILTERS and v.strip()}
    errors: dict[str, str] = {}
    page = None
    try:
        if args.get("format") == "csv":
            return csv_download(audit_trail.csv_rows(rt, user=user, args=args), "audit.csv")
        page = audit_trail.events(rt, user=user, args=args)
    except ValidationFailed as exc:
        errors = {k: " ".join(v) for k, v in exc.errors.items()}
    except NotFound:
        errors = {"person": "No person has that id, or you may not see their record."}
    events = [{**e, "link": record_link(e)} for e in (page or {}).get("events", [])]
    return render_template(
        "audit/index.html", page=page, events=events, filters=filters, errors=errors,
        record_types=RECORD_TYPES, users=audit_trail.account_names(rt, user=user),
        first_page=not args.get("before")), (422 if errors else 200)
