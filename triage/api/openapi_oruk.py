"""OpenAPI for the directory: the Open Referral UK feed's own document (/oruk/openapi.json,
with the published ORUK 3.0 schemas shipped in triage/services/directory/oruk_schemas) and the
capacity status operations of the main API document."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from apispec import APISpec

from triage.api.openapi_shapes import (
    array,
    code,
    complete,
    json_body,
    obj,
    query,
    responses,
    text,
    when,
)
from triage.services.directory.capacity import CODES, MAX_NOTES
from triage.services.directory.feed import DEFAULT_PER_PAGE, MAX_PER_PAGE, MAX_PROXIMITY_METRES

SCHEMAS = Path(__file__).resolve().parent.parent / "services" / "directory" / "oruk_schemas"
# The keys of an OpenAPI 3.0 schema object; the published files add Frictionless Data keys
# (name, constraints, datapackage_metadata, core...), which are left out here.
SCHEMA_KEYS = {"title", "type", "format", "description", "enum", "required", "properties",
               "items", "example", "minimum", "maximum", "pattern", "additionalProperties",
               "nullable"}


def _openapi_schema(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key not in SCHEMA_KEYS:
                continue
            if key == "properties":
                out[key] = {name: _openapi_schema(prop) for name, prop in value.items()}
            elif key == "required" and not isinstance(value, list):
                continue
            else:
                out[key] = _openapi_schema(value)
        return out
    if isinstance(node, list):
        return [_openapi_schema(v) for v in node]
    return node


@cache
def published(name: str) -> dict[str, Any]:
    """One of the shipped ORUK 3.0 schemas, as an OpenAPI 3.0 schema object."""
    return _openapi_schema(json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8")))


def _page(items: dict) -> dict:
    whole = {"type": "integer", "minimum": 0}
    return complete({"total_items": whole, "total_pages": {"type": "integer", "minimum": 1},
                     "page_number": {"type": "integer", "minimum": 1},
                     "size": {"type": "integer", "minimum": 1},
                     "first_page": {"type": "boolean"}, "last_page": {"type": "boolean"},
                     "empty": {"type": "boolean"}, "contents": array(items)})


ERROR = obj({"message": text(), "errors": {"type": "object", "additionalProperties": array(
    text())}}, required=["message"])


def _paging() -> list[dict]:
    return [query("page", {"type": "integer", "minimum": 1, "default": 1},
                  "Which page, from 1 (past the last page: an empty page)"),
            query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                               "default": DEFAULT_PER_PAGE}, "Items per page")]


def _ok(schema: dict, *bad: str) -> dict:
    out = {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}
    for status in bad:
        out[status] = {"description": {"400": "A query parameter it cannot use: errors "
                                              "names it", "404": "No such service"}[status],
                       "content": {"application/json": {"schema": ERROR}}}
    return out


def feed_spec(rt) -> dict:
    """The feed's document: every /oruk/ operation, with the ORUK 3.0 bodies."""
    capacity = obj({"code": code(CODES), "display": text(), "notes": text(),
                    "updated": text(format="date-time")}, required=["code", "display"],
                   description="Extension: the team's capacity now (FHIR SDOH codes)")
    service = dict(published("service"))
    service["properties"] = {**service["properties"], "x_capacity": array({
        **capacity, "properties": {**capacity["properties"], "service_area_id": text(),
                                   "area": text(), "service_id": text()}})}
    sal = dict(published("service_at_location_list"))
    sal["properties"] = {**sal["properties"], "x_capacity": capacity,
                         "distance": {"type": "integer", "description": "Metres from the "
                                      "postcode's district, when one is given"}}
    term = obj({"id": text(format="uuid"), "code": text(), "name": text(),
                "description": text(), "taxonomy": text(), "taxonomy_id": text(format="uuid")},
               required=["id", "name", "description"])
    taxonomy = obj({"id": text(format="uuid"), "name": text(), "description": text(),
                    "version": text()}, required=["id", "name", "description"])
    search = query("search", {"type": "string", "maxLength": 200},
                   "Words in the name, description, organisation, needs or area")
    paths = {
        "/oruk/": {"get": {"operationId": "orukIndex", "summary": "What this feed is",
                           "responses": _ok(complete({"version": code(["HSDS-UK-3.0"]),
                                                      "profile": text(),
                                                      "openapi_url": text(format="uri")}))}},
        "/oruk/openapi.json": {"get": {
            "operationId": "orukOpenAPI", "summary": "This document",
            "responses": _ok(obj({"openapi": text()}, additionalProperties=True))}},
        "/oruk/services": {"get": {
            "operationId": "orukServices", "summary": "A page of services",
            "parameters": [search, *_paging(),
                           query("taxonomy_term_id", text(format="uuid"),
                                 "Only services meeting this need (a term of /taxonomy_terms)")],
            "responses": _ok(_page(published("service_list")), "400")}},
        "/oruk/services/{id}": {"get": {
            "operationId": "orukService", "summary": "One service, fully nested",
            "parameters": [{"in": "path", "name": "id", "required": True,
                            "schema": text(format="uuid")}],
            "responses": _ok(service, "404")}},
        "/oruk/taxonomies": {"get": {
            "operationId": "orukTaxonomies", "summary": "The need taxonomies",
            "parameters": _paging(), "responses": _ok(_page(taxonomy), "400")}},
        "/oruk/taxonomy_terms": {"get": {
            "operationId": "orukTaxonomyTerms",
            "summary": "The need taxonomy's terms: the checklist's domains and headline areas",
            "parameters": [*_paging(), query("taxonomy_id", text(format="uuid"),
                                             "Only this taxonomy's terms")],
            "responses": _ok(_page(term), "400")}},
        "/oruk/service_at_locations": {"get": {
            "operationId": "orukServiceAtLocations",
            "summary": "Services at their locations, near a postcode",
            "parameters": [search, *_paging(),
                           query("postcode", text(), "A UK postcode (or its district, such as "
                                 f"{rt.profile.texts['postcode_example'].split()[0]}): "
                                 "locations in its district, or with proximity within that "
                                 "distance of it, nearest first"),
                           query("proximity", {"type": "integer", "minimum": 1,
                                               "maximum": MAX_PROXIMITY_METRES},
                                 "Metres from the postcode")],
            "responses": _ok(_page(sal), "400")}},
    }
    return {"openapi": "3.0.3",
            "info": {"title": f"{rt.profile.name}: service directory (Open Referral UK)",
                     "version": "HSDS-UK-3.0",
                     "description": "Public and read-only; no sign-in; CORS open to any "
                                    "site. Ids are UUIDs that stay the same across restarts. "
                                    "x_capacity is this directory's extension: whether a "
                                    "team can take people now (FHIR SDOH capacity codes)."},
            "paths": paths}


def capacity_paths(spec: APISpec, secured: list, codes) -> None:
    """The capacity status operations (main API document)."""
    status = complete({"service": code(codes.services), "instance": code(codes.instances),
                       "code": code(CODES, nullable=True), "display": text(),
                       "notes": text(nullable=True),
                       "set_by": obj({"id": {"type": "integer"}, "name": text()},
                                     nullable=True),
                       "set_at": when(nullable=True)})
    spec.path("/api/v1/capacity", operations={"get": {
        "operationId": "listCapacity",
        "summary": "Every service instance's capacity status (signed-in users)",
        "security": secured,
        "responses": responses("200", obj({"capacity": array(status)}), "401")}})
    params = [{"in": "path", "name": name, "required": True, "schema": code(values)}
              for name, values in (("service", codes.services),
                                   ("instance", codes.instances))]
    body = obj({"code": code(CODES), "notes": text(nullable=True, maxLength=MAX_NOTES)},
               required=["code"], additionalProperties=False)
    spec.path("/api/v1/capacity/{service}/{instance}", operations={
        "get": {"operationId": "getCapacity", "summary": "One instance's capacity status",
                "security": secured, "parameters": params,
                "responses": responses("200", status, "401", "404")},
        "put": {"operationId": "setCapacity",
                "summary": "Set an instance's capacity status: its team's managers and admins "
                           "(audited). Notes are published to referrers and the public feed: "
                           "never write about a person.",
                "security": secured, "parameters": params, "requestBody": json_body(body),
                "responses": responses("200", status, "401", "403", "404", "413", "422")}})
