"""Staff pages for privacy operations: a person's printable subject-access export, correcting
their details, restricting their record to named users (and lifting it). Views are thin: the
privacy services check, change and audit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from triage.errors import Conflict, ValidationFailed
from triage.policy import (
    EXPORT_SUBJECT_DATA,
    RECTIFY_PEOPLE,
    RESTRICT_RECORDS,
    REVIEW_RETENTION,
)
from triage.schemas.contact import SEX
from triage.services.people import record
from triage.services.privacy import rectification, restrictions, retention, subject_access
from triage.web.security import current_user, require_role, runtime

bp = Blueprint("privacy", __name__)

RECTIFY_FIELDS = ("given_name", "family_name", "nhs_number", "sex", "ethnicity")
RECTIFY_CONTACT = ("phone", "email", "language")


@bp.get("/people/<int:person_id>/export")
@require_role(EXPORT_SUBJECT_DATA)
def export(person_id: int):
    shown = subject_access.export_person(runtime(), user=current_user(), person_id=person_id)
    return render_template("privacy/export.html", export=shown)


def _field_errors(errors: dict[str, list[str]]) -> dict[str, str]:
    """Service error keys (changes.contact.phone, reason) as the page's field ids."""
    out = {}
    for key, messages in errors.items():
        field = key.removeprefix("changes.").removeprefix("contact.")
        field = {"date_of_birth": "dob-day", "changes": "given_name"}.get(field, field)
        out[field] = " ".join(messages)
    return out


def _changes(person: dict[str, Any], form) -> dict[str, Any]:
    """Only what the form changes: each field as typed, compared with what is kept."""
    changes: dict[str, Any] = {}
    for name in RECTIFY_FIELDS:
        typed = form.get(name, "").strip()
        if typed != (person.get(name) or ""):
            changes[name] = typed or None
    contact = {}
    for name in RECTIFY_CONTACT:
        typed = form.get(name, "").strip()
        if typed != (person["contact"].get(name) or ""):
            contact[name] = typed or None
    if contact:
        changes["contact"] = contact
    day, month, year = (form.get(f"dob-{p}", "").strip() for p in ("day", "month", "year"))
    if day or month or year:
        typed = f"{year}-{month.zfill(2)}-{day.zfill(2)}"
        if typed != person["date_of_birth"].isoformat():
            changes["date_of_birth"] = typed
    return changes


@bp.route("/people/<int:person_id>/rectify", methods=["GET", "POST"])
@require_role(RECTIFY_PEOPLE)
def rectify(person_id: int):
    rt, user = runtime(), current_user()
    person = record.get_person(rt, user=user, person_id=person_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            rectification.rectify(rt, user=user, person_id=person_id, body={
                "changes": _changes(person, request.form),
                "reason": request.form.get("reason", "")})
            return redirect(url_for("people.person", person_id=person_id, corrected=1))
        except ValidationFailed as exc:
            errors = _field_errors(exc.errors)
    return render_template("privacy/rectify.html", person=person, form=request.form,
                           errors=errors, sexes=SEX), (422 if errors else 200)


@bp.route("/people/<int:person_id>/restriction", methods=["GET", "POST"])
@require_role(RESTRICT_RECORDS)
def restrict(person_id: int):
    rt, user = runtime(), current_user()
    person = record.get_person(rt, user=user, person_id=person_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        emails = request.form.get("users", "").replace(",", "\n").splitlines()
        try:
            ids = restrictions.user_ids_for_emails(rt, emails)
            restrictions.set_restriction(rt, user=user, person_id=person_id, body={
                "users": ids, "reason": request.form.get("reason", "")})
            return redirect(url_for("people.person", person_id=person_id, restricted=1)
                            if user.id in ids else url_for("privacy.restriction_list",
                                                           restricted=1))
        except ValidationFailed as exc:
            errors = {k.split(".")[0]: " ".join(v) for k, v in exc.errors.items()}
    return render_template("privacy/restrict.html", person=person, form=request.form,
                           errors=errors), (422 if errors else 200)


@bp.get("/privacy/restrictions")
@require_role(RESTRICT_RECORDS)
def restriction_list():
    shown = restrictions.list_restrictions(runtime(), user=current_user())
    return render_template("privacy/restrictions.html", restrictions=shown,
                           done=request.args.get("restricted") or request.args.get("lifted"),
                           errors={})


@bp.post("/privacy/restrictions/<int:restriction_id>/lift")
@require_role(RESTRICT_RECORDS)
def lift(restriction_id: int):
    rt, user = runtime(), current_user()
    try:
        restrictions.lift_restriction(rt, user=user, restriction_id=restriction_id,
                                      body={"reason": request.form.get("reason", "")})
    except ValidationFailed as exc:
        shown = restrictions.list_restrictions(rt, user=user)
        return render_template("privacy/restrictions.html", restrictions=shown, done=None,
                               errors={f"reason-{restriction_id}": " ".join(
                                   exc.errors.get("reason", ["Give a reason."]))}), 422
    return redirect(url_for("privacy.restriction_list", lifted=1))


def _retention_page(errors: dict[str, str] | None = None, status: int = 200,
                    message: str | None = None):
    rt = runtime()
    shown = [retention.describe(rt, r) for r in retention.reviews(rt, user=current_user())]
    waiting = next((r for r in shown if r["status"] == "reported"), None)
    return render_template("privacy/retention.html", reviews=shown, waiting=waiting,
                           errors=errors or {}, message=message,
                           done=request.args.get("done")), status


@bp.get("/privacy/retention")
@require_role(REVIEW_RETENTION)
def retention_page():
    return _retention_page()


@bp.post("/privacy/retention/report")
@require_role(REVIEW_RETENTION)
def retention_report():
    retention.run_report(runtime(), user=current_user())
    return redirect(url_for("privacy.retention_page", done="checked"))


@bp.post("/privacy/retention/<int:review_id>/confirm")
@require_role(REVIEW_RETENTION)
def retention_confirm(review_id: int):
    try:
        retention.confirm(runtime(), user=current_user(), review_id=review_id,
                          body={"reason": request.form.get("reason", "")})
    except ValidationFailed as exc:
        return _retention_page({"reason": " ".join(exc.errors.get("reason", []))}, 422)
    except Conflict as exc:
        return _retention_page(status=409, message=exc.message)
    return redirect(url_for("privacy.retention_page", done="confirmed"))
