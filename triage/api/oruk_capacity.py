"""Capacity status over the API: read by anyone signed in, set by the team's managers."""

from __future__ import annotations

from flask import Blueprint, jsonify

from triage.api.auth import current_user, runtime
from triage.api.body import json_body
from triage.services.directory import capacity

bp = Blueprint("capacity", __name__)


def _signed_in():
    return current_user()  # 401 without a valid token


@bp.get("/capacity")
def list_capacity():
    _signed_in()
    return jsonify({"capacity": capacity.list_statuses(runtime())})


@bp.get("/capacity/<service>/<instance>")
def get_capacity(service: str, instance: str):
    _signed_in()
    return jsonify(capacity.get_status(runtime(), service, instance))


@bp.put("/capacity/<service>/<instance>")
def set_capacity(service: str, instance: str):
    user = _signed_in()
    return jsonify(capacity.set_status(runtime(), user=user, service=service,
                                       instance=instance, body=json_body()))
