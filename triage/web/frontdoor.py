"""The front door's worklists: new today, awaiting consent, needs review, overdue."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from triage.errors import ValidationFailed
from triage.policy import FRONT_DOOR_PAGES, REVIEW_MATCHES, may
from triage.services.people import review_queue
from triage.services.referrals import front_door as worklists
from triage.web.security import current_user, require_role, runtime, start_number

bp = Blueprint("frontdoor", __name__, url_prefix="/front-door")


@bp.get("/")
@require_role(FRONT_DOOR_PAGES)
def index():
    rt = runtime()
    counts = worklists.counts(rt, user=current_user())
    new_today = worklists.referral_rows(rt, user=current_user(), name="new_today").rows
    to_check = review_queue.open_count(rt, user=current_user()) \
        if may(current_user(), REVIEW_MATCHES) else None
    return render_template("frontdoor/index.html", counts=counts, lists=worklists.WORKLISTS,
                           descriptions=worklists.DESCRIPTIONS, new_today=new_today[:10],
                           to_check=to_check)


@bp.get("/worklists/<name>")
@require_role(FRONT_DOOR_PAGES)
def worklist(name: str):
    if name not in worklists.WORKLISTS:
        abort(404)
    rt = runtime()
    after = request.args.get("after") or None
    try:
        if name == "overdue":
            listed = worklists.overdue_rows(rt, user=current_user(), after=after)
        else:
            listed = worklists.referral_rows(rt, user=current_user(), name=name, after=after)
    except ValidationFailed:  # a mangled next-page link: the list from its start
        return redirect(url_for("frontdoor.worklist", name=name))
    return render_template("frontdoor/worklist.html", name=name,
                           title=worklists.WORKLISTS[name],
                           description=worklists.DESCRIPTIONS[name], listed=listed,
                           rows=listed.rows, start=start_number())
