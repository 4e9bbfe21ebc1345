"""The partners' area: submit the checklist, see their own referrals with state and outcome."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, redirect, render_template, request, url_for

from triage.errors import ValidationFailed
from triage.models import User
from triage.policy import PARTNER_PAGES
from triage.schemas import batch_csv
from triage.services.referrals import batches, intake, partner_view
from triage.web.context import date_time
from triage.web.referrals import referral_journey, referrer_fields
from triage.web.security import current_user, require_role, runtime, start_number

bp = Blueprint("partner", __name__, url_prefix="/partner")


@bp.get("/")
@require_role(PARTNER_PAGES)
def index():
    try:
        listed = partner_view.own_referrals(runtime(), user=current_user(),
                                            after=request.args.get("after") or None)
    except ValidationFailed:  # a mangled next-page link: the list from its start
        return redirect(url_for("partner.index"))
    return render_template("partner/index.html", rows=listed.rows, listed=listed,
                           start=start_number())


@bp.route("/referrals/new", methods=["GET", "POST"])
@require_role(PARTNER_PAGES)
def new():
    user: User = current_user()
    return referral_journey(channel="partner", template="partner/new.html",
                            done_endpoint="partner.confirmation",
                            referrer=referrer_fields(user, user.organisation or ""))


@bp.get("/referrals/<reference>/confirmation")
@require_role(PARTNER_PAGES)
def confirmation(reference: str):
    referral = intake.get_referral(runtime(), user=current_user(), reference=reference)
    return render_template("referrals/confirmation.html", referral=referral)


@bp.get("/referrals/<reference>")
@require_role(PARTNER_PAGES)
def show(reference: str):
    referral = intake.get_referral(runtime(), user=current_user(), reference=reference)
    return render_template("partner/show.html", referral=referral)


@bp.route("/batches/new", methods=["GET", "POST"])
@require_role(PARTNER_PAGES)
def new_batch():
    """Send a spreadsheet of referrals as a CSV file: all are recorded, or none and every
    problem is listed by row and column."""
    rt = runtime()
    # One key per page: sending the form again (a refresh, a double click) records nothing
    # twice; a page loaded afresh is a new batch.
    key = request.form.get("batch_key") or secrets.token_urlsafe(18)
    errors: dict[str, str] = {}
    problems: list[tuple[str, str, str]] = []
    # Ticked after a warning that this file was already sent: record every row again.
    confirmed = request.form.get("confirm_duplicate") == "yes"
    duplicate = None
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload is not None and upload.filename else b""
        if not data:
            errors = {"file": "Select a CSV file of referrals to send."}
        else:
            try:
                _, result = batches.submit_csv(rt, user=current_user(), data=data,
                                               idempotency_key=key,
                                               confirm_duplicate=confirmed)
            except batches.DuplicateFile as exc:
                duplicate = {"sent_at": date_time(exc.sent_at), "count": exc.count,
                             "first": exc.references[0] if exc.references else None}
                referrals = f"{exc.count} referral{'' if exc.count == 1 else 's'}"
                errors = {"file": f"This file was already sent on {duplicate['sent_at']} "
                                  f"({referrals}). Nothing was sent this time. To record "
                                  "every row again, tick the box, choose the file again "
                                  "and send it."}
            except ValidationFailed as exc:
                if "Idempotency-Key" in exc.errors:
                    # This page's key went with another file (sent, then Back): the page
                    # comes back with a new key, for this file as a new batch.
                    key = secrets.token_urlsafe(18)
                    errors = {"file": "This page had already sent a different file. To send "
                                      "this one as a new batch, choose it again and send it."}
                else:
                    problems = [(*_where(k), m) for k, ms in exc.errors.items() for m in ms]
                    errors = {"file": f"The file has {len(problems)} problem"
                                      f"{'' if len(problems) == 1 else 's'}, listed below. "
                                      "Nothing was sent: correct the file and send all of "
                                      "it again."}
            else:
                return render_template("partner/batch_done.html", result=result)
    return render_template("partner/batch.html", errors=errors, problems=problems,
                           batch_key=key, duplicate=duplicate,
                           limit=rt.settings.max_batch_referrals,
                           max_megabytes=f"{rt.settings.max_body_bytes / 1_000_000:g}",
                           questions=rt.profile.checklist.questions.values(),
                           members=batch_csv.MEMBERS), 422 if errors else 200


@bp.get("/batches/template.csv")
@require_role(PARTNER_PAGES)
def batch_template():
    return Response(batch_csv.template(runtime().profile), mimetype="text/csv",
                    headers=batch_csv.TEMPLATE_HEADERS)


def _where(key: str) -> tuple[str, str]:
    """(row, column) of a batch error key: rows.7.falls_risk, rows.7, columns, file."""
    parts = key.split(".", 2)
    if parts[0] == "rows" and len(parts) > 1:
        return parts[1], parts[2] if len(parts) > 2 else "(the row as a whole)"
    if key == "columns":
        return "1 (headings)", "(headings)"
    return "", "(the file)"
