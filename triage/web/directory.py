"""The public service directory (/services: browse and search; /services/<id>: who a service
is for, where, when and how to contact it, and whether it can take people now) and the
capacity status form for a team's managers (/capacity)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Flask, abort, g, redirect, render_template, request, url_for

from triage.errors import NotFound, ValidationFailed
from triage.policy import SET_CAPACITY, can_set_capacity
from triage.services.directory import capacity, catalogue, connections, feed
from triage.web.security import current_user, is_web_request, require_role, runtime

bp = Blueprint("directory", __name__)
PER_PAGE = 20
NEAR_METRES = 15_000
DAY_NAMES = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday",
             "FR": "Friday", "SA": "Saturday", "SU": "Sunday"}
TAG = {"capacity": "govuk-tag--green", "no-capacity": "govuk-tag--red",
       "waitlist": "govuk-tag--orange", "additional-assessment-required": "govuk-tag--yellow"}


def days(byday: str | None) -> str:
    """MO,TU,WE,TH: "Monday to Thursday"; TU,TH: "Tuesday and Thursday"."""
    order = list(DAY_NAMES)
    codes = [d for d in (byday or "").split(",") if d in DAY_NAMES]
    names = [DAY_NAMES[c] for c in codes]
    at = [order.index(c) for c in codes]
    if len(at) > 2 and at == list(range(at[0], at[0] + len(at))):
        return f"{names[0]} to {names[-1]}"
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else \
        "".join(names)


def _statuses() -> dict[tuple[str, str], capacity.Status]:
    if "capacity_statuses" not in g:
        g.capacity_statuses = capacity.statuses(runtime())
    return g.capacity_statuses


def capacity_of(service: str, instance: str | None) -> capacity.Status | None:
    """For templates (the live decision's routes): the instance's capacity status, if set."""
    if not instance:
        return None
    return _statuses().get((service, instance))


def directory_choices() -> list[tuple[str, str]]:
    """The services a case's onward connection may pick (the council's and partners')."""
    if "directory_choices" not in g:
        g.directory_choices = connections.choices(runtime())
    return g.directory_choices


def capacity_route(route: Any) -> capacity.Status | None:
    """A route's capacity status when it is worth a warning (anything but `capacity`)."""
    found = capacity_of(route.get("service"), route.get("instance"))
    return found if found is not None and found.warns else None


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(capacity_of=capacity_of, capacity_tag=TAG,
                                 directory_choices=directory_choices)
    app.jinja_env.filters["schedule_days"] = days
    app.jinja_env.filters["capacity_route"] = capacity_route

    @app.context_processor
    def _may_set_capacity():
        user = current_user() if is_web_request() else None
        return {"may_set_capacity": user is not None and user.role in SET_CAPACITY}


def _needs() -> list[dict[str, Any]]:
    return [catalogue.term_document(t) for t in catalogue.terms(runtime().profile)]


def _own_ids() -> dict[str, str]:
    """ORUK service id -> the profile's service id (to show capacity per team)."""
    profile = runtime().profile
    return {catalogue.service_id(profile, s): s for s in profile.services}


@bp.get("/services")
def index():
    """Browse and search: words, a need, a postcode (places within 15 km, nearest first)."""
    rt = runtime()
    needs = _needs()
    chosen = request.args.get("need", "")
    term = next((t for t in needs if t["code"] == chosen), None)
    search = request.args.get("search", "").strip()
    postcode = request.args.get("postcode", "").strip()
    args = {"per_page": str(PER_PAGE), "page": request.args.get("page", "1"),
            **({"search": search} if search else {}),
            **({"taxonomy_term_id": term["id"]} if term else {})}
    error, near, page = None, None, None
    try:
        if postcode:
            near = feed.service_at_locations_page(rt, {
                **{k: v for k, v in args.items() if k != "page"}, "per_page": "200",
                "postcode": postcode, "proximity": str(NEAR_METRES)})["contents"]
        else:
            page = feed.services_page(rt, args, shape=lambda d: d)
    except ValidationFailed as exc:
        example = rt.profile.texts["postcode_example"]
        error = {"postcode": f"Enter a full postcode, like {example}"} \
            if "postcode" in exc.errors else None
        page = feed.services_page(rt, {"per_page": str(PER_PAGE)}, shape=lambda d: d)
    return render_template("directory/index.html", page=page, near=near, needs=needs,
                           chosen=chosen, search=search, postcode=postcode,
                           errors=error or {}, own=_own_ids(), today=date.today(),
                           is_stale=catalogue.is_stale, near_km=NEAR_METRES // 1000)


@bp.get("/services/<service_id>")
def show(service_id: str):
    rt = runtime()
    try:
        doc = feed.service(rt, service_id)
    except NotFound:
        abort(404)
    own = _own_ids().get(doc["id"])
    imported = own is None
    statuses = []
    if own is not None:
        service = rt.profile.services[own]
        statuses = [(i.name, _statuses().get((own, i.id))) for i in service.instances.values()]
        statuses = [(name, s) for name, s in statuses if s is not None]
    user = current_user()
    manages = own is not None and user is not None and any(
        can_set_capacity(user, own, i, rt.profile.teams)
        for i in rt.profile.services[own].instances)
    return render_template("directory/show.html", s=doc, imported=imported,
                           stale=imported and catalogue.is_stale(doc, date.today()),
                           statuses=statuses, manages=manages, own=own)


# -- capacity (a team's managers) -------------------------------------------------------------
def _teams(user) -> list[dict[str, Any]]:
    rt = runtime()
    known = _statuses()
    return [{"service": s.id, "instance": i.id, "name": i.name if len(s.instances) > 1
             else s.name, "service_name": s.name, "status": known.get((s.id, i.id))}
            for s in rt.profile.services.values() for i in s.instances.values()
            if can_set_capacity(user, s.id, i.id, rt.profile.teams)]


@bp.get("/capacity")
@require_role(SET_CAPACITY)
def capacity_index():
    return render_template("directory/capacity.html", teams=_teams(current_user()))


@bp.route("/capacity/<service>/<instance>", methods=["GET", "POST"])
@require_role(SET_CAPACITY)
def capacity_form(service: str, instance: str):
    rt = runtime()
    found = rt.profile.services.get(service)
    if found is None or instance not in found.instances:
        abort(404)
    user = current_user()
    if not can_set_capacity(user, service, instance, rt.profile.teams):
        abort(403)
    status = _statuses().get((service, instance))
    form = {"code": status.code if status else "", "notes": (status.notes or "")
            if status else ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {"code": request.form.get("code", ""), "notes": request.form.get("notes", "")}
        try:
            capacity.set_status(rt, user=user, service=service, instance=instance,
                                body={"code": form["code"] or None, "notes": form["notes"]})
        except ValidationFailed as exc:
            errors = {k: " ".join(v) for k, v in exc.errors.items()}
            if "code" in errors:
                errors["code"] = "Choose whether the team can take new people"
        else:
            return redirect(url_for("directory.capacity_index", saved=f"{service}:{instance}"))
    name = found.instances[instance].name if len(found.instances) > 1 else found.name
    return render_template("directory/capacity_form.html", service=found, instance=instance,
                           name=name, status=status, form=form, errors=errors,
                           error_links={k: f"#{k}" for k in errors},
                           codes=capacity.CODES), 422 if errors else 200
