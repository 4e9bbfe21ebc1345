"""A pathway's meeting (in the default profile, the hubs'): the queue, planning the next
meeting, the printable meeting pack, and recording each decision during the meeting. The
states, events and fields are the profile's; with no meeting in the profile every page here
is Not Found."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from triage.errors import ValidationFailed
from triage.models.base import MAX_ID
from triage.policy import HUB_PAGES
from triage.services.hub import meetings
from triage.web.forms import PersonRow
from triage.web.security import current_user, require_role, runtime, start_number

bp = Blueprint("hub", __name__, url_prefix="/hub")


@bp.before_request
def _only_with_a_meeting():
    """No pathway has a meeting: these pages do not exist (404 for everyone, not 403)."""
    if not meetings.has_meetings(runtime()):
        abort(404)


def _context():
    rt = runtime()
    service, instance = meetings.hub_for(rt, current_user(), request.values.get("hub"))
    meeting = meetings.meeting(rt, service=service, hub=instance, today=date.today())
    return rt, service, instance, meeting


def _decisions(rt, service: str) -> list[dict[str, Any]]:
    """The meeting's decisions, each with the fields it needs as the form asks them: the
    field's own name when only that event of the pathway needs it (lead_agency), else
    name-event (reason-no_further_action: a reason is asked by other events too)."""
    spec = meetings.spec_of(rt, service)
    pathway = rt.pathways.for_service(service)
    rows = [next(t for t in pathway.transitions
                 if t.event == event and t.source == spec.discussed) for event in spec.decisions]
    shared = Counter(name for event in {t.event: t for t in pathway.transitions}.values()
                     for name in event.needs)
    out = []
    for row in rows:
        fields = []
        for name in row.needs:
            field = pathway.data.fields[name]
            fields.append({"name": name, "form": name if shared[name] == 1
                           else f"{name}-{row.event}", "kind": field.kind,
                           "label": field.label,
                           "choices": list(row.choices.get(name, {}).items())})
        out.append({"event": row.event, "label": row.label, "fields": fields})
    return out


@bp.get("/")
@require_role(HUB_PAGES)
def queue():
    rt, service, instance, meeting = _context()
    lists = meetings.queue(rt, user=current_user(), service=service, hub=instance)
    return render_template("hub/queue.html", lists=lists, hub=instance, service=service,
                           meeting=meeting, hubs=list(rt.profile.services[service].instances),
                           m=meetings.spec_of(rt, service))


@bp.route("/meeting", methods=["GET", "POST"])
@require_role(HUB_PAGES)
def meeting():
    rt, service, instance, meeting = _context()
    errors: dict[str, str] = {}
    if request.method == "POST":
        ids = [int(v) for v in request.form.getlist("cases") if v.isdigit() and int(v) <= MAX_ID]
        try:
            meetings.add_to_agenda(rt, user=current_user(), service=service, case_ids=ids)
        except ValidationFailed as exc:
            errors = {"cases": " ".join(exc.errors["cases"])}
        else:
            return redirect(url_for("hub.meeting", hub=instance))
    lists = meetings.queue(rt, user=current_user(), service=service, hub=instance)
    return render_template("hub/meeting.html", lists=lists, hub=instance, service=service,
                           meeting=meeting, errors=errors, m=meetings.spec_of(rt, service)
                           ), (422 if errors else 200)


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
                           page_size=meetings.PACK_PAGE, decisions=_decisions(rt, service))


@bp.route("/meeting/cases/<int:case_id>", methods=["GET", "POST"])
@require_role(HUB_PAGES)
def decide(case_id: int):
    rt, service, instance, meeting = _context()
    spec = meetings.spec_of(rt, service)
    decisions = _decisions(rt, service)
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        meeting_date = PersonRow(day=form.get(f"{spec.date_field}-day", ""),
                                 month=form.get(f"{spec.date_field}-month", ""),
                                 year=form.get(f"{spec.date_field}-year", "")).date_of_birth()
        decision = form.get("decision", "")
        chosen = next((d for d in decisions if d["event"] == decision), None)
        fields = {f["name"]: form.get(f["form"], "") for f in (chosen or {}).get("fields", [])}
        try:
            meetings.record_decision(rt, user=current_user(), case_id=case_id,
                                     meeting_date=meeting_date, decision=decision,
                                     fields=fields)
        except ValidationFailed as exc:
            ids = {spec.date_field: f"{spec.date_field}-day",
                   **{f["name"]: f["form"] for f in (chosen or {}).get("fields", [])}}
            errors = {ids.get(k, k): " ".join(v) for k, v in exc.errors.items()}
        else:
            return redirect(url_for("hub.meeting", hub=instance, recorded=case_id))
    from triage.services.cases import casework, permissions

    case = casework.get_case(rt, user=current_user(), case_id=case_id)
    if not permissions.actions_on(rt, user=current_user(), case_id=case_id).move:
        # Seeing a meeting's cases is not deciding them: the form is offered only to its team.
        team = rt.profile.texts["meeting_team"].lower()
        owner = rt.profile.team_name(f"{case['service']}:{case['instance'] or ''}")
        abort(403, description=f"Only {owner} and its managers may record the {team}'s "
                               "decision.")
    return render_template(
        "hub/decide.html", case=case, hub=instance, meeting=meeting, errors=errors, form=form,
        m=spec, decisions=decisions,
        date_label=rt.pathways.data.fields[spec.date_field].label,
    ), (422 if errors else 200)
