"""The OpenAPI 3 document, generated from the same marshmallow schemas that validate requests."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from triage.schemas.checklist import ChecklistOutSchema, DecisionOutSchema, ErrorSchema
from triage.schemas.output import ReferralOutSchema
from triage.schemas.referral import referral_schema_for

_ERRORS = {
    "401": "Missing or unknown API token",
    "403": "Your role may not do this",
    "404": "No such resource (or not visible to you)",
    "413": "Body larger than the limit",
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
    spec.path("/api/v1/referrals/{reference}", operations={"get": {
        "summary": "A referral with its decision and cases (the view is audited)",
        "security": secured,
        "parameters": [{"in": "path", "name": "reference", "required": True,
                        "schema": {"type": "string"}}],
        "responses": _responses("200", "Referral", "401", "404")}})
    spec.path("/api/v1/openapi.json", operations={"get": {
        "summary": "This document", "security": [], "responses": {"200": {"description": "OK"}}}})
    return spec.to_dict()
