"""Privacy endpoints (UK GDPR): a person's subject-access export, rectification, restricting
a record to named users (and lifting it), and the retention schedule's reviews."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, jsonify

from triage.api.auth import current_user, runtime
from triage.api.body import json_body
from triage.services.privacy import rectification, restrictions, retention, subject_access

bp = Blueprint("privacy_api", __name__)


def iso(value: Any) -> Any:
    """Dates and times as ISO 8601 throughout (an export is read by other systems)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: iso(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [iso(v) for v in value]
    return value


@bp.get("/people/<int:person_id>/export")
def export_person(person_id: int):
    body = subject_access.export_person(runtime(), user=current_user(), person_id=person_id)
    return jsonify(iso(body))


@bp.post("/people/<int:person_id>/rectification")
def rectify_person(person_id: int):
    user = current_user()
    body = json_body()
    return jsonify(iso(rectification.rectify(runtime(), user=user, person_id=person_id,
                                             body=body)))


@bp.post("/people/<int:person_id>/restriction")
def restrict_person(person_id: int):
    user = current_user()
    body = json_body()
    shown = restrictions.set_restriction(runtime(), user=user, person_id=person_id, body=body)
    return jsonify(iso(shown)), 201


@bp.get("/restrictions")
def list_restrictions():
    return jsonify({"restrictions": iso(restrictions.list_restrictions(
        runtime(), user=current_user()))})


@bp.post("/restrictions/<int:restriction_id>/lift")
def lift_restriction(restriction_id: int):
    user = current_user()
    body = json_body()
    return jsonify(iso(restrictions.lift_restriction(runtime(), user=user,
                                                     restriction_id=restriction_id, body=body)))


@bp.get("/retention/reviews")
def retention_reviews():
    rt = runtime()
    return jsonify({"reviews": [iso(retention.describe(rt, r))
                                for r in retention.reviews(rt, user=current_user())]})


@bp.post("/retention/reviews")
def retention_report():
    rt = runtime()
    review = retention.run_report(rt, user=current_user())
    if review is None:
        return jsonify({"review": None, "message": "Nothing is due."})
    return jsonify({"review": iso(retention.describe(rt, review))}), 201


@bp.post("/retention/reviews/<int:review_id>/confirm")
def retention_confirm(review_id: int):
    user = current_user()
    body = json_body()
    return jsonify(iso(retention.confirm(runtime(), user=user, review_id=review_id, body=body)))
