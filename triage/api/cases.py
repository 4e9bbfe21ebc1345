"""Case endpoints: a team's worklist, one case with its pathway, firing an event on it,
handing over a worker's open cases."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from triage.api.auth import current_user, runtime
from triage.api.body import json_body
from triage.services.cases import capacity, casework, reassign, worklists

bp = Blueprint("cases", __name__)


@bp.get("/cases")
def list_cases():
    return jsonify(worklists.list_cases(runtime(), user=current_user(),
                                        args=request.args.to_dict()))


@bp.get("/cases/capacity")
def load_against_capacity():
    return jsonify(capacity.load_against_capacity(runtime(), user=current_user()))


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):
    return jsonify(casework.get_case(runtime(), user=current_user(), case_id=case_id))


@bp.post("/cases/<int:case_id>/events")
def fire_event(case_id: int):
    return jsonify(casework.fire_case_event(runtime(), user=current_user(), case_id=case_id,
                                         body=json_body()))


@bp.post("/cases/reassign")
def reassign_cases():
    return jsonify(reassign.reassign_open_cases(runtime(), user=current_user(),
                                                body=json_body()))
