"""The partners' area: submit the checklist, see their own referrals with state and outcome."""

from __future__ import annotations

from flask import Blueprint, render_template

from triage.models import User
from triage.policy import PARTNER_PAGES
from triage.services import intake, partner_view
from triage.services.front_door import pages
from triage.web.referrals import referral_journey, referrer_fields
from triage.web.security import current_user, page_number, require_role, runtime

bp = Blueprint("partner", __name__, url_prefix="/partner")


@bp.get("/")
@require_role(PARTNER_PAGES)
def index():
    page = page_number()
    rows, total = partner_view.own_referrals(runtime(), user=current_user(), page=page)
    return render_template("partner/index.html", rows=rows, total=total, page=page,
                           pages=pages(total))


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
