"""The OpenAPI 3 document, generated from the same marshmallow schemas that validate requests."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from triage.api.openapi_privacy import privacy_paths
from triage.schemas.cases import (
    AllowedEventSchema,
    CaseEventInSchema,
    CaseListSchema,
    CaseOutSchema,
    NotificationListSchema,
    ReassignInSchema,
    ReassignOutSchema,
    ReferralListSchema,
)
from triage.schemas.checklist import ChecklistOutSchema, DecisionOutSchema, ErrorSchema
from triage.schemas.output import ReferralOutSchema
from triage.schemas.referral import referral_schema_for

_ERRORS = {
    "401": "Missing or unknown API token",
    "403": "Your role may not do this",
    "404": "No such resource (or not visible to you)",
    "413": "Body larger than the limit",
    "409": "Not allowed now: the case's state, version and allowed_events are in the body",
    "422": "Bad input: errors names every field and what is wrong",
}


def _responses(ok_code: str, ok_schema: str, *codes: str) -> dict:
    out = {ok_code: {"description": "OK",
                     "content": {"application/json": {"schema": ok_schema}}}}
    for code in codes:
        out[code] = {"description": _ERRORS[code],
                     "content": {"application/json": {"schema": "Error"}}}
    return out


def build_spec(rt) -> dict:
    spec = APISpec(
        title="Early Help triage API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": f"Referral triage for {rt.profile.name}. Authenticate with "
                             "'Authorization: Bearer <token>'."},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("ReferralBody", schema=referral_schema_for(rt.profile))
    spec.components.schema("Referral", schema=ReferralOutSchema)
    spec.components.schema("Decision", schema=DecisionOutSchema)
    spec.components.schema("Checklist", schema=ChecklistOutSchema)
    spec.components.schema("Error", schema=ErrorSchema)
    body = {"required": True, "content": {"application/json": {"schema": "ReferralBody"}}}
    secured = [{"bearer": []}]
    spec.path("/healthz", operations={"get": {
        "summary": "Liveness and database reachability", "security": [],
        "responses": {"200": {"description": "OK"}, "503": {"description": "Database down"}}}})
    spec.path("/api/v1/checklist", operations={"get": {
        "summary": "The active checklist", "security": [],
        "responses": _responses("200", "Checklist")}})
    spec.path("/api/v1/triage/preview", operations={"post": {
        "summary": "The decision for a referral body; nothing is stored", "security": secured,
        "requestBody": body,
        "responses": _responses("200", "Decision", "401", "403", "413", "422")}})
    spec.path("/api/v1/referrals", operations={"post": {
        "summary": "Record a referral", "security": secured, "requestBody": body,
        "parameters": [{"in": "header", "name": "Idempotency-Key", "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "Retries with the same key and body return the first "
                                       "response and create nothing new."}],
        "responses": _responses("201", "Referral", "401", "403", "413", "422")}})
    limit = rt.settings.max_batch_referrals
    spec.path("/api/v1/referrals/batch", operations={"post": {
        "summary": "Record a batch of referrals: all of them, or none",
        "description": "Every referral is validated first; any problem in any of them is a "
                       "422 naming each (referrals.<i>.<field> for JSON, rows.<row>.<column> "
                       "for CSV) and nothing is recorded. A CSV file has the columns of "
                       "/api/v1/referrals/batch/template.csv, one referral per row. A "
                       "partner's referrals take the partner channel and its organisation "
                       "from its account, so a partner may leave them out.",
        "security": secured,
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {
                "type": "object", "required": ["referrals"], "additionalProperties": False,
                "properties": {"referrals": {
                    "type": "array", "minItems": 1, "maxItems": limit,
                    "items": {"$ref": "#/components/schemas/ReferralBody"}}}}},
            "text/csv": {"schema": {"type": "string"}}}},
        "parameters": [{"in": "header", "name": "Idempotency-Key", "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "Sending the same batch again with the same key "
                                       "returns the first response and records nothing."},
                       {"in": "query", "name": "confirm", "required": False,
                        "schema": {"type": "string", "enum": ["duplicate"]},
                        "description": "CSV only: `duplicate` records a file this sender "
                                       "already sent in the last 30 days (otherwise a "
                                       "409)."}],
        "responses": {
            "201": {"description": "Recorded, in the batch's order (with `row` for CSV)",
                    "content": {"application/json": {"schema": {
                        "type": "object", "properties": {
                            "count": {"type": "integer"},
                            "referrals": {"type": "array", "items": {
                                "$ref": "#/components/schemas/Referral"}}}}}}},
            "409": {"description": "CSV only: the same file (its bytes, without a BOM, "
                                   "line endings aside) was already recorded for this "
                                   "organisation (or user, without one) in the last 30 "
                                   "days; nothing was recorded. Send it with "
                                   "?confirm=duplicate to record every row again.",
                    "content": {"application/json": {"schema": {
                        "type": "object", "properties": {
                            "message": {"type": "string"},
                            "duplicate_of": {"type": "object", "properties": {
                                "sent_at": {"type": "string", "format": "date-time"},
                                "count": {"type": "integer"},
                                "references": {"type": "array",
                                               "items": {"type": "string"}}}}}}}}},
            **{code: {"description": _ERRORS[code],
                      "content": {"application/json": {"schema": "Error"}}}
               for code in ("401", "403", "413", "422")}}}})
    spec.path("/api/v1/referrals/batch/template.csv", operations={"get": {
        "summary": "The heading row of a CSV batch for the active checklist",
        "security": secured,
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {
            "schema": {"type": "string"}}}}}}})
    spec.path("/api/v1/referrals/{reference}", operations={"get": {
        "summary": "A referral with its decision and cases (the view is audited)",
        "security": secured,
        "parameters": [{"in": "path", "name": "reference", "required": True,
                        "schema": {"type": "string"}}],
        "responses": _responses("200", "Referral", "401", "404")}})
    _case_paths(spec, secured)
    _people_paths(spec, secured)
    privacy_paths(spec, secured)
    spec.path("/api/v1/openapi.json", operations={"get": {
        "summary": "This document", "security": [], "responses": {"200": {"description": "OK"}}}})
    return spec.to_dict()


def _query(name: str, schema: dict, description: str) -> dict:
    return {"in": "query", "name": name, "required": False, "schema": schema,
            "description": description}


def _case_paths(spec: APISpec, secured: list) -> None:
    """Cases, their events, worklists, partners' own referrals and notifications."""
    spec.components.schema("AllowedEvent", schema=AllowedEventSchema)  # before Case nests it
    spec.components.schema("Case", schema=CaseOutSchema)
    spec.components.schema("CaseEventBody", schema=CaseEventInSchema)
    spec.components.schema("CaseList", schema=CaseListSchema)
    spec.components.schema("ReassignBody", schema=ReassignInSchema)
    spec.components.schema("Reassigned", schema=ReassignOutSchema)
    spec.components.schema("ReferralList", schema=ReferralListSchema)
    spec.components.schema("NotificationList", schema=NotificationListSchema)
    spec.components.schema("Conflict", {"type": "object", "properties": {
        "message": {"type": "string"}, "state": {"type": "string"},
        "version": {"type": "integer"},
        "allowed_events": {"type": "array", "items": {"$ref": "#/components/schemas/"
                                                              "AllowedEvent"}}}})
    case_id = {"in": "path", "name": "case_id", "required": True, "schema": {"type": "integer"}}
    limit = _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                   "Page size")
    offset = _query("offset", {"type": "integer", "minimum": 0, "default": 0},
                    "Where the page starts (next_offset of the previous page)")
    spec.path("/api/v1/cases", operations={"get": {
        "summary": "A team's worklist: open cases (or those in a state), soonest due first",
        "security": secured,
        "parameters": [
            _query("service", {"type": "string"}, "Service id (default: the caller's team)"),
            _query("instance", {"type": "string"}, "Service instance (hub, patch, area)"),
            _query("state", {"type": "string"}, "Only cases in this state (closed ones too)"),
            _query("overdue", {"type": "boolean"}, "Only overdue (true) or not overdue (false)"),
            _query("worker", {"type": "string", "pattern": "^(me|[0-9]+)$"},
                   "A caseload: `me` (the caller's open cases) or a user id (managers and "
                   "admins only; anyone else 403)"),
            limit, offset],
        "responses": _responses("200", "CaseList", "401", "403", "422")}})
    spec.path("/api/v1/cases/{case_id}", operations={"get": {
        "summary": "A case: state, FHIR status, allowed events with the fields each needs, "
                   "what is due and when, history (the read is audited)",
        "security": secured, "parameters": [case_id],
        "responses": _responses("200", "Case", "401", "403", "404")}})
    conflict = {"description": _ERRORS["409"],
                "content": {"application/json": {"schema": "Conflict"}}}
    spec.path("/api/v1/cases/{case_id}/events", operations={"post": {
        "summary": "Fire an event on a case (only its team and managers); returns the case",
        "description": "The fields the event needs go at the top level beside `event`. Send "
                       "the `version` you read to be sure nobody moved the case meanwhile. "
                       "`{\"event\": \"assign\", \"worker\": <user id or null>}` names the "
                       "worker who holds an open case (an active member of its team; 422 "
                       "naming `worker` otherwise): the team's managers assign anyone, a "
                       "member may take a case or hand back their own (403 otherwise). It "
                       "keeps the state and adds an `assign` history row.",
        "security": secured, "parameters": [case_id],
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": "CaseEventBody"}}},
        "responses": {**_responses("200", "Case", "401", "403", "404", "422"),
                      "409": conflict}}})
    spec.path("/api/v1/cases/reassign", operations={"post": {
        "summary": "Hand every open case one worker holds to another (or to nobody) at once",
        "description": "For a leaver or a long absence: one transaction, an `assign` history "
                       "row on each case, all or nothing. 403 unless you manage the team of "
                       "every one of the cases; 422 naming `cases.<id>` for each case the new "
                       "worker may not hold.",
        "security": secured,
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": "ReassignBody"}}},
        "responses": _responses("200", "Reassigned", "401", "403", "422")}})
    spec.path("/api/v1/referrals", operations={"get": {
        "summary": "Referrals with their cases' states and outcomes: your own with mine=1 "
                   "(partners always see only their own)",
        "security": secured,
        "parameters": [_query("mine", {"type": "boolean"}, "Only referrals you made"),
                       _query("status", {"type": "string"}, "Only referrals in this status"),
                       limit, offset],
        "responses": _responses("200", "ReferralList", "401", "403", "422")}})
    spec.path("/api/v1/notifications", operations={"get": {
        "summary": "Your notifications and your team's, newest first",
        "security": secured,
        "parameters": [_query("unread", {"type": "boolean"}, "Only unread ones"),
                       _query("limit", {"type": "integer", "minimum": 1, "maximum": 200},
                              "How many")],
        "responses": _responses("200", "NotificationList", "401", "422")}})


def _people_paths(spec: APISpec, secured: list) -> None:
    """Search and the family record (contract 5.2): staff only, partners 403."""
    person = {"type": "object", "properties": {
        "id": {"type": "integer"}, "given_name": {"type": "string", "nullable": True},
        "family_name": {"type": "string", "nullable": True},
        "date_of_birth": {"type": "string", "format": "date"}}}
    spec.components.schema("PersonSearch", {"type": "object", "properties": {
        "results": {"type": "array", "items": {"type": "object", "properties": {
            "person": person, "band": {"type": "string", "enum": ["exact", "likely", "possible"]},
            "score": {"type": "number"}, "reasons": {"type": "array", "items": {"type": "string"}},
            "household_ids": {"type": "array", "items": {"type": "integer"}}}}}}})
    spec.components.schema("PersonRecord", {"type": "object", "properties": {
        **person["properties"], "contact": {"type": "object"}, "households": {"type": "array"},
        "referrals": {"type": "array"}, "cases": {"type": "array"}}})
    spec.components.schema("HouseholdRecord", {"type": "object", "properties": {
        "id": {"type": "integer"}, "postcode": {"type": "string"}, "address": {"type": "object"},
        "members": {"type": "array"}, "referrals": {"type": "array"}, "cases": {"type": "array"},
        "chronology": {"type": "array", "items": {"type": "object", "properties": {
            "at": {"type": "string", "format": "date-time"}, "kind": {"type": "string"},
            "summary": {"type": "string"}, "reference": {"type": "string", "nullable": True},
            "case_id": {"type": "integer", "nullable": True}}}}}})
    spec.path("/api/v1/people", operations={"get": {
        "summary": "Search people by name (forgiving typos), date of birth, postcode, referral "
                   "reference or phone number; best first, each with why it matched (audited)",
        "security": secured,
        "parameters": [_query("q", {"type": "string", "maxLength": 200},
                              "A name, date of birth, postcode, reference or phone number"),
                       _query("date_of_birth", {"type": "string", "format": "date"},
                              "Only people born that day"),
                       _query("postcode", {"type": "string"}, "Only people living there")],
        "responses": _responses("200", "PersonSearch", "401", "403", "422")}})
    for path, what, schema in (("/api/v1/people/{id}", "A person with contact, households, "
                                "referrals and cases", "PersonRecord"),
                               ("/api/v1/households/{id}", "A household with members, "
                                "referrals, cases and one chronology oldest first",
                                "HouseholdRecord")):
        params = [{"in": "path", "name": "id", "required": True, "schema": {"type": "integer"}}]
        if "households" in path:
            params.append(_query("kind", {"type": "string"},
                                 "Comma-separated chronology kinds to keep"))
        spec.path(path, operations={"get": {
            "summary": f"{what} (audited; 404 when your team does not work with the family)",
            "security": secured, "parameters": params,
            "responses": _responses("200", schema, "401", "403", "404", "422")}})
