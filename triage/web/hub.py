"""Hub coordinators: the hub's queue, planning the next meeting, the printable meeting pack,
and recording each allocation decision during the meeting."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for

from triage.errors import ValidationFailed
from triage.models.base import MAX_ID
from triage.policy import HUB_PAGES
from triage.services.hub import meetings
from triage.web.forms import PersonRow
from triage.web.security import current_user, require_role, runtime, start_number

bp = Blueprint("hub", __name__, url_prefix="/hub")


def _context():
    rt = runtime()
    service, instance = meetings.hub_for(rt, current_user(), request.values.get("hub"))
    meeting = meetings.meeting(rt, service=service, hub=instance, today=date.today())
    return rt, service, instance, meeting


def _choices(rt, service: str, event: str, name: str) -> list[tuple[str, str]]:
    pathway = rt.pathways.for_service(service)
    row = next(t for t in pathway.transitions if t.event == event)
    return list(row.choices.get(name, {}).items())


@bp.get("/")
@require_role(HUB_PAGES)
def queue():
    rt, service, instance, meeting = _context()
    lists = meetings.queue(rt, user=current_user(), service=service, hub=instance)
    return render_template("hub/queue.html", lists=lists, hub=instance, service=service,
                           meeting=meeting, hubs=list(rt.profile.services[service].instances))


@bp.route("/meeting", methods=["GET", "POST"])
@require_role(HUB_PAGES)
def meeting():
    rt, service, instance, meeting = _context()
    errors: dict[str, str] = {}
    if request.method == "POST":
        ids = [int(v) for v in request.form.getlist("cases") if v.isdigit() and int(v) <= MAX_ID]
        try:
            meetings.add_to_agenda(rt, user=current_user(), case_ids=ids)
        except ValidationFailed as exc:
            errors = {"cases": " ".join(exc.errors["cases"])}
        else:
            return redirect(url_for("hub.meeting", hub=instance))
    lists = meetings.queue(rt, user=current_user(), service=service, hub=instance)
    return render_template("hub/meeting.html", lists=lists, hub=instance, service=service,
                           meeting=meeting, errors=errors), (422 if errors else 200)


@bp.get("/meeting/pack")
@require_role(HUB_PAGES)
def pack():
    rt, service, instance, meeting = _context()
    try:
        listed = meetings.pack(rt, user=current_user(), service=service, hub=instance,
                               after=request.args.get("after") or None)
    except ValidationFailed:  # a mangled next-page link: the pack from its start
        return redirect(url_for("hub.pack", hub=instance))
    return render_template("hub/pack.html", items=listed.rows, listed=listed, hub=instance,
                           service=service, meeting=meeting, start=start_number(),
                           page_size=meetings.PACK_PAGE)


@bp.route("/meeting/cases/<int:case_id>", methods=["GET", "POST"])
@require_role(HUB_PAGES)
def decide(case_id: int):
    rt, service, instance, meeting = _context()
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        meeting_date = PersonRow(day=form.get("meeting_date-day", ""),
                                 month=form.get("meeting_date-month", ""),
                                 year=form.get("meeting_date-year", "")).date_of_birth()
        decision = form.get("decision", "")
        fields = {"lead_agency": form.get("lead_agency", ""),
                  "lead_professional": form.get("lead_professional", ""),
                  "reason": form.get(f"reason-{decision}", form.get("reason", ""))}
        try:
            meetings.record_decision(rt, user=current_user(), case_id=case_id,
                                 meeting_date=meeting_date, decision=decision, fields=fields)
        except ValidationFailed as exc:
            ids = {"meeting_date": "meeting_date-day", "reason": "reason-no_further_action"}
            errors = {ids.get(k, k): " ".join(v) for k, v in exc.errors.items()}
        else:
            return redirect(url_for("hub.meeting", hub=instance, recorded=case_id))
    from triage.services.cases import casework, permissions

    case = casework.get_case(rt, user=current_user(), case_id=case_id)
    if not permissions.actions_on(rt, user=current_user(), case_id=case_id).move:
        # Seeing a hub's cases is not deciding them: the form is offered only to the hub.
        abort(403, description=f"Only the {case['service']}:{case['instance']} team and its "
                               "managers may record the hub's decision.")
    return render_template(
        "hub/decide.html", case=case, hub=instance, meeting=meeting, errors=errors, form=form,
        agencies=_choices(rt, service, "allocate", "lead_agency"),
        nfa_reasons=_choices(rt, service, "no_further_action", "reason"),
    ), (422 if errors else 200)
