"""The OpenAPI paths for merging two records (and undoing it) and the "check who this is"
worklist, with the typed shapes they answer."""

from __future__ import annotations

from apispec import APISpec

from config.matching import FIELD_LEVELS
from triage.api.openapi_shapes import (
    BANDS,
    SECURED,
    Codes,
    array,
    code,
    complete,
    json_body,
    obj,
    path_id,
    query,
    ref,
    responses,
    text,
    when,
)
from triage.models.base import MAX_ID
from triage.schemas.merge import MatchReviewInSchema, MergeInSchema
from triage.services.people.merge import KINDS
from triage.services.people.review_queue import STATUSES

INTEGER = {"type": "integer"}
SOURCES = ("intake", "duplicate_finder")
OUTWARD_CODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]?$"


def _conflict(description: str, schema: str) -> dict:
    return {"409": {"description": description,
                    "content": {"application/json": {"schema": ref(schema)}}}}


def merge_paths(spec: APISpec) -> None:
    """The operations; their answers' shapes come from merge_shapes."""
    spec.components.schema("MergeIn", schema=MergeInSchema)
    spec.components.schema("MatchReviewIn", schema=MatchReviewInSchema)
    to_merge = {"GetMerge": {"operationId": "getMerge",
                             "parameters": {"merge_id": "$response.body#/id"}},
                "UndoMerge": {"operationId": "undoMerge",
                              "parameters": {"merge_id": "$response.body#/id"}}}
    for kind, plural, name in (("person", "people", "Person"),
                               ("household", "households", "Household")):
        spec.path(f"/api/v1/{plural}/{{{kind}_id}}/merge", operations={"post": {
            "operationId": f"merge{name}",
            "summary": f"Merge this {kind} record into another (`into`, the record that stays), "
                       "with a reason: every row referring to it moves to the survivor; it "
                       "leaves search and candidates (front door, managers, admins; both "
                       "records must be visible to you)",
            "security": SECURED,
            "parameters": [path_id(f"{kind}_id", f"The {kind} record merged away")],
            "requestBody": json_body("MergeIn"),
            "responses": {**responses("201", "Merge", "401", "403", "404", "413", "422",
                                      links=to_merge),
                          **_conflict(f"The {kind} record was already merged", "MergeConflict")}}})
    merge_id = path_id("merge_id", "A merge's id, as a merge answers it")
    spec.path("/api/v1/merges/{merge_id}", operations={"get": {
        "operationId": "getMerge",
        "summary": "A merge: which record went into which, who, when, why, how many rows it "
                   "moved or removed, and its undo (audited)",
        "security": SECURED, "parameters": [merge_id],
        "responses": responses("200", "Merge", "401", "403", "404")}})
    spec.path("/api/v1/merges/{merge_id}/undo", operations={"post": {
        "operationId": "undoMerge",
        "summary": "Undo a merge with a reason: both records exactly as they were before it, "
                   "or a 409 saying what has changed since that makes it impossible",
        "security": SECURED, "parameters": [merge_id], "requestBody": json_body("ReasonIn"),
        "responses": {**responses("200", "Merge", "401", "403", "404", "413", "422"),
                      **_conflict("Already undone, or changed since in a way an undo would "
                                  "overwrite (each problem named)", "MergeConflict")}}})
    spec.path("/api/v1/match-reviews", operations={"get": {
        "operationId": "listMatchReviews",
        "summary": "The check-who-this-is worklist: pairs of person records that may be one "
                   "person, oldest first (front door, managers, admins; pairs naming someone "
                   "restricted from you are left out; audited)",
        "security": SECURED,
        "parameters": [
            query("status", code(STATUSES), "Pairs in this status (default open)"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                  "Page size"),
            query("after", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                  "The next_after of the previous page")],
        "responses": responses("200", "MatchReviewList", "401", "403", "422", links={
            "AnswerFirst": {"operationId": "answerMatchReview", "parameters": {
                "review_id": "$response.body#/reviews/0/id"}}})}})
    spec.path("/api/v1/match-reviews/{review_id}", operations={"post": {
        "operationId": "answerMatchReview",
        "summary": "Answer a pair: same (the newer record is merged into the known one, the "
                   "referral's household joins the known family and the referral is decided "
                   "again if it is still at the front door) or not_same (kept apart for good)",
        "security": SECURED,
        "parameters": [path_id("review_id", "As the worklist lists it")],
        "requestBody": json_body("MatchReviewIn"),
        "responses": {**responses("200", "MatchReviewAnswer", "401", "403", "404", "413",
                                  "422"),
                      **_conflict("Already answered, or one of the pair merged since",
                                  "MergeConflict")}}})


def merge_shapes(codes: Codes) -> dict[str, dict]:
    who = complete({"id": INTEGER, "name": text(True)})
    tally = {"type": "object", "additionalProperties": {**INTEGER, "minimum": 1},
             "description": "Table -> how many of its rows"}
    merge = complete({
        "id": INTEGER, "kind": code(KINDS), "merged_id": INTEGER, "survivor_id": INTEGER,
        "reason": text(), "note": text(True, description="What else the merge did (a "
                                                         "referral decided again)"),
        "merged_at": when(), "merged_by": {**who, "nullable": True},
        "undone_at": when(True), "undone_by": {**who, "nullable": True},
        "undo_reason": text(True), "changed": tally, "removed": tally})
    person = complete({
        "id": INTEGER, "given_name": text(True), "family_name": text(True),
        "date_of_birth": text(format="date"),
        "postcode_district": text(True, pattern=OUTWARD_CODE,
                                  description="The outward code of their newest household"),
        "household_ids": array(INTEGER),
        "open_cases": array(complete({"id": INTEGER, "service": code(codes.services),
                                      "state": code(codes.states)}))})
    review = complete({
        "id": INTEGER, "status": code(STATUSES), "source": code(SOURCES),
        "band": code(BANDS), "score": {"type": "number"}, "reasons": array(text()),
        "comparisons": array(obj({"field": code(FIELD_LEVELS, True),
                                  "level": code(sorted({lv for levels in FIELD_LEVELS.values()
                                                        for lv in levels}), True),
                                  "weight": {"type": "number", "nullable": True},
                                  "reason": text(True)})),
        "referral": text(True, description="The reference of the referral that brought the "
                                           "newer record"),
        "created_at": when(), "decided_at": when(True),
        "people": array(person, minItems=2, maxItems=2)})
    return {
        "Merge": merge,
        "MatchReview": review,
        "MatchReviewList": complete({"reviews": array(ref("MatchReview")),
                                     "limit": INTEGER,
                                     "next_after": {**INTEGER, "nullable": True}}),
        "MatchReviewAnswer": complete({"review": ref("MatchReview"),
                                       "merges": array(ref("Merge")),
                                       "redecided": text(True)}),
        "MergeConflict": obj({"message": text(), "problems": array(text()),
                            "status": code(STATUSES)}, required=["message"]),
    }


__all__ = ["merge_paths", "merge_shapes"]
