"""A user's notifications: what they and their team have been told (stored, emailed or not)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from triage.api.auth import current_user, runtime
from triage.services.notices import notify

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
def list_notifications():
    return jsonify(notify.notifications_for(runtime(), user=current_user(),
                                            args=request.args.to_dict()))
