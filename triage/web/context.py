"""What every page template can use: the signed-in user, role-aware navigation, names, dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, request, url_for

from triage import policy
from triage.services.hub.meetings import has_meetings
from triage.web.security import csrf_token, current_user, home_for, runtime

SERVICE_NAME = "Early Help triage"
LONDON = ZoneInfo("Europe/London")


def navigation() -> list[dict]:
    """Menu items for the signed-in user's role; the current page's item is marked."""
    user = current_user()
    items: list[tuple[str, str]] = []
    if user is None:
        items = [("Refer yourself or your family", url_for("public.start")),
                 ("Sign in", url_for("auth.login"))]
    else:
        if policy.may(user, policy.FRONT_DOOR_PAGES):
            items.append(("Worklists", url_for("frontdoor.index")))
        if policy.may(user, policy.STAFF_REFERRAL_FORM):
            items.append(("New referral", url_for("referral.new")))
        if policy.may(user, policy.HUB_PAGES) and has_meetings(runtime()):
            team = runtime().profile.texts["meeting_team"]
            items.append((f"{team} queue", url_for("hub.queue")))
            items.append((f"{team} meeting", url_for("hub.meeting")))
        if policy.may(user, policy.TEAM_CASE_PAGES):
            items.append(("My cases", url_for("casework.my_cases")))
            items.append(("Cases", url_for("casework.team_cases")))
        if policy.may(user, policy.SEE_CAPACITY) and _has_capacities():
            items.append(("Capacity", url_for("casework.capacity_page")))
        if policy.may(user, policy.SEARCH_PEOPLE):
            items.append(("Search", url_for("people.search_page")))
        if policy.may(user, policy.REVIEW_MATCHES):
            items.append(("Check who this is", url_for("merges.check")))
        if policy.may(user, policy.RESTRICT_RECORDS):
            items.append(("Privacy", url_for("privacy.restriction_list")))
        if policy.may(user, policy.ADMINISTER_ACCOUNTS):
            items.append(("Users", url_for("admin_users.index")))
        if policy.may(user, policy.PARTNER_PAGES):
            items.append(("Your referrals", url_for("partner.index")))
            items.append(("New referral", url_for("partner.new")))
        if policy.may(user, policy.VIEW_REPORTS):
            items.append(("Reports", url_for("reports.index")))
        if policy.may(user, policy.VIEW_AUDIT):
            items.append(("Audit trail", url_for("audit.index")))
        if policy.may(user, policy.READ_NOTIFICATIONS):
            items.append((_notifications_label(user), url_for("inbox.index")))
        items.append(("Sign out", url_for("auth.logout_confirm")))
    path = request.path
    best = max((href for _, href in items if path.startswith(href) and href != "/"),
               key=len, default=None)
    return [{"text": text, "href": href, "active": href == best} for text, href in items]


def _has_capacities() -> bool:
    """Whether any team of the profile has a capacity in open cases (policy §5)."""
    from config.teams import open_cases_capacity
    from triage.web.security import runtime

    return any(open_cases_capacity(s, i) is not None
               for s in runtime().profile.services.values() for i in s.instances)


def _notifications_label(user) -> str:
    """"Notifications", with how many are unread (one capped count; "99+" past the cap)."""
    from sqlalchemy.exc import SQLAlchemyError

    from triage.services.notices import inbox

    try:
        unread = inbox.unread_count(runtime(), user=user)
    except SQLAlchemyError:  # an error page while the database is down still renders
        return "Notifications"
    if not unread:
        return "Notifications"
    shown = f"{inbox.UNREAD_CAP}+" if unread > inbox.UNREAD_CAP else str(unread)
    return f"Notifications ({shown} unread)"


def footer_links() -> list[dict]:
    links = [{"text": "How we use your information", "href": url_for("public.privacy")},
             {"text": "Accessibility", "href": url_for("start.accessibility")}]
    user = current_user()
    if user is not None:
        links.append({"text": "Change your password", "href": url_for("auth.password")})
    return links


def long_date(value: date | datetime | str | None) -> str:
    """GOV.UK style: 5 January 2026 (London date for a moment in time)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date() if value.tzinfo else value.date()
    return f"{value.day} {value:%B %Y}"


def due_date(value: datetime | str | None) -> str:
    """The day something is due, from the moment it becomes overdue (the start of the next
    day in London, as the case service stores it)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return long_date(value - timedelta(microseconds=1))


def date_time(value: datetime | str | None) -> str:
    """5 January 2026 at 2:05pm, in London time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(LONDON) if value.tzinfo else value
    hour = local.hour % 12 or 12
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def _profile():
    return runtime().profile


def service_name_of(service: str) -> str:
    services = _profile().services
    return services[service].name if service in services else service


def instance_name_of(service: str, instance: str | None) -> str:
    svc = _profile().services.get(service)
    if svc is None or instance is None:
        return instance or "not yet known"
    inst = svc.instances.get(instance)
    return inst.name if inst else instance


def level_of(decision: dict | None):
    """The profile's level for a decision body (its code; a body stored before level codes
    has only its number, which was its code), or None."""
    if not decision:
        return None
    return _profile().level(decision.get("level_code", decision.get("level")))


def level_name_of(code: str | None) -> str:
    return _profile().level_name(code)


def routes_split_by_consent(decision: dict | None) -> tuple[list[dict], list[dict]]:
    """A decision's routes as (those that go ahead without consent, those that wait for it)."""
    import rules

    if not decision:
        return [], []
    code = str(decision.get("level_code", decision.get("level")))
    now, wait = [], []
    for route in decision.get("routes") or []:
        needed = route["consent_needed"] if "consent_needed" in route else \
            rules.consent_needed(_profile(), route["service"], code)
        (wait if needed else now).append(route)
    return now, wait


def question_text(qid: str) -> str:
    questions = _profile().checklist.questions
    return questions[qid].text if qid in questions else qid


def team_name_of(team: str | None) -> str:
    return _profile().team_name(team)


def place_name_of(place: Mapping[str, Any] | None) -> str:
    """A referral's place (the API's `place`) as people say it: the name of its top locality
    unit (a district, say), or "" outside the area."""
    localities = _profile().localities
    top = localities.top
    return localities.name_of(top, (place or {}).get(localities.scheme.api_name(top)))


def closure_text(code: str | None) -> str:
    return _profile().front_door.closure_text(code)


def init_app(app: Flask) -> None:
    # Globals (not context values) so that imported macros can use them too.
    app.jinja_env.globals.update(
        csrf_token=csrf_token, may=policy.may, service_name_of=service_name_of,
        instance_name_of=instance_name_of, level_name_of=level_name_of,
        level_of=level_of, routes_split_by_consent=routes_split_by_consent,
        question_text=question_text, closure_text=closure_text, team_name_of=team_name_of,
        place_name_of=place_name_of)

    @app.context_processor
    def _globals():
        user = current_user()
        profile = runtime().profile
        return {
            "service_name": SERVICE_NAME,
            "profile_name": profile.name,
            "profile": profile,
            "texts": profile.texts,
            "user": user,
            "navigation": navigation(),
            "footer_links": footer_links(),
            "home_url": home_for(user) if user else url_for("start.index"),
            "policy": policy,
        }

    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["date_time"] = date_time
    app.jinja_env.filters["due_date"] = due_date
    app.jinja_env.filters["humanise"] = lambda s: (s or "").replace("_", " ").capitalize()
