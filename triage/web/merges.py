"""Staff pages for merging two records of one person or family (choose, confirm side by side,
undo from the record's history) and the front door's "check who this is" worklist. Views are
thin: the people services check, change and audit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from triage.errors import Conflict, NotFound, ValidationFailed
from triage.policy import MERGE_RECORDS, REVIEW_MATCHES
from triage.services.people import merge, record, review_queue, search
from triage.web.security import current_user, require_role, runtime

bp = Blueprint("merges", __name__)

PAGES = {"person": ("people.person", "person_id"), "household": ("people.family", "household_id")}


def _errors(exc: ValidationFailed) -> dict[str, str]:
    return {key: " ".join(messages) for key, messages in exc.errors.items()}


def _record(kind: str, record_id: int) -> dict[str, Any]:
    rt, user = runtime(), current_user()
    if kind == "person":
        return record.get_person(rt, user=user, person_id=record_id)
    return record.get_household(rt, user=user, household_id=record_id)


def _merge_page(kind: str, record_id: int):
    """Choose the record to keep (by id, or from a search), then confirm side by side."""
    rt, user = runtime(), current_user()
    shown = _record(kind, record_id)
    errors: dict[str, str] = {}
    form = request.form if request.method == "POST" else request.args
    into_text = (form.get("into") or "").strip()
    if request.method == "POST":
        try:
            merge.merge(rt, user=user, kind=kind, record_id=record_id, body={
                "into": int(into_text) if into_text.isdigit() else into_text,
                "reason": form.get("reason", "")})
            endpoint, name = PAGES[kind]
            return redirect(url_for(endpoint, **{name: int(into_text)}, merged=record_id))
        except ValidationFailed as exc:
            errors = _errors(exc)
        except Conflict as exc:
            errors = {"into": exc.message}
    other, results, q = None, None, (request.args.get("q") or "").strip()
    if into_text and "into" not in errors:
        if not into_text.isdigit() or int(into_text) == record_id:
            errors["into"] = "Give the id of another record (as its page shows it)."
        else:
            try:
                other = _record(kind, int(into_text))
            except NotFound:
                errors["into"] = f"No such {kind} record."
    if kind == "person" and q and other is None:
        try:
            results = [f for f in search.search(rt, user=user, args={"q": q})
                       if f.person.id != record_id]
        except ValidationFailed as exc:
            errors["q"] = " ".join(" ".join(v) for v in exc.errors.values())
    template = "merges/confirm.html" if other is not None else "merges/choose.html"
    return render_template(template, kind=kind, record=shown, other=other, errors=errors,
                           form=form, q=q, results=results), (422 if errors else 200)


@bp.route("/people/<int:person_id>/merge", methods=["GET", "POST"])
@require_role(MERGE_RECORDS)
def merge_person(person_id: int):
    return _merge_page("person", person_id)


@bp.route("/families/<int:household_id>/merge", methods=["GET", "POST"])
@require_role(MERGE_RECORDS)
def merge_family(household_id: int):
    return _merge_page("household", household_id)


@bp.post("/merges/<int:merge_id>/undo")
@require_role(MERGE_RECORDS)
def undo(merge_id: int):
    rt, user = runtime(), current_user()
    shown = merge.get_merge(rt, user=user, merge_id=merge_id)
    endpoint, name = PAGES[shown["kind"]]
    try:
        merge.undo(rt, user=user, merge_id=merge_id,
                   body={"reason": request.form.get("reason", "")})
    except ValidationFailed as exc:
        return render_template("merges/undo_refused.html", merge=shown,
                               problem=" ".join(_errors(exc).values())), 422
    except Conflict as exc:
        return render_template("merges/undo_refused.html", merge=shown,
                               problem=exc.message), 409
    return redirect(url_for(endpoint, **{name: shown["merged_id"]}, unmerged=merge_id))


@bp.get("/front-door/check")
@require_role(REVIEW_MATCHES)
def check():
    args = {k: v for k, v in request.args.items() if k in ("after",)}
    try:
        page = review_queue.list_reviews(runtime(), user=current_user(), args=args)
    except ValidationFailed:
        page = review_queue.list_reviews(runtime(), user=current_user(), args={})
    return render_template("merges/check.html", page=page, errors={}, form={})


@bp.post("/front-door/check/<int:review_id>")
@require_role(REVIEW_MATCHES)
def answer(review_id: int):
    rt, user = runtime(), current_user()
    try:
        answered = review_queue.decide(rt, user=user, review_id=review_id, body={
            "decision": request.form.get("decision", ""),
            "reason": request.form.get("reason", "")})
    except ValidationFailed as exc:
        page = review_queue.list_reviews(rt, user=user, args={})
        return render_template("merges/check.html", page=page, errors=_errors(exc),
                               failed=review_id, form=request.form, error_links={
                                   "decision": f"#decision-{review_id}",
                                   "reason": f"#reason-{review_id}"}), 422
    done = "linked" if answered["review"]["status"] == "linked" else "dismissed"
    return redirect(url_for("merges.check", **{done: review_id}))
