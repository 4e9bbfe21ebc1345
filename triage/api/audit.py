"""The audit trail for managers and admins: who viewed or changed which record, when and from
which page; JSON a page at a time, or every matching event as CSV."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from triage.api.auth import current_user, runtime
from triage.csv_export import csv_text
from triage.services import audit_trail

bp = Blueprint("audit_api", __name__)


def wants_csv() -> bool:
    """?format=csv, or an Accept header that prefers CSV to JSON."""
    if request.args.get("format") == "csv":
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv" and "format" not in request.args


def csv_download(rows, name: str) -> Response:
    return Response(csv_text(rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/audit")
def list_audit_events():
    args = request.args.to_dict()
    if wants_csv():
        rows = audit_trail.csv_rows(runtime(), user=current_user(), args=args)
        return csv_download(rows, "audit.csv")
    return jsonify(audit_trail.events(runtime(), user=current_user(), args=args))
