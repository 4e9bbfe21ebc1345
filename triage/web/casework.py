"""The case page (who, what was asked, decision, state, what is due, events, timeline, notes),
the form for each allowed event, and a team's open cases."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from triage.errors import ValidationFailed
from triage.policy import SEE_CAPACITY, TEAM_CASE_PAGES, manages, team_of
from triage.services.accounts import signin
from triage.services.cases import case_notes, casework, permissions
from triage.services.referrals import intake
from triage.web.forms import PersonRow
from triage.web.security import current_user, require_role, runtime, start_number

bp = Blueprint("casework", __name__, url_prefix="/cases")
CONNECTION_ROWS = 3


def event_payload(spec: dict[str, Any], form) -> dict[str, Any]:
    """The event body from the form: each needed field read by its kind."""
    body: dict[str, Any] = {"event": spec["event"]}
    for f in spec["fields"]:
        name, kind = f["name"], f["kind"]
        if kind == "date":
            date = PersonRow(day=form.get(f"{name}-day", ""), month=form.get(f"{name}-month", ""),
                             year=form.get(f"{name}-year", "")).date_of_birth()
            if date:
                body[name] = date
        elif kind == "connections":
            rows = []
            for i in range(CONNECTION_ROWS):
                org = form.get(f"{name}-{i}-organisation", "").strip()
                need = form.get(f"{name}-{i}-need", "").strip()
                picked = form.get(f"{name}-{i}-service", "").strip()  # from the directory
                if org or need or picked:
                    rows.append({"organisation": org, "need": need,
                                 **({"service": picked} if picked else {})})
            body[name] = rows
        elif kind == "worker":
            value = form.get(name, "").strip()
            body[name] = int(value) if value.isdigit() else None  # "" is nobody
        else:
            value = form.get(name, "").strip()
            if value:
                body[name] = value
    note = form.get("note", "").strip()
    if note and "note" not in spec["needs"]:
        body["note"] = note
    if form.get("version", "").isdigit():
        body["version"] = int(form["version"])
    return body


def event_errors(spec: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, str]:
    ids = {f["name"]: (f"{f['name']}-day" if f["kind"] == "date" else
                       f"{f['name']}-0-organisation" if f["kind"] == "connections" else
                       f["name"]) for f in spec["fields"]}
    out: dict[str, str] = {}
    for key, messages in errors.items():
        out.setdefault(ids.get(key, "note" if key == "note" else next(iter(ids.values()),
                                                                         "note")),
                       " ".join(messages))
    return out


def _referral_for(case: dict[str, Any]) -> dict[str, Any] | None:
    """The referral behind the case, when the user may see it (its view is audited)."""
    from triage.errors import NotFound

    try:
        return intake.get_referral(runtime(), user=current_user(), reference=case["referral"])
    except NotFound:
        return None


@bp.get("/")
@require_role(TEAM_CASE_PAGES)
def team_cases():
    """A team's open cases. Staff without a service team (front door, managers, admins)
    choose the team first: one team's list is what anyone can work through."""
    rt = runtime()
    user = current_user()
    args = {k: v for k, v in request.args.items()
            if k in ("state", "overdue", "offset", "after")}
    own = team_of(user, rt.profile.teams)
    chosen = request.args.get("team", "")
    if own is None or own.service not in rt.profile.services:
        team = rt.profile.teams.get(chosen)
        if team is None or team.service is None:
            return render_template("cases/team.html", listing=None, teams=_teams(rt),
                                   chosen="", own=False)
        args["team"] = team.id
    try:
        listing = casework.list_cases(rt, user=user, args=args)
    except ValidationFailed:
        listing = casework.list_cases(rt, user=user, args={k: v for k, v in args.items()
                                                         if k in ("service", "instance",
                                                                  "team")})
    return render_template("cases/team.html", listing=listing, teams=_teams(rt), chosen=chosen,
                           start=_start(listing), own=own is not None and own.service
                           in rt.profile.services)


def _start(listing: dict[str, Any]) -> int:
    """Where the page sits in the list, for "Showing 51 to 100": the next-page link carries
    it (`start`), as a cursor says where to start reading but not how far in that is."""
    return listing["offset"] + 1 if listing["offset"] else start_number()


@bp.get("/mine")
@require_role(TEAM_CASE_PAGES)
def my_cases():
    """The signed-in worker's open caseload (GET /api/v1/cases?worker=me), soonest due first."""
    worker = request.args.get("worker", "")
    args = {"worker": worker if worker.isdigit() else "me",
            **({"offset": request.args["offset"]}
                               if request.args.get("offset", "").isdigit() else {}),
            **({"after": request.args["after"]} if request.args.get("after") else {})}
    listing = casework.list_cases(runtime(), user=current_user(), args=args)
    return render_template("cases/mine.html", listing=listing, other=worker.isdigit(),
                           worker=worker if worker.isdigit() else None, start=_start(listing))


@bp.get("/capacity")
@require_role(SEE_CAPACITY)
def capacity_page():
    """For managers and admins: each team's open cases against its capacity (policy §5)."""
    from triage.services.cases import capacity

    return render_template("cases/capacity.html", load=capacity.load_against_capacity(
        runtime(), user=current_user()))


@bp.get("/caseloads")
@require_role(TEAM_CASE_PAGES)
def caseloads():
    """For a team's managers: open cases per worker (and unassigned), each linking to the
    worker's list, and handing one worker's cases to another."""
    user = current_user()
    return _caseloads_page(request.args.get("team") or user.team or "",
                           moved=request.args.get("moved", type=int))


def _caseloads_page(team: str, *, status: int = 200, **extra):
    from triage.services.cases import worklists

    rt = runtime()
    rows = worklists.caseloads(rt, user=current_user(), team=team)
    found = rt.profile.teams.get(team)
    return render_template("cases/caseloads.html", rows=rows, team=team,
                           team_name=rt.profile.teams.name(team),
                           workers=_team_members(team),
                           may_hand_over=all(manages(current_user(), found.service, i,
                                                     rt.profile.teams)
                                             for i in found.instances), **extra), \
        status


def _team_members(team: str) -> list:
    """Who a team's cases may be handed to: its active staff."""
    from sqlmodel import select

    from triage.models import User
    from triage.policy import HOLD_CASES

    with runtime().db.reader() as session:
        return [u for u in session.exec(select(User).where(
            User.team == team, User.active.is_(True)).order_by(User.name)).all()
            if u.role in HOLD_CASES]


@bp.post("/caseloads/reassign")
@require_role(TEAM_CASE_PAGES)
def reassign_all():
    """A manager hands every open case of one worker to another (or to nobody) at once."""
    from triage.services.cases import reassign

    team = request.form.get("team", "")
    to = request.form.get("to_worker", "")
    body = {"from_worker": int(request.form["from_worker"])
            if request.form.get("from_worker", "").isdigit() else None,
            "to_worker": int(to) if to.isdigit() else None,
            "note": request.form.get("note") or None}
    try:
        done = reassign.reassign_open_cases(runtime(), user=current_user(), body=body)
    except ValidationFailed as exc:
        return _caseloads_page(team, status=422, problems=[
            m for ms in exc.errors.values() for m in ms])
    return redirect(url_for("casework.caseloads", team=team, moved=done["count"]))


def _teams(rt) -> list[tuple[str, str]]:
    """The chooser: the profile's teams by name (teams.yaml, or one per service and per
    instance)."""
    return rt.profile.teams.choices()


def _case_page(case_id: int, errors: dict[str, str] | None = None, status: int = 200):
    """The case page with the forms this user may use on it (and only those)."""
    rt = runtime()
    case = casework.get_case(rt, user=current_user(), case_id=case_id)
    return render_template("cases/show.html", case=case, referral=_referral_for(case),
                           notes=case_notes.notes_for(rt, case_id=case_id), errors=errors or {},
                           actions=permissions.actions_on(rt, user=current_user(),
                                                          case_id=case_id)), status


def _offered(spec: dict[str, Any], actions, case: dict[str, Any]) -> dict[str, Any]:
    """The event's form as this user may send it: a team member (not a manager) may only take
    the case, or hand back one they hold, so the worker list offers only that."""
    if spec["event"] != "assign" or actions.assign_anyone:
        return {**spec, "unassign": True}
    me = str(current_user().id)
    fields = [{**f, "choices": [c for c in f["choices"] if c["code"] == me and actions.take]}
              if f["kind"] == "worker" else f for f in spec["fields"]]
    return {**spec, "fields": fields, "unassign": actions.hand_back}


@bp.get("/<int:case_id>")
@require_role(TEAM_CASE_PAGES)
def show(case_id: int):
    return _case_page(case_id)


@bp.route("/<int:case_id>/events/<event>", methods=["GET", "POST"])
@require_role(TEAM_CASE_PAGES)
def event(case_id: int, event: str):
    rt = runtime()
    case = casework.get_case(rt, user=current_user(), case_id=case_id)
    spec = next((e for e in case["allowed_events"] if e["event"] == event), None)
    if spec is None:
        abort(409, description=f"This case is now {case['state'].replace('_', ' ')}; "
                               f"'{event.replace('_', ' ')}' is not possible from there.")
    actions = permissions.actions_on(rt, user=current_user(), case_id=case_id)
    if not actions.may_fire(event):
        signin.record_refused(rt, user=current_user(), what=f"case.{event}"[:64])
        owner = runtime().profile.team_name(f"{case['service']}:{case['instance'] or ''}")
        abort(403, description=f"Only {owner} and its managers may do this on the case.")
    spec = _offered(spec, actions, case)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            casework.fire_case_event(rt, user=current_user(), case_id=case_id,
                                  body=event_payload(spec, request.form))
        except ValidationFailed as exc:
            errors = event_errors(spec, exc.errors)
        else:
            # The case page confirms what was done (a success banner).
            return redirect(url_for("casework.show", case_id=case_id, done=event))
    return render_template("cases/event.html", case=case, spec=spec, errors=errors,
                           form=request.form, rows=CONNECTION_ROWS), (422 if errors else 200)


@bp.post("/<int:case_id>/notes")
@require_role(TEAM_CASE_PAGES)
def add_note(case_id: int):
    rt = runtime()
    try:
        case_notes.add_note(rt, user=current_user(), case_id=case_id,
                            text=request.form.get("note", ""))
    except ValidationFailed as exc:
        return _case_page(case_id, {"note": " ".join(exc.errors["note"])}, 422)
    return redirect(url_for("casework.show", case_id=case_id) + "#notes")
