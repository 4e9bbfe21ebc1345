"""The privacy operations' part of the OpenAPI document: subject-access export, rectification,
restrictions and retention reviews, with their request bodies from the marshmallow schemas."""

from __future__ import annotations

from apispec import APISpec

from triage.schemas.privacy import (
    ReasonInSchema,
    RectificationInSchema,
    RestrictionInSchema,
)

_ERRORS = {
    "401": "Missing or unknown API token",
    "403": "Your role may not do this",
    "404": "No such resource (or a restriction hides it from you)",
    "409": "The review is no longer the one waiting (confirmed or superseded)",
    "422": "Bad input: errors names every field and what is wrong",
}
_ID = {"in": "path", "name": "id", "required": True,
       "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}


def _responses(ok_code: str, ok_schema: str, *codes: str) -> dict:
    out = {ok_code: {"description": "OK",
                     "content": {"application/json": {"schema": ok_schema}}}}
    for code in codes:
        out[code] = {"description": _ERRORS[code],
                     "content": {"application/json": {"schema": "Error"}}}
    return out


def _body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def privacy_paths(spec: APISpec, secured: list) -> None:
    obj = {"type": "object"}
    arr = {"type": "array", "items": obj}
    spec.components.schema("RestrictionIn", schema=RestrictionInSchema)
    spec.components.schema("ReasonIn", schema=ReasonInSchema)
    spec.components.schema("RectificationIn", schema=RectificationInSchema)
    spec.components.schema("SubjectAccessExport", {"type": "object", "properties": {
        "exported_at": {"type": "string", "format": "date-time"}, "person": obj,
        "contact": obj, "households": arr, "referrals": arr, "cases": arr, "changes": arr,
        "restrictions": arr, "views": arr}})
    spec.components.schema("Rectification", {"type": "object", "properties": {
        "changed": {"type": "array", "items": {"type": "string"}}, "changes": arr}})
    spec.components.schema("Restriction", {"type": "object", "properties": {
        "id": {"type": "integer"}, "reason": {"type": "string"},
        "set_at": {"type": "string", "format": "date-time"}, "users": arr}})
    spec.components.schema("RestrictionList", {"type": "object", "properties": {
        "restrictions": arr}})
    spec.components.schema("RetentionReviews", {"type": "object", "properties": {
        "reviews": arr}})
    spec.components.schema("RetentionReport", {"type": "object", "properties": {
        "review": {"type": "object", "nullable": True}}})
    spec.path("/api/v1/people/{id}/export", operations={"get": {
        "summary": "Everything held about a person (subject access; front door, managers, "
                   "admins; audited)", "security": secured, "parameters": [_ID],
        "responses": _responses("200", "SubjectAccessExport", "401", "403", "404")}})
    spec.path("/api/v1/people/{id}/rectification", operations={"post": {
        "summary": "Correct a person's details with a reason; old and new values are kept",
        "security": secured, "parameters": [_ID], "requestBody": _body("RectificationIn"),
        "responses": _responses("200", "Rectification", "401", "403", "404", "422")}})
    spec.path("/api/v1/people/{id}/restriction", operations={"post": {
        "summary": "Restrict a person's record (and their households') to named users "
                   "(managers, admins)", "security": secured, "parameters": [_ID],
        "requestBody": _body("RestrictionIn"),
        "responses": _responses("201", "Restriction", "401", "403", "404", "422")}})
    spec.path("/api/v1/restrictions", operations={"get": {
        "summary": "Restrictions in force (ids and named users, no names of the people)",
        "security": secured,
        "responses": _responses("200", "RestrictionList", "401", "403")}})
    spec.path("/api/v1/restrictions/{id}/lift", operations={"post": {
        "summary": "Lift a restriction, with a reason (managers, admins)", "security": secured,
        "parameters": [_ID], "requestBody": _body("ReasonIn"),
        "responses": _responses("200", "Restriction", "401", "403", "404", "422")}})
    spec.path("/api/v1/retention/reviews", operations={
        "get": {"summary": "The latest retention reviews (admins)", "security": secured,
                "responses": _responses("200", "RetentionReviews", "401", "403")},
        "post": {"summary": "Report what the retention schedule finds due now (changes "
                            "nothing; admins)", "security": secured,
                 "responses": {**_responses("201", "RetentionReport", "401", "403"),
                               "200": {"description": "Nothing is due",
                                       "content": {"application/json": {
                                           "schema": "RetentionReport"}}}}}})
    spec.path("/api/v1/retention/reviews/{id}/confirm", operations={"post": {
        "summary": "Anonymise or erase what the waiting review lists and is still due "
                   "(admins)", "security": secured, "parameters": [_ID],
        "requestBody": _body("ReasonIn"),
        "responses": _responses("200", "RetentionReviews", "401", "403", "404", "409",
                                "422")}})
