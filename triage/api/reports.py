"""Reports for managers and admins (contract 5.5): the list, and one report's figures for a
period and grouping as JSON, or as CSV (`?format=csv` or `Accept: text/csv`)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from triage.api.audit import csv_download, wants_csv
from triage.api.auth import current_user, runtime
from triage.services.reports import figures

bp = Blueprint("reports_api", __name__)


@bp.get("/reports")
def list_reports():
    return jsonify({"reports": figures.list_reports(runtime(), user=current_user())})


@bp.get("/reports/<report_id>")
def show_report(report_id: str):
    args = request.args.to_dict()
    if wants_csv():
        args["format"] = "csv"
    found = figures.figures(runtime(), user=current_user(), report_id=report_id, args=args)
    if args.get("format") == "csv":
        return csv_download(found.csv_rows(), figures.csv_name(found))
    return jsonify(found.as_dict())
