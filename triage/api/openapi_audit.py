"""The OpenAPI paths for oversight: the audit trail, reading notifications (marking them read,
the unread count) and the managers' overview of overdue cases, with the shapes they answer."""

from __future__ import annotations

from apispec import APISpec

from triage.api.openapi_shapes import (
    Codes,
    array,
    code,
    complete,
    path_id,
    query,
    ref,
    responses,
    text,
    when,
)
from triage.models import Role
from triage.models.base import MAX_ID
from triage.schemas.audit import (
    ACTION_PATTERN,
    CURSOR_PATTERN,
    OBJECT_ID_PATTERN,
    OBJECT_TYPE_PATTERN,
)
from triage.services.notices.inbox import UNREAD_CAP

INTEGER = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def oversight_paths(spec: APISpec, secured: list) -> None:
    csv = {"text/csv": {"schema": {"type": "string", "description":
                                   "One row per event, newest first, with a heading: at, "
                                   "user_id, user, role, action, record_type, record_id, "
                                   "reference, route. Cells a spreadsheet would run as a "
                                   "formula are prefixed with a single quote."}}}
    listed = responses("200", "AuditPage", "401", "403", "404", "422",
                       e404="No such person (or a restriction hides them from you)")
    listed["200"]["content"].update(csv)
    spec.path("/api/v1/audit", operations={"get": {
        "operationId": "listAuditEvents",
        "summary": "Who viewed or changed which record, when and from which page, newest "
                   "first (managers and admins; the look itself is audited)",
        "description": "Every filter is optional and they combine. Events on records a "
                       "restriction hides from you are left out. Page on with `before` set to "
                       "the previous page's `next_before`; events written meanwhile never "
                       "shift later pages. `format=csv` (or `Accept: text/csv`) answers every "
                       "matching event as CSV (at most 50,000: narrow the dates otherwise).",
        "security": secured,
        "parameters": [
            query("person", ID, "A person's id: events on them, their families, the referrals "
                                "naming them and those referrals' and families' cases"),
            query("user", ID, "A user's id: what they did"),
            query("object_type", text(pattern=OBJECT_TYPE_PATTERN, maxLength=32),
                  "A record's type (person, household, referral, case, user...); give "
                  "object_id with it"),
            query("object_id", text(pattern=OBJECT_ID_PATTERN),
                  "The record's id (a referral may be given by its reference)"),
            query("action", text(pattern=ACTION_PATTERN, maxLength=64),
                  "An action code (case.view, referral.create...)"),
            query("from", text(format="date"), "From this day (London time), inclusive"),
            query("to", text(format="date"), "To this day (London time), inclusive"),
            query("before", text(pattern=CURSOR_PATTERN),
                  "Where the page starts: next_before of the previous page"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                  "Page size"),
            query("format", code(["json", "csv"]), "csv: every matching event as CSV")],
        "responses": listed}})
    notification_id = path_id("notification_id", "As GET /api/v1/notifications lists it")
    spec.path("/api/v1/notifications/{notification_id}/read", operations={"post": {
        "operationId": "markNotificationRead",
        "summary": "Mark one of your (or your team's) notifications read, for you only; "
                   "again changes nothing. Takes no body.",
        "security": secured, "parameters": [notification_id],
        "responses": responses("200", "NotificationRead", "401", "404",
                               e404="No such notification of yours or your team's")}})
    spec.path("/api/v1/notifications/read-all", operations={"post": {
        "operationId": "markAllNotificationsRead",
        "summary": "Mark every unread notification of yours and your team's read, for you "
                   "only. Takes no body.",
        "security": secured,
        "responses": responses("200", "NotificationsMarked", "401")}})
    spec.path("/api/v1/notifications/unread-count", operations={"get": {
        "operationId": "countUnreadNotifications",
        "summary": "How many of your and your team's notifications you have not read, "
                   f"counted up to {UNREAD_CAP + 1} (shown as \"{UNREAD_CAP}+\")",
        "security": secured,
        "responses": responses("200", "UnreadCount", "401")}})
    spec.path("/api/v1/notifications/overview", operations={"get": {
        "operationId": "overdueOverview",
        "summary": "Open cases overdue now, and those escalated to managers since their "
                   "deadline passed, by team (a manager's own team, or every team for admins "
                   "and managers without one)",
        "security": secured,
        "responses": responses("200", "OverdueOverview", "401", "403")}})
    spec.path("/api/v1/cases/capacity", operations={"get": {
        "operationId": "loadAgainstCapacity",
        "summary": "Each team's open cases against its capacity in open cases (the figures "
                   "caseload allocation uses): every team for admins and managers without "
                   "one; a manager's own team's, with the teams of its balancing unit",
        "security": secured,
        "responses": responses("200", "CapacityLoad", "401", "403")}})


def oversight_shapes(codes: Codes) -> dict[str, dict]:
    """The shapes the oversight operations answer, typed with the profile's codes."""
    user = complete({"id": INTEGER, "name": text(), "role": code(Role)}, nullable=True,
                    description="Who did it, or null for the system (a sweep, a task)")
    event = complete({
        "id": INTEGER, "at": when(), "user": user, "action": text(pattern=ACTION_PATTERN),
        "object_type": text(pattern=OBJECT_TYPE_PATTERN),
        "object_id": text(description="The record's id, or a code for a list or a search"),
        "reference": text(True, description="The referral's reference, for a referral's "
                                            "events"),
        "route": text(True, description="The page or endpoint, as its route pattern; null "
                                        "outside a request")})
    return {
        "AuditEvent": event,
        "AuditPage": complete({
            "events": array(ref("AuditEvent")), "limit": INTEGER,
            "next_before": text(True, pattern=CURSOR_PATTERN,
                                description="Give as `before` for the next page; null on "
                                            "the last")}),
        "NotificationRead": complete({"id": INTEGER, "read_at": when()}),
        "NotificationsMarked": complete({"marked": COUNT, "read_at": when()}),
        "UnreadCount": complete({"unread": COUNT, "counted_up_to": INTEGER}),
        "OverdueOverview": complete({
            "teams": array(complete({"service": code(codes.services), "instance": text(),
                                     "overdue": COUNT, "escalated": COUNT})),
            "overdue": COUNT, "escalated": COUNT, "at": when()}),
        "CapacityLoad": complete({
            "teams": array(complete({
                "service": code(codes.services), "instance": text(), "name": text(),
                "unit": text(True, description="The locality unit its service is balanced "
                                               "within (null: not balanced)"),
                "unit_value": text(True), "unit_name": text(True),
                "open": COUNT, "capacity": COUNT, "spare": COUNT,
                "full": {"type": "boolean"}, "balanced": {"type": "boolean"}})),
            "at": when()}),
    }
