"""Staff pages for the family record: search, a person, a family (household) with its
chronology. Views are thin: the people services check, read and audit."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from triage.errors import ValidationFailed
from triage.policy import SEARCH_PEOPLE
from triage.services.people import chronology, merge, record, search
from triage.web.security import current_user, require_role, runtime

bp = Blueprint("people", __name__)


@bp.get("/search")
@require_role(SEARCH_PEOPLE)
def search_page():
    q = request.args.get("q", "").strip()
    results, error = None, None
    if q:
        try:
            results = search.search(runtime(), user=current_user(), args={"q": q})
        except ValidationFailed as exc:
            error = " ".join(" ".join(v) for v in exc.errors.values())
    return render_template("people/search.html", q=q, results=results, error=error), \
        (422 if error else 200)


@bp.get("/people/<int:person_id>")
@require_role(SEARCH_PEOPLE)
def person(person_id: int):
    shown = record.get_person(runtime(), user=current_user(), person_id=person_id)
    if shown["merged_into"]:
        survivor = merge.survivor_of(runtime(), "person", person_id) or shown["merged_into"]
        return redirect(url_for("people.person", person_id=survivor, moved=person_id))
    return render_template("people/person.html", person=shown)


@bp.get("/families/<int:household_id>")
@require_role(SEARCH_PEOPLE)
def family(household_id: int):
    kinds = [k for k in request.args.getlist("kind") if k in chronology.KINDS]
    shown = record.get_household(runtime(), user=current_user(), household_id=household_id,
                                 kinds=",".join(kinds))
    if shown["merged_into"]:
        survivor = merge.survivor_of(runtime(), "household", household_id) \
            or shown["merged_into"]
        return redirect(url_for("people.family", household_id=survivor, moved=household_id))
    return render_template("people/family.html", family=shown, kinds=chronology.KINDS,
                           chosen=kinds)


@bp.get("/referrals/<reference>/family")
@require_role(SEARCH_PEOPLE)
def family_of_referral(reference: str):
    household_id = record.household_of_referral(runtime(), user=current_user(),
                                                reference=reference)
    return redirect(url_for("people.family", household_id=household_id))
