"""A user's notifications: what they and their team have been told (stored, emailed or not),
marking them read (for that user only), and the managers' overview of overdue cases."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from triage.api.auth import current_user, runtime
from triage.services.cases import overview
from triage.services.notices import inbox

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
def list_notifications():
    return jsonify(inbox.notifications_for(runtime(), user=current_user(),
                                           args=request.args.to_dict()))


@bp.post("/notifications/<int:notification_id>/read")
def mark_read(notification_id: int):
    return jsonify(inbox.mark_read(runtime(), user=current_user(),
                                   notification_id=notification_id))


@bp.post("/notifications/read-all")
def mark_all_read():
    return jsonify(inbox.mark_all_read(runtime(), user=current_user()))


@bp.get("/notifications/unread-count")
def unread_count():
    return jsonify({"unread": inbox.unread_count(runtime(), user=current_user()),
                    "counted_up_to": inbox.UNREAD_CAP + 1})


@bp.get("/notifications/overview")
def overdue_overview():
    return jsonify(overview.overdue_by_team(runtime(), user=current_user()))
