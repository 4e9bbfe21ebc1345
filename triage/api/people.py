"""People endpoints (contract 5.2): search, one person, one household with its chronology."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from triage.api.auth import current_user, runtime
from triage.services.people import record, search

bp = Blueprint("people_api", __name__)


@bp.get("/people")
def search_people():
    results = search.search(runtime(), user=current_user(), args=request.args.to_dict())
    return jsonify({"results": [{
        "person": {"id": f.person.id, "given_name": f.person.given_name,
                   "family_name": f.person.family_name,
                   "date_of_birth": f.person.date_of_birth.isoformat()},
        "band": f.band, "score": f.score, "reasons": f.reasons,
        "household_ids": f.household_ids, "postcode": f.postcode,
        "open_cases": f.open_cases} for f in results]})


@bp.get("/people/<int:person_id>")
def get_person(person_id: int):
    return jsonify(record.get_person(runtime(), user=current_user(), person_id=person_id))


@bp.get("/households/<int:household_id>")
def get_household(household_id: int):
    return jsonify(record.get_household(runtime(), user=current_user(),
                                        household_id=household_id,
                                        kinds=request.args.get("kind")))
