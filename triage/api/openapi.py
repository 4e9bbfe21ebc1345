"""The OpenAPI 3 document, generated from the same marshmallow schemas that validate requests."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from triage.api.openapi_audit import oversight_paths, oversight_shapes
from triage.api.openapi_cases import case_paths, people_paths
from triage.api.openapi_merges import merge_paths, merge_shapes
from triage.api.openapi_oruk import capacity_paths
from triage.api.openapi_privacy import privacy_paths, refine_privacy
from triage.api.openapi_reports import report_paths, report_shapes
from triage.api.openapi_shapes import (
    SECURED,
    Codes,
    array,
    code,
    errors,
    inline_nullable_refs,
    json_body,
    obj,
    output_components,
    page_parameters,
    query,
    ref,
    refine,
    responses,
    text,
)
from triage.models import ReferralStatus
from triage.schemas.checklist import ChecklistOutSchema, ErrorSchema
from triage.schemas.contact import OptionalBoolean
from triage.schemas.decisions import ConsentSchema, close_schema_for, override_schema_for
from triage.schemas.output import ReferralOutSchema
from triage.schemas.referral import MAX_NOT_SAME, StrictBoolean, referral_schema_for
from triage.urls import REFERENCE_PATTERN


def build_spec(rt) -> dict:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Early Help triage API",
        version="1",
        openapi_version="3.0.3",
        plugins=[plugin],
        info={"description": f"Referral triage for {rt.profile.name}. Authenticate with "
                             "'Authorization: Bearer <token>'."},
    )
    plugin.map_to_openapi_type(StrictBoolean, "boolean", None)
    plugin.map_to_openapi_type(OptionalBoolean, "boolean", None)
    codes = Codes(rt)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("ReferralBody", schema=referral_schema_for(rt.profile))
    spec.components.schema("Referral", schema=ReferralOutSchema)
    spec.components.schema("Checklist", schema=ChecklistOutSchema)
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("ConsentBody", schema=ConsentSchema)
    spec.components.schema("OverrideBody", schema=override_schema_for(rt.profile))
    spec.components.schema("CloseBody", schema=close_schema_for(
        rt.profile.front_door.closures or {"-": ""}))
    _meta_paths(spec)
    _referral_paths(spec, rt, codes)
    case_paths(spec, codes)
    people_paths(spec, codes)
    privacy_paths(spec, SECURED)
    merge_paths(spec)
    oversight_paths(spec, SECURED)
    capacity_paths(spec, SECURED, codes)
    report_paths(spec, rt, SECURED)
    spec.components.schema("ReferralConflict", obj({
        "message": text(), "status": code(ReferralStatus)}, required=["message"]))
    doc = spec.to_dict()
    _too_long_requests(doc)
    schemas = doc["components"]["schemas"]
    schemas.update(output_components(codes))
    schemas.update(merge_shapes(codes))
    schemas.update(oversight_shapes(codes))
    schemas.update(report_shapes())
    refine(doc, codes)
    _identity(schemas, codes)
    refine_privacy(doc, codes)
    doc["paths"] = inline_nullable_refs(doc["paths"], schemas)
    doc["components"]["schemas"] = inline_nullable_refs(schemas, schemas)
    return doc


def _meta_paths(spec: APISpec) -> None:
    health = obj({"status": code(["ok", "unavailable"]), "database": code(["ok", "unreachable"]),
                  "profile": text(), "ruleset": obj({"id": text(), "version": text()}),
                  "tasks": code(["in-process", "celery"])}, required=["status", "database"])
    spec.path("/healthz", operations={"get": {
        "operationId": "health", "summary": "Liveness and database reachability",
        "security": [],
        "responses": {"200": {"description": "OK", "content": {
                          "application/json": {"schema": health}}},
                      "503": {"description": "Database down", "content": {
                          "application/json": {"schema": health}}}}}})
    spec.path("/api/v1/checklist", operations={"get": {
        "operationId": "getChecklist", "summary": "The active checklist", "security": [],
        "responses": responses("200", "Checklist")}})
    document = obj({"openapi": text(), "info": {"type": "object", "additionalProperties": True},
                    "paths": {"type": "object", "additionalProperties": True},
                    "components": {"type": "object", "additionalProperties": True}},
                   required=["openapi", "info", "paths"])
    spec.path("/api/v1/openapi.json", operations={"get": {
        "operationId": "getOpenAPI", "summary": "This document", "security": [],
        "responses": responses("200", document)}})


def _referral_paths(spec: APISpec, rt, codes: Codes) -> None:
    reference = {"in": "path", "name": "reference", "required": True,
                 "schema": {"type": "string", "pattern": REFERENCE_PATTERN},
                 "description": "The referral's reference, like EH-2026-000123"}
    follow = {
        "GetReferral": {"operationId": "getReferral",
                        "parameters": {"reference": "$response.body#/reference"}},
        "GetFirstCase": {"operationId": "getCase",
                         "parameters": {"case_id": "$response.body#/cases/0/id"}},
    }
    spec.path("/api/v1/triage/preview", operations={"post": {
        "operationId": "previewDecision",
        "summary": "The decision for a referral body; nothing is stored", "security": SECURED,
        "requestBody": json_body("ReferralBody"),
        "description": "Staff get `candidates` too: for each person (by ref) not matched "
                       "exactly, the known people who may be them, best first, with band, "
                       "score and reasons (restricted people never; staff outside the front "
                       "door only families their team works with). Answer for them with the "
                       "body's `identity` when recording. A partner's preview has no "
                       "`candidates` and never reveals whether anyone is known.",
        "responses": responses("200", "Preview", "401", "403", "413", "422")}})
    idempotency = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "schema": {"type": "string", "maxLength": 255},
                   "description": "Retries with the same key and body return the first "
                                  "response and create nothing new."}
    created = responses("201", "Referral", "401", "403", "413", "422", links={
        **follow,
        "RecordConsent": {"operationId": "recordConsent",
                          "parameters": {"reference": "$response.body#/reference"}},
        "OverrideDecision": {"operationId": "overrideDecision",
                             "parameters": {"reference": "$response.body#/reference"}},
        "CloseReferral": {"operationId": "closeReferral",
                          "parameters": {"reference": "$response.body#/reference"}}})
    created["201"]["headers"] = {"Location": {
        "description": "Where to read the referral back", "schema": {"type": "string"}}}
    spec.path("/api/v1/referrals", operations={
        "post": {"operationId": "createReferral", "summary": "Record a referral",
                 "security": SECURED, "requestBody": json_body("ReferralBody"),
                 "parameters": [idempotency], "responses": created},
        "get": {"operationId": "listReferrals",
                "summary": "Referrals with their cases' states and outcomes: your own with "
                           "mine=1 (partners always see only their own)",
                "security": SECURED,
                "parameters": [query("mine", {"type": "boolean"}, "Only referrals you made"),
                               query("status", code(ReferralStatus),
                                     "Only referrals in this status"),
                               *page_parameters()],
                "responses": responses("200", "ReferralList", "401", "403", "422", links={
                    "GetReferral": {"operationId": "getReferral", "parameters": {
                        "reference": "$response.body#/referrals/0/reference"}}})}})
    _batch_paths(spec, rt, idempotency)
    spec.path("/api/v1/referrals/{reference}", operations={"get": {
        "operationId": "getReferral",
        "summary": "A referral with its decision and cases (the view is audited)",
        "security": SECURED, "parameters": [reference],
        "responses": responses("200", "Referral", "401", "404", links={
            "GetFirstCase": follow["GetFirstCase"]})}})
    actions = (
        ("consent", "recordConsent", "ConsentBody",
         "Record the family's consent: given opens the held cases, refused closes the "
         "referral (front door staff and the referrer)"),
        ("override", "overrideDecision", "OverrideBody",
         "Override the decision's level or routes, with a reason (front door staff); the "
         "referral is routed again"),
        ("close", "closeReferral", "CloseBody",
         "Close a referral at the front door without a service, for one of the profile's "
         "closures, with a note (the referrer is told the closure, never the note)"),
    )
    for action, operation_id, body, summary in actions:
        spec.path(f"/api/v1/referrals/{{reference}}/{action}", operations={"post": {
            "operationId": operation_id, "summary": summary, "security": SECURED,
            "parameters": [reference], "requestBody": json_body(body),
            "responses": {**responses("200", "Referral", "401", "403", "404", "413", "422",
                                      links={"GetReferral": follow["GetReferral"]}),
                          "409": {"description": "Not allowed in the referral's status",
                                  "content": {"application/json": {
                                      "schema": ref("ReferralConflict")}}}}}})


def _batch_paths(spec: APISpec, rt, idempotency: dict) -> None:
    limit = rt.settings.max_batch_referrals
    duplicate = obj({"message": text(), "duplicate_of": obj({
        "sent_at": text(format="date-time"), "count": {"type": "integer"},
        "references": array(text())})}, required=["message"])
    spec.path("/api/v1/referrals/batch", operations={"post": {
        "operationId": "createReferralBatch",
        "summary": "Record a batch of referrals: all of them, or none",
        "description": "Every referral is validated first; any problem in any of them is a "
                       "422 naming each (referrals.<i>.<field> for JSON, rows.<row>.<column> "
                       "for CSV) and nothing is recorded. A CSV file has the columns of "
                       "/api/v1/referrals/batch/template.csv, one referral per row. A "
                       "partner's referrals take the partner channel and its organisation "
                       "from its account, so a partner may leave them out.",
        "security": SECURED,
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {
                "type": "object", "required": ["referrals"], "additionalProperties": False,
                "properties": {"referrals": array(ref("ReferralBody"), minItems=1,
                                                  maxItems=limit)}}},
            "text/csv": {"schema": {"type": "string"}}}},
        "parameters": [{**idempotency,
                        "description": "Sending the same batch again with the same key "
                                       "returns the first response and records nothing."},
                       query("confirm", code(["duplicate"]),
                             "CSV only: `duplicate` records a file this sender already sent "
                             "in the last 30 days (otherwise a 409).")],
        "responses": {
            "201": {"description": "Recorded, in the batch's order (with `row` for CSV)",
                    "content": {"application/json": {"schema": obj({
                        "count": {"type": "integer"},
                        "referrals": array({"allOf": [ref("Referral")], "type": "object",
                                            "properties": {"row": {"type": "integer"}}})})}}},
            "409": {"description": "CSV only: the same file (its bytes, without a BOM, "
                                   "line endings aside) was already recorded for this "
                                   "organisation (or user, without one) in the last 30 "
                                   "days; nothing was recorded. Send it with "
                                   "?confirm=duplicate to record every row again.",
                    "content": {"application/json": {"schema": duplicate}}},
            **errors("401", "403", "413", "422")}}})
    spec.path("/api/v1/referrals/batch/template.csv", operations={"get": {
        "operationId": "getBatchTemplate",
        "summary": "The heading row of a CSV batch for the active checklist",
        "security": SECURED,
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {
            "schema": {"type": "string"}}}}, **errors("401")}}})


def _identity(schemas: dict, codes: Codes) -> None:
    """The referral body's `identity` (the staff worker's answers) and the preview's
    `candidates` (what they answer about)."""
    person_id = {"type": "integer", "minimum": 1}
    choice = {"type": "object", "additionalProperties": False,
              "properties": {"same_as": {**person_id, "description": "This person is that "
                                         "known person: the referral joins them and their "
                                         "household at the postcode"},
                             "not_same_as": array(person_id, minItems=1,
                                                  maxItems=MAX_NOT_SAME, description=(
                                                      "None of these known people: a new "
                                                      "person, and each pair is never "
                                                      "offered again"))},
              "minProperties": 1, "maxProperties": 1}
    schemas["ReferralBody"]["properties"]["identity"] = {
        "type": "object", "additionalProperties": choice,
        "description": "Staff on the staff channel only (anyone else: 422): for a person "
                       "(by ref) whom the preview offered candidates for, which of them "
                       "they are (same_as) or that they are none of these (not_same_as). "
                       "Every id must be one the preview offered this user; leave a person "
                       "out to have the front door check later."}
    outward = (codes.texts.get("postcode_example") or "SW1A 1AA").split()[0]
    candidate = obj({
        "person": obj({"id": {"type": "integer"}, "given_name": text(True),
                       "family_name": text(True), "date_of_birth": text(format="date")}),
        "postcode_district": text(True, description="The outward code of their household's "
                                                     "postcode only, like " + outward),
        "band": code(["exact", "likely", "possible"]), "score": {"type": "number"},
        "reasons": array(text(), description="Why, field by field, in plain English"),
        "open_cases": {"type": "integer", "description": "Open cases of their households"}})
    decision = schemas["Decision"]
    schemas["Preview"] = {**decision, "properties": {
        **decision["properties"],
        "candidates": {"type": "object", "additionalProperties": array(candidate),
                       "description": "Staff only: person ref -> known people who may be "
                                      "them, best first"}}}


def _too_long_requests(doc: dict) -> None:
    """The server (gunicorn) refuses a request line over 4 KB with its own HTML 414, before
    the app sees it: any operation can answer so."""
    for item in doc["paths"].values():
        for operation in item.values():
            operation["responses"]["414"] = {
                "description": "URI too long (the request line is over 4 KB)",
                "content": {"text/html": {"schema": {"type": "string"}}}}
