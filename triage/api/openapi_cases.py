"""The OpenAPI paths for cases, worklists, notifications and the family record (people and
households), with the links a stateful test follows from a list to a case to its events."""

from __future__ import annotations

from apispec import APISpec

from triage.api.openapi_shapes import (
    BANDS,
    ERRORS,
    KEPT_POSTCODE_PATTERN,
    POSTCODE_QUERY_PATTERN,
    SECURED,
    TOP_UNIT,
    Codes,
    array,
    code,
    json_body,
    obj,
    page_parameters,
    query,
    ref,
    responses,
    text,
)
from triage.models import ReferralStatus
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
from triage.schemas.contact import SEX
from triage.services.people.chronology import KINDS as CHRONOLOGY_KINDS

MAX_ID = 2**31 - 1


def _id(name: str) -> dict:
    return {"in": "path", "name": name, "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}


def case_paths(spec: APISpec, codes: Codes) -> None:
    """Cases, their events, worklists and notifications."""
    spec.components.schema("AllowedEvent", schema=AllowedEventSchema)  # before Case nests it
    spec.components.schema("Case", schema=CaseOutSchema)
    spec.components.schema("CaseEventBody", schema=CaseEventInSchema)
    spec.components.schema("CaseList", schema=CaseListSchema)
    spec.components.schema("ReassignBody", schema=ReassignInSchema)
    spec.components.schema("Reassigned", schema=ReassignOutSchema)
    spec.components.schema("ReferralList", schema=ReferralListSchema)
    spec.components.schema("NotificationList", schema=NotificationListSchema)
    spec.components.schema("Conflict", obj({
        "message": text(), "state": code(codes.states), "version": {"type": "integer"},
        "allowed_events": array(ref("AllowedEvent"))}, required=["message"]))
    to_case = {"GetCase": {"operationId": "getCase",
                           "parameters": {"case_id": "$response.body#/id"}}}
    spec.path("/api/v1/cases", operations={"get": {
        "operationId": "listCases",
        "summary": "A team's worklist: open cases (or those in a state), soonest due first",
        "security": SECURED,
        "parameters": [
            query("team", code(codes.teams), "A team of the profile (a service, an instance, "
                  "or several instances of one service): its cases; instead of service and "
                  "instance"),
            query("service", code(codes.services), "Service id (default: the caller's team)"),
            query("instance", code(["", *codes.instances]),
                  f"Service instance ({codes.texts.get('instance_examples', 'a local team')})"
                  "; blank: the caller's own"),
            query("state", code(codes.states), "Only cases in this state (closed ones too)"),
            query("overdue", {"type": "boolean"}, "Only overdue (true) or not overdue (false)"),
            query("worker", {"type": "string", "pattern": "^(me|[0-9]{1,9})$"},
                  "A caseload: `me` (the caller's open cases) or a user id (managers and "
                  "admins only; anyone else 403)"),
            *page_parameters()],
        "responses": responses("200", "CaseList", "401", "403", "422", links={
            "GetFirstCase": {"operationId": "getCase",
                             "parameters": {"case_id": "$response.body#/cases/0/id"}}})}})
    fire = {"FireAllowedEvent": {
        "operationId": "fireCaseEvent", "parameters": {"case_id": "$response.body#/id"},
        "requestBody": {"event": "$response.body#/allowed_events/0/event",
                        "version": "$response.body#/version"}}}
    spec.path("/api/v1/cases/{case_id}", operations={"get": {
        "operationId": "getCase",
        "summary": "A case: state, FHIR status, allowed events with the fields each needs, "
                   "what is due and when, history (the read is audited)",
        "security": SECURED, "parameters": [_id("case_id")],
        "responses": responses("200", "Case", "401", "403", "404", links=fire)}})
    spec.path("/api/v1/cases/{case_id}/events", operations={"post": {
        "operationId": "fireCaseEvent",
        "summary": "Fire an event on a case (only its team and managers); returns the case",
        "description": "The fields the event needs go at the top level beside `event`. Send "
                       "the `version` you read to be sure nobody moved the case meanwhile. "
                       "`{\"event\": \"assign\", \"worker\": <user id or null>}` names the "
                       "worker who holds an open case (an active member of its team; 422 "
                       "naming `worker` otherwise): the team's managers assign anyone, a "
                       "member may take a case or hand back their own (403 otherwise). It "
                       "keeps the state and adds an `assign` history row. Onward "
                       "`connections` are `{\"organisation\", \"need\"}` or `{\"service\": "
                       "<a directory service id from /oruk/services>, \"need\"}` (the "
                       "organisation is then the service's; an unknown one is a 422 naming "
                       "`connections.<i>.service`).",
        "security": SECURED, "parameters": [_id("case_id")],
        "requestBody": json_body("CaseEventBody"),
        "responses": {**responses("200", "Case", "401", "403", "404", "413", "422",
                                      links={**to_case, **fire}),
                      "409": {"description": ERRORS["409"],
                              "content": {"application/json": {"schema": ref("Conflict")}}}}}})
    spec.path("/api/v1/cases/reassign", operations={"post": {
        "operationId": "reassignCases",
        "summary": "Hand every open case one worker holds to another (or to nobody) at once",
        "description": "For a leaver or a long absence: one transaction, an `assign` history "
                       "row on each case, all or nothing. 403 unless you manage the team of "
                       "every one of the cases; 422 naming `cases.<id>` for each case the new "
                       "worker may not hold.",
        "security": SECURED, "requestBody": json_body("ReassignBody"),
        "responses": responses("200", "Reassigned", "401", "403", "413", "422")}})
    spec.path("/api/v1/notifications", operations={"get": {
        "operationId": "listNotifications",
        "summary": "Your notifications and your team's: unread first, each part newest "
                   "first; read_at is when you read it (a team's are read per member)",
        "security": SECURED,
        "parameters": [query("unread", {"type": "boolean"}, "Only unread ones"),
                       query("limit", {"type": "integer", "minimum": 1, "maximum": 200},
                             "How many")],
        "responses": responses("200", "NotificationList", "401", "422")}})


def people_paths(spec: APISpec, codes: Codes) -> None:
    """Search and the family record (contract 5.2): staff only, partners 403."""
    person = {"id": {"type": "integer"}, "given_name": text(True),
              "family_name": text(True), "date_of_birth": text(format="date")}
    referral = obj({"reference": text(), "status": code(ReferralStatus),
                    "received_at": text(format="date-time")})
    case = obj({"id": {"type": "integer"}, "service": code(codes.services),
                "instance": text(True), "state": code(codes.states),
                "opened_at": text(format="date-time"),
                "closed_at": text(True, format="date-time"), "worker": ref("Worker")})
    postcode = text(True, pattern=KEPT_POSTCODE_PATTERN)
    address = obj({"line1": text(True), "line2": text(True), "town": text(True),
                   "postcode": postcode, "district": text(True, description=TOP_UNIT)})
    contact = ref("KeptContact")
    spec.components.schema("PersonSearch", obj({"results": array(obj({
        "person": obj(person), "band": code(BANDS), "score": {"type": "number"},
        "reasons": array(text()), "household_ids": array({"type": "integer"}),
        "postcode": postcode,
        "open_cases": array(obj({"id": {"type": "integer"}, "service": code(codes.services),
                                 "state": code(codes.states)}))}))}))
    spec.components.schema("PersonRecord", obj({
        **person, "contact": contact, "nhs_number": text(True, pattern=r"^[0-9]{10}$"),
        "sex": code(SEX, True), "ethnicity": code(codes.ethnicity, True),
        "households": array(obj({"id": {"type": "integer"}, "postcode": postcode,
                                 "address": address})),
        "referrals": array(referral), "cases": array(case),
        "merged_into": {"type": "integer", "nullable": True,
                        "description": "The record this one was merged into, or null"},
        "merges": array(ref("Merge"), description="Merges into or out of this record, "
                                                  "oldest first")}))
    spec.components.schema("HouseholdRecord", obj({
        "id": {"type": "integer"}, "postcode": postcode, "address": address,
        "merged_into": {"type": "integer", "nullable": True,
                        "description": "The household this one was merged into, or null"},
        "merges": array(ref("Merge"), description="Household merges into or out of it"),
        "members": array(obj({**person, "relationship": text(True), "contact": contact})),
        "referrals": array(referral), "cases": array(case),
        "chronology": array(obj({
            "at": text(format="date-time"), "kind": code(CHRONOLOGY_KINDS),
            "summary": text(), "reference": text(True),
            "case_id": {"type": "integer", "nullable": True},
            "merge_id": {"type": "integer", "description": "A merged entry's merge"}}))}))
    spec.path("/api/v1/people", operations={"get": {
        "operationId": "searchPeople",
        "summary": "Search people by name (forgiving typos), date of birth, postcode, referral "
                   "reference or phone number; best first, each with why it matched (audited)",
        "security": SECURED,
        "parameters": [query("q", {"type": "string", "maxLength": 200},
                             "A name, date of birth, postcode, reference or phone number"),
                       # Typed as people type it (31/05/2015 too) and blank for any day, so
                       # not a `date`: one that is not a date is a 422 naming date_of_birth.
                       query("date_of_birth", {"type": "string"},
                             "Only people born that day: 2015-05-31 or 31/05/2015 (blank: any)"),
                       query("postcode", {"type": "string", "pattern": POSTCODE_QUERY_PATTERN},
                             "Only people living there (blank: anywhere)")],
        "responses": responses("200", "PersonSearch", "401", "403", "422", links={
            "GetFirstPerson": {"operationId": "getPerson", "parameters": {
                "person_id": "$response.body#/results/0/person/id"}},
            "GetFirstHousehold": {"operationId": "getHousehold", "parameters": {
                "household_id": "$response.body#/results/0/household_ids/0"}}})}})
    spec.path("/api/v1/people/{person_id}", operations={"get": {
        "operationId": "getPerson",
        "summary": "A person with contact, households, referrals and cases (audited; 404 "
                   "when your team does not work with the family)",
        "security": SECURED, "parameters": [_id("person_id")],
        "responses": responses("200", "PersonRecord", "401", "403", "404")}})
    spec.path("/api/v1/households/{household_id}", operations={"get": {
        "operationId": "getHousehold",
        "summary": "A household with members, referrals, cases and one chronology oldest "
                   "first (audited; 404 when your team does not work with the family)",
        "security": SECURED,
        "parameters": [_id("household_id"),
                       query("kind", {"type": "string", "pattern": "^,*(({0}),+)*({0})?,*$".format(
                                 "|".join(CHRONOLOGY_KINDS))},
                             "Comma-separated chronology kinds to keep: "
                             + ", ".join(CHRONOLOGY_KINDS))],
        "responses": responses("200", "HouseholdRecord", "401", "403", "404", "422")}})
