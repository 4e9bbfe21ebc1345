"""The staff referral journey (checklist form, live decision, known-family warning, submit),
the referral page with its decision and cases, recording consent, and the confirmation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from triage.errors import ValidationFailed
from triage.models import User
from triage.policy import (
    CHECK_KNOWN_PEOPLE,
    OVERRIDE_DECISIONS,
    RECORD_CONSENT,
    STAFF_REFERRAL_FORM,
    may,
)
from triage.services.people import known
from triage.services.referrals import decisions, intake, re_referral
from triage.web.forms import ReferralForm, errors_by_section, referral_errors
from triage.web.security import current_user, require_role, runtime

bp = Blueprint("referral", __name__, url_prefix="/referrals")


def referrer_fields(user: User, organisation: str) -> dict[str, str]:
    """The referrer part of the form, filled in from the signed-in account."""
    return {"referrer_organisation": organisation, "referrer_name": user.name or "",
            "referrer_email": user.email}


def referral_journey(*, channel: str, template: str, done_endpoint: str,
                     referrer: dict[str, str] | None = None):
    """GET: a blank form. POST: add a person, check the decision, or submit.

    Shared by the front door (staff channel) and partners (partner channel). The body is
    built from the form and validated by the same schema as the API; nothing is stored until
    the person submits, and a double submit is answered from the idempotency record.
    """
    rt = runtime()
    user = current_user()
    checklist = rt.profile.checklist
    form = ReferralForm(**(referrer or {}))
    errors: dict[str, str] = {}
    preview: dict[str, Any] | None = None
    known_people: list = []
    candidates: dict[str, list] = {}
    status = 200
    if request.method == "POST":
        form = ReferralForm.from_form(request.form, checklist)
        if referrer:
            # The account's organisation always; its name and email only where the referrer
            # typed none (a partner's own name and phone as referrer are kept).
            for key, value in referrer.items():
                if key == "referrer_organisation" or not getattr(form, key):
                    setattr(form, key, value)
        action = request.form.get("action", "check")
        body, rows = form.to_body(channel=channel)
        if action == "add_person":
            form.add_person_row()
        else:
            try:
                if action == "submit":
                    answered = _with_identity(form, body, channel)
                    _, created = intake.submit_referral(
                        rt, user=user, body=answered,
                        idempotency_key=f"web-{form.submission_key}")
                    return redirect(url_for(done_endpoint, reference=created["reference"]))
                preview, candidates = _preview(rt, user, form, body, channel)
                if may(user, CHECK_KNOWN_PEOPLE):
                    known_people = known.known_people(rt, user=user,
                                                      data=intake.parse_referral(rt, body))
            except ValidationFailed as exc:
                errors = referral_errors(exc.errors, rows, checklist,
                                         postcode_example=rt.profile.texts["postcode_example"])
                status = 422
                if any(key.startswith("identity-") for key in errors):
                    # Show the known people again, as they are now, to choose from.
                    candidates = _offered(rt, user, body)
    return render_template(template, form=form, errors=errors,
                           section_errors=errors_by_section(errors, checklist),
                           preview=preview, known_people=known_people, channel=channel,
                           candidates=candidates), status


def _with_identity(form: ReferralForm, body: dict[str, Any], channel: str,
                   offered: dict[str, list] | None = None) -> dict[str, Any]:
    """The body with the worker's answers about known people (the staff form only)."""
    if channel != "staff":
        return body
    answers = form.identity_body(offered)
    return {**body, "identity": answers} if answers else body


def _preview(rt, user: User, form: ReferralForm, body: dict[str, Any], channel: str
             ) -> tuple[dict[str, Any], dict[str, list]]:
    """The live decision and the known people who may be each person (staff). A Same person
    answer for one still offered is decided with, as recording will."""
    preview = intake.preview(rt, user=user, body=body)
    candidates = preview.pop("candidates", {})
    answered = _with_identity(form, body, channel, candidates)
    if any("same_as" in a for a in answered.get("identity", {}).values()):
        preview = intake.preview(rt, user=user, body=answered)
        preview.pop("candidates", None)
    return preview, candidates


def _offered(rt, user: User, body: dict[str, Any]) -> dict[str, list]:
    try:
        return intake.preview(rt, user=user, body=body).get("candidates", {})
    except ValidationFailed:
        return {}


@bp.route("/new", methods=["GET", "POST"])
@require_role(STAFF_REFERRAL_FORM)
def new():
    user: User = current_user()
    return referral_journey(channel="staff", template="referrals/new.html",
                            done_endpoint="referral.confirmation",
                            referrer=referrer_fields(
                                user, runtime().profile.team_name(user.team) or "Front door"))


@bp.get("/<reference>/confirmation")
@require_role(STAFF_REFERRAL_FORM)
def confirmation(reference: str):
    referral = intake.get_referral(runtime(), user=current_user(), reference=reference)
    return render_template("referrals/confirmation.html", referral=referral)


@bp.get("/<reference>")
@require_role(STAFF_REFERRAL_FORM)
def show(reference: str):
    user = current_user()
    return _page(intake.get_referral(runtime(), user=user, reference=reference), user,
                 done=DONE.get(request.args.get("done", "")))


# What the page confirms after an action (the redirect names one; nothing else is shown).
DONE = {"consent": "Consent recorded", "override": "Decision changed",
        "close": "Referral closed"}


def _page(referral: dict[str, Any], user: User, errors: dict[str, str] | None = None,
          status: int = 200, form: dict[str, str] | None = None, done: str | None = None):
    """The referral page with the actions this user may take on it now."""
    closures = runtime().profile.front_door.closures
    return render_template(
        "referrals/show.html", referral=referral, again=_re_referral(referral, user),
        can_consent=may(user, RECORD_CONSENT) and referral["status"] == "awaiting_consent",
        can_override=may(user, OVERRIDE_DECISIONS),
        can_close=bool(closures) and may(user, OVERRIDE_DECISIONS)
        and referral["status"] in decisions.CLOSABLE
        and all(case.get("closed_at") for case in referral["cases"]),
        closures=closures, errors=errors or {}, form=form or {}, done=done), status


def _re_referral(referral: dict[str, Any], user: User) -> dict[str, Any] | None:
    """The re-referral inset: the family's closed case, how long before this referral it
    closed, and whether the page may link to it."""
    found = referral.get("re_referral")
    if not found:
        return None
    closed_at = datetime.fromisoformat(found["closed_at"])
    return {**found, "months": re_referral.whole_months(
                closed_at, datetime.fromisoformat(referral["received_at"])),
            "link": re_referral.may_open_case(runtime(), user=user, case_id=found["case_id"])}


def _act(reference: str, action, body: dict[str, Any],
         errors_of: Callable[[dict[str, list[str]]], dict[str, str]], *, done: str):
    """Run a referral action from the page's form: back to the page, or the page again with
    the form's errors (and what was typed) and 422."""
    user = current_user()
    try:
        action(runtime(), user=user, reference=reference, body=body)
    except ValidationFailed as exc:
        referral = intake.get_referral(runtime(), user=user, reference=reference)
        return _page(referral, user, errors_of(exc.errors), 422, form=request.form.to_dict())
    return redirect(url_for("referral.show", reference=reference, done=done))


@bp.post("/<reference>/consent")
@require_role(RECORD_CONSENT)
def consent(reference: str):
    return _act(reference, decisions.record_consent,
                {"consent": request.form.get("consent", "")},
                lambda _: {"consent": "Select whether the person agrees"}, done="consent")


@bp.post("/<reference>/override")
@require_role(OVERRIDE_DECISIONS)
def override(reference: str):
    body: dict[str, Any] = {"reason": request.form.get("reason", "")}
    code = request.form.get("level_code") or request.form.get("level")
    if code:
        body["level_code"] = code
    route = request.form.get("route", "")
    if route:
        service, _, instance = route.partition(":")
        body["routes"] = [{"service": service, "instance": instance}]
    return _act(reference, decisions.override_decision, body, lambda errors: {
        ("override-" + k.split(".")[0].replace("level_code", "level")): " ".join(v)
        for k, v in errors.items()},
        done="override")


@bp.post("/<reference>/close")
@require_role(OVERRIDE_DECISIONS)
def close(reference: str):
    def errors_of(errors: dict[str, list[str]]) -> dict[str, str]:
        found = {"close-closure": "Select why the referral is closed"} \
            if "closure" in errors else {}
        if "note" in errors:
            found["close-note"] = " ".join(errors["note"])
        return found

    return _act(reference, decisions.close_referral,
                {"closure": request.form.get("closure", ""),
                 "note": request.form.get("note", "")}, errors_of, done="close")
