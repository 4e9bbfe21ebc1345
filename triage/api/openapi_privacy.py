"""The OpenAPI paths for the privacy operations (subject-access export, rectification,
restrictions, retention reviews) and the typed shapes of what each one answers, with the
profile's codes and the retention schedule's as enums."""

from __future__ import annotations

import copy

from apispec import APISpec

from config.retention import KINDS as RETENTION_KINDS
from triage.api.openapi_shapes import (
    KEPT_POSTCODE_PATTERN,
    TOP_UNIT,
    Codes,
    array,
    code,
    complete,
    json_body,
    path_id,
    ref,
    responses,
    text,
    when,
)
from triage.models import ReferralStatus, Role
from triage.schemas.contact import SEX
from triage.schemas.privacy import ReasonInSchema, RectificationInSchema, RestrictionInSchema
from triage.schemas.referral import CHANNELS, CONSENT, ROLES
from triage.services.privacy.rectification import FIELDS
from triage.services.privacy.retention import STATUSES
from workflows.machine import OPEN_EVENT

INTEGER = {"type": "integer"}
HIDDEN = "No such person (or a restriction hides them from you)"
RULE_ID = r"^[a-z][a-z0-9_]{0,31}$"  # config.retention: a rule's id


def privacy_paths(spec: APISpec, secured: list) -> None:
    """The operations; the shapes they answer are added with the profile's codes by
    refine_privacy, once the document is built."""
    spec.components.schema("RestrictionIn", schema=RestrictionInSchema)
    spec.components.schema("ReasonIn", schema=ReasonInSchema)
    spec.components.schema("RectificationIn", schema=RectificationInSchema)
    person_id = {**path_id("person_id", "A person's id, as the search and the family record "
                                        "give"), "example": 1}
    spec.path("/api/v1/people/{person_id}/export", operations={"get": {
        "operationId": "exportPerson",
        "summary": "Everything held about a person, for a subject-access request: details, "
                   "contact, households, referrals with answers and decisions, cases with "
                   "history and notes, corrections, restrictions, who viewed or changed the "
                   "records (front door, managers, admins; audited)",
        "security": secured, "parameters": [person_id],
        "responses": responses("200", "SubjectAccessExport", "401", "403", "404", e404=HIDDEN,
                               links={"RectifyPerson": {
                                   "operationId": "rectifyPerson",
                                   "parameters": {"person_id": "$response.body#/person/id"}}})}})
    spec.path("/api/v1/people/{person_id}/rectification", operations={"post": {
        "operationId": "rectifyPerson",
        "summary": "Correct a person's details with a reason: every field checked by the "
                   "intake's rules, all or nothing; the old and new values are kept (front "
                   "door, managers, admins)",
        "security": secured, "parameters": [person_id],
        "requestBody": json_body("RectificationIn"),
        "responses": responses("200", "Rectification", "401", "403", "404", "413", "422",
                               e404=HIDDEN)}})
    spec.path("/api/v1/people/{person_id}/restriction", operations={"post": {
        "operationId": "restrictPerson",
        "summary": "Restrict a person's record (and their households') to named users, "
                   "replacing a restriction in force (managers, admins)",
        "security": secured, "parameters": [person_id],
        "requestBody": json_body("RestrictionIn"),
        "responses": responses("201", "Restriction", "401", "403", "404", "413", "422",
                               e404=HIDDEN, links={"LiftRestriction": {
                                   "operationId": "liftRestriction",
                                   "parameters": {"restriction_id": "$response.body#/id"}}})}})
    spec.path("/api/v1/restrictions", operations={"get": {
        "operationId": "listRestrictions",
        "summary": "Restrictions in force: ids, who set them and who is named, no names of "
                   "the people restricted (managers, admins; audited)",
        "security": secured,
        "responses": responses("200", "RestrictionList", "401", "403", links={
            "LiftFirstRestriction": {"operationId": "liftRestriction", "parameters": {
                "restriction_id": "$response.body#/restrictions/0/id"}}})}})
    spec.path("/api/v1/restrictions/{restriction_id}/lift", operations={"post": {
        "operationId": "liftRestriction",
        "summary": "Lift a restriction in force, with a reason (managers, admins)",
        "security": secured,
        "parameters": [path_id("restriction_id", "As /api/v1/restrictions lists it")],
        "requestBody": json_body("ReasonIn"),
        "responses": responses("200", "LiftedRestriction", "401", "403", "404", "413", "422",
                               e404="No restriction in force with that id")}})
    to_confirm = {"operationId": "confirmRetentionReview",
                  "parameters": {"review_id": "$response.body#/review/id"}}
    spec.path("/api/v1/retention/reviews", operations={
        "get": {"operationId": "listRetentionReviews",
                "summary": "The latest ten retention reviews, newest first (admins; audited)",
                "security": secured,
                "responses": responses("200", "RetentionReviews", "401", "403", links={
                    "ConfirmLatestReview": {"operationId": "confirmRetentionReview",
                                            "parameters": {
                                                "review_id": "$response.body#/reviews/0/id"}}})},
        "post": {"operationId": "reportRetention",
                 "summary": "Report what the retention schedule finds due now; changes "
                            "nothing (admins). Takes no body.",
                 "description": "201 with the review waiting for confirmation (the same one "
                                "when nothing changed since the last report), or 200 with a "
                                "null review when nothing is due.",
                 "security": secured,
                 "responses": {**responses("201", "RetentionReport", "401", "403",
                                           links={"ConfirmReview": to_confirm}),
                               "200": {"description": "Nothing is due", "content": {
                                   "application/json": {"schema": ref("NothingDue")}}}}}})
    spec.path("/api/v1/retention/reviews/{review_id}/confirm", operations={"post": {
        "operationId": "confirmRetentionReview",
        "summary": "Anonymise or erase what the waiting review lists and is still due, in one "
                   "transaction (admins)",
        "security": secured,
        "parameters": [path_id("review_id", "The waiting review's id")],
        "requestBody": json_body("ReasonIn"),
        "responses": {**responses("200", "RetentionConfirmed", "401", "403", "404", "413",
                                  "422", e404="No such retention review"),
                      "409": {"description": "The review is no longer the one waiting "
                                             "(confirmed already, or superseded by a newer "
                                             "report)",
                              "content": {"application/json": {
                                  "schema": ref("RetentionConflict")}}}}}})


def _user(nullable: bool = False, **more) -> dict:
    return complete({"id": INTEGER, "name": text(), "role": code(Role)}, nullable, **more)


def _export(codes: Codes) -> dict:
    postcode = text(pattern=KEPT_POSTCODE_PATTERN)
    decision = complete({
        "kind": code(["engine", "override"]), "level": {**INTEGER, "enum": codes.levels},
        "level_code": code(codes.level_codes),
        "level_name": text(True),
        "routes": array(complete({"service": code(codes.services), "instance": text(True),
                                  "reason": text()})),
        "reasons": array(text()), "decided_at": when(),
        "reason": text(True, description="Why staff overrode the decision"),
        "current": {"type": "boolean"},
        "ruleset": complete({"id": text(), "version": text()})})
    referral = complete({
        "reference": text(), "received_at": when(), "status": code(ReferralStatus),
        "channel": code(CHANNELS), "role": code(ROLES), "relationship": text(True),
        "referrer": complete({"organisation": text(True), "name": text(True),
                              "email": text(True), "phone": text(True)}),
        "postcode": postcode, "consent": code(CONSENT), "consent_recorded_at": when(True),
        "urgent": {"type": "boolean"}, "concerns": text(True),
        "answers": {"type": "object", "additionalProperties": {"type": "boolean",
                                                                "nullable": True},
                    "description": "Checklist question id -> true, false or null"},
        "closure": complete({"closure": code(codes.closures), "note": text(True),
                             "at": when()}, nullable=True,
                            description="Why the front door closed it, or null"),
        "decisions": array(decision, description="Oldest first")})
    case = complete({
        "id": INTEGER, "referral": text(description="The referral's reference"),
        "service": code(codes.services), "instance": text(), "state": code(codes.states),
        "opened_at": when(), "closed_at": when(True), "outcome": code(codes.outcomes, True),
        "worker": _user(True, description="Who holds the case, or null"),
        "history": array(complete({
            "at": when(), "event": code([OPEN_EVENT, *codes.events]),
            "from": code(codes.states, True), "to": code(codes.states), "by": text(),
            "reason": text(True)})),
        "notes": array(complete({"at": when(), "by": text(), "text": text()}))})
    return complete({
        "exported_at": when(),
        "person": complete({
            "id": INTEGER, "given_name": text(True), "family_name": text(True),
            "date_of_birth": text(format="date"),
            "nhs_number": text(True, pattern=r"^[0-9]{10}$"), "sex": code(SEX, True),
            "ethnicity": code(codes.ethnicity, True),
            "ethnicity_text": text(True, description="The ethnicity code's words"),
            "created_at": when(),
            "anonymised_at": text(True, format="date-time",
                                  description="Set once the retention schedule anonymised "
                                              "the person")}),
        "contact": ref("KeptContact"),
        "households": array(complete({
            "id": INTEGER, "relationship": text(True), "since": when(),
            "address": complete({"line1": text(True), "line2": text(True),
                                 "town": text(True), "postcode": postcode,
                                 "district": text(True, description=TOP_UNIT)})})),
        "referrals": array(referral, description="Every referral naming the person, oldest "
                                                 "first"),
        "cases": array(case, description="The cases of those referrals and of the person's "
                                         "households"),
        "changes": array(ref("PersonChange")),
        "restrictions": array(complete({
            "set_at": when(), "reason": text(), "lifted_at": when(True),
            "lift_reason": text(True),
            "users": array(_user(optional=("name", "role")))})),
        "views": array(complete({
            "at": when(), "action": text(), "object_type": text(), "object_id": text(),
            "by": _user(True)}), description="Who read or changed these records, newest "
                                             "first (at most 5000)")})


def _retention(codes: Codes) -> dict[str, dict]:
    rules = ", ".join(codes.retention_rules) or "none"
    actions = sorted({a for _, allowed in RETENTION_KINDS.values() for a in allowed})
    outcome = complete({"done": {**INTEGER, "minimum": 0},
                        "no_longer_due": {**INTEGER, "minimum": 0}})
    review = complete({
        "id": INTEGER, "created_at": when(), "status": code(STATUSES),
        "rules": array(complete({
            "id": text(pattern=RULE_ID, description=f"The retention schedule's rule ({rules} "
                                                    "now; a review may name a rule since "
                                                    "removed, whose description and keep_years "
                                                    "are then null)"),
            "records": code(RETENTION_KINDS), "action": code(actions),
            "description": text(True), "keep_years": {**INTEGER, "nullable": True},
            "count": {**INTEGER, "minimum": 0},
            "ids": array(INTEGER, nullable=True, description="The families' household ids or "
                                                            "the referrals' ids; null for "
                                                            "audit rows (counted only)"),
            "result": {**outcome, "nullable": True,
                       "description": "Once confirmed: how many were done and how many "
                                      "were no longer due"}})),
        "confirmed_at": when(True), "confirmed_by": {**INTEGER, "nullable": True}})
    return {
        "RetentionReview": review,
        "RetentionReviews": complete({"reviews": array(ref("RetentionReview"))}),
        "RetentionReport": complete({"review": ref("RetentionReview")}),
        "NothingDue": complete({"review": {**review, "nullable": True,
                                           "description": "Always null: nothing is due"},
                                "message": text()}),
        "RetentionConfirmed": complete({
            "id": INTEGER, "status": code(["confirmed"]),
            "result": {"type": "object", "additionalProperties": outcome,
                       "description": "Rule id -> what was done"},
            "reason": text(), "review": ref("RetentionReview")}),
        "RetentionConflict": complete({"message": text(), "review_status": code(STATUSES)}),
    }


def refine_privacy(doc: dict, codes: Codes) -> None:
    """Add the privacy operations' answers, typed with the profile's codes, and type the
    corrections a rectification takes as the intake's person fields."""
    schemas = doc["components"]["schemas"]
    named = complete({"id": INTEGER, "name": text(), "active": {"type": "boolean"}})
    schemas.update({
        "SubjectAccessExport": _export(codes),
        "PersonChange": complete({
            "field": code(FIELDS), "old": text(True), "new": text(True), "reason": text(),
            "at": when(), "by": text(True)}, description="One correction: the old and new "
                                                         "value of one field"),
        "Rectification": complete({
            "changed": array(code(FIELDS), description="The fields this correction changed"),
            "changes": array(ref("PersonChange"), description="Every correction to the "
                                                              "person, newest first")}),
        "Restriction": complete({
            "id": INTEGER, "reason": text(), "set_at": when(), "set_by": INTEGER,
            "users": array(complete({"id": INTEGER, "name": text()}))}),
        "RestrictionList": complete({"restrictions": array(complete({
            "id": INTEGER, "person_id": INTEGER, "set_at": when(), "set_by": named,
            "users": array(named)}))}),
        "LiftedRestriction": complete({"id": INTEGER, "person_id": INTEGER,
                                       "lifted_at": when()}),
        **_retention(codes),
    })
    _links_from_the_family_record(doc["paths"])
    person = schemas["Person"]["properties"]
    changes = {k: copy.deepcopy(v) for k, v in person.items()
               if k not in ("ref", "role", "relationship")}
    for key in ("given_name", "family_name"):
        changes[key] = text(maxLength=100, pattern=r"\S", description="Cannot be removed")
    schemas["RectificationIn"]["properties"]["changes"] = {
        "type": "object", "properties": changes, "additionalProperties": False,
        "minProperties": 1,
        "description": "The fields to correct, as in a referral body's person; each is "
                       "checked by the intake's rules"}


def _links_from_the_family_record(paths: dict) -> None:
    """A stateful test follows a found person to their export and correction."""
    for path, where in (("/api/v1/people", "$response.body#/results/0/person/id"),
                        ("/api/v1/people/{person_id}", "$response.body#/id")):
        answer = paths.get(path, {}).get("get", {}).get("responses", {}).get("200")
        if answer is None:
            continue
        links = answer.setdefault("links", {})
        for name, operation in (("Export", "exportPerson"), ("Rectify", "rectifyPerson")):
            links[f"{name}Person"] = {"operationId": operation,
                                      "parameters": {"person_id": where}}
