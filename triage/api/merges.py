"""Merging two records of one person or family (and undoing it), and the "check who this is"
worklist of pairs that may be one person."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from triage.api.auth import current_user, runtime
from triage.api.body import json_body
from triage.api.privacy import iso
from triage.services.people import merge, review_queue

bp = Blueprint("merges_api", __name__)


@bp.post("/people/<int:person_id>/merge")
def merge_person(person_id: int):
    user = current_user()
    body = json_body()
    return jsonify(iso(merge.merge(runtime(), user=user, kind="person", record_id=person_id,
                                   body=body))), 201


@bp.post("/households/<int:household_id>/merge")
def merge_household(household_id: int):
    user = current_user()
    body = json_body()
    return jsonify(iso(merge.merge(runtime(), user=user, kind="household",
                                   record_id=household_id, body=body))), 201


@bp.get("/merges/<int:merge_id>")
def get_merge(merge_id: int):
    return jsonify(iso(merge.get_merge(runtime(), user=current_user(), merge_id=merge_id)))


@bp.post("/merges/<int:merge_id>/undo")
def undo_merge(merge_id: int):
    user = current_user()
    body = json_body()
    return jsonify(iso(merge.undo(runtime(), user=user, merge_id=merge_id, body=body)))


@bp.get("/match-reviews")
def list_match_reviews():
    return jsonify(iso(review_queue.list_reviews(runtime(), user=current_user(),
                                                 args=request.args.to_dict())))


@bp.post("/match-reviews/<int:review_id>")
def decide_match_review(review_id: int):
    user = current_user()
    body = json_body()
    return jsonify(iso(review_queue.decide(runtime(), user=user, review_id=review_id,
                                           body=body)))
