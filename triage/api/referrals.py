"""Referral endpoints: preview a decision, record a referral, read one back, list them."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from triage.api.auth import current_user, runtime
from triage.api.body import json_body
from triage.errors import ValidationFailed
from triage.schemas import batch_csv
from triage.services.referrals import batches, decisions, intake, referral_lists

bp = Blueprint("referrals", __name__)


@bp.post("/triage/preview")
def preview():
    user = current_user()
    return jsonify(intake.preview(runtime(), user=user, body=json_body()))


@bp.post("/referrals")
def create_referral():
    user = current_user()
    status, body = intake.submit_referral(
        runtime(), user=user, body=json_body(),
        idempotency_key=request.headers.get("Idempotency-Key"))
    response = jsonify(body)
    response.status_code = status
    response.headers["Location"] = f"/api/v1/referrals/{body['reference']}"
    return response


@bp.post("/referrals/batch")
def create_batch():
    """Many referrals at once, all recorded or none: JSON {"referrals": [...]} or a CSV file
    (Content-Type: text/csv) with the template's columns. A CSV file this sender already
    sent in the last 30 days is a 409 unless ?confirm=duplicate."""
    user = current_user()
    key = request.headers.get("Idempotency-Key")
    if request.args.get("confirm", "duplicate") != "duplicate":
        raise ValidationFailed({"confirm": ["Leave it out, or send confirm=duplicate."]})
    if request.mimetype == "text/csv":
        status, body = batches.submit_csv(
            runtime(), user=user, data=request.get_data(), idempotency_key=key,
            confirm_duplicate=request.args.get("confirm") == "duplicate")
    else:
        status, body = batches.submit_batch(runtime(), user=user, body=json_body(),
                                            idempotency_key=key)
    return jsonify(body), status


@bp.get("/referrals/batch/template.csv")
def batch_template():
    current_user()
    return Response(batch_csv.template(runtime().profile), mimetype="text/csv",
                    headers=batch_csv.TEMPLATE_HEADERS)


@bp.get("/referrals")
def list_referrals():
    return jsonify(referral_lists.list_referrals(runtime(), user=current_user(),
                                                 args=request.args.to_dict()))


@bp.get("/referrals/<reference:reference>")
def get_referral(reference: str):
    return jsonify(intake.get_referral(runtime(), user=current_user(), reference=reference))


@bp.post("/referrals/<reference:reference>/consent")
def record_consent(reference: str):
    return jsonify(decisions.record_consent(runtime(), user=current_user(), reference=reference,
                                            body=json_body()))


@bp.post("/referrals/<reference:reference>/override")
def override(reference: str):
    return jsonify(decisions.override_decision(runtime(), user=current_user(),
                                               reference=reference, body=json_body()))


@bp.post("/referrals/<reference:reference>/close")
def close(reference: str):
    return jsonify(decisions.close_referral(runtime(), user=current_user(), reference=reference,
                                            body=json_body()))
