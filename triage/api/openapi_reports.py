"""The OpenAPI paths for reports (contract 5.5) and the shapes they answer."""

from __future__ import annotations

from apispec import APISpec

from triage.api.openapi_shapes import (
    array,
    code,
    complete,
    query,
    ref,
    responses,
    text,
    when,
)
from triage.schemas.reports import FORMATS
from triage.services.reports.catalogue import PERIODS, catalogue_for

CELL = {"oneOf": [{"type": "number", "nullable": True}, {"type": "string"}],
        "description": "A dimension's code or a measure's value (null: no figure, or hidden "
                       "below the threshold when suppress=true)"}


def report_paths(spec: APISpec, rt, secured: list) -> None:
    reports = catalogue_for(rt).reports
    dimensions = sorted({d for r in reports.values() for d in r.dimensions})
    spec.path("/api/v1/reports", operations={"get": {
        "operationId": "listReports",
        "summary": "The reports there are (managers and admins)",
        "security": secured,
        "responses": responses("200", "ReportList", "401", "403")}})
    csv = {"text/csv": {"schema": {"type": "string", "description":
                                   "A heading, one line per row, then a total line. With "
                                   "suppress=true a count below the profile's threshold reads "
                                   "\"fewer than 5\". Cells a spreadsheet would run as a "
                                   "formula are prefixed with a single quote."}}}
    shown = responses("200", "Report", "401", "403", "404", "422",
                      e404="No report with that id")
    shown["200"]["content"].update(csv)
    spec.path("/api/v1/reports/{report_id}", operations={"get": {
        "operationId": "getReport",
        "summary": "A report's figures over whole months, grouped by month, quarter or year "
                   "(and at most one dimension) or by a dimension (managers and admins; each "
                   "look is audited)",
        "description": "Figures are read from tallies the periodic sweep recounts; "
                       "`refreshed_at` says when. A caseload report is as at that count and "
                       "is grouped by a dimension only. Every parameter is optional: the "
                       "last twelve months by month by default.",
        "security": secured,
        "parameters": [
            {"in": "path", "name": "report_id", "required": True,
             "schema": code(sorted(reports)), "description": "As GET /api/v1/reports lists"},
            query("from", text(format="date"), "From the month of this day (inclusive)"),
            query("to", text(format="date"), "To the end of the month of this day"),
            query("by", code([*PERIODS, *dimensions]),
                  "month, quarter, year, or one of the report's dimensions"),
            query("dimension", code(dimensions),
                  "With a period in `by`: one of the report's dimensions as well"),
            query("suppress", {"type": "boolean", "default": False},
                  "Hide counts below the profile's threshold (for sharing)"),
            query("format", code(FORMATS), "csv: the same rows as CSV")],
        "responses": shown}})


def report_shapes() -> dict[str, dict]:
    measure = complete({"id": text(), "label": text(),
                        "kind": code(["count", "share", "median", "capacity"])})
    values = {"type": "object", "additionalProperties": CELL}
    return {
        "ReportList": complete({"reports": array(complete({
            "id": text(), "title": text(), "description": text()}))}),
        "ReportMeasure": measure,
        "Report": complete({
            "id": text(), "title": text(), "description": text(),
            "from": text(format="date"), "to": text(format="date"), "by": text(),
            "dimension": text(True), "snapshot": {"type": "boolean"},
            "measures": array(ref("ReportMeasure")), "rows": array(values),
            "total": values,
            "labels": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": text()}},
            "suppressed": {"type": "boolean"}, "suppress_below": {"type": "integer"},
            "refreshed_at": when(True)}),
    }
