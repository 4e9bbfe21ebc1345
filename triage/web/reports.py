"""Report pages for managers and admins: the list with when the figures were last counted (and
counting again now), and one report: a form for period, grouping and dimension, a chart
(server-rendered SVG, no JavaScript), the same numbers as a table, and CSV downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from triage.api.audit import csv_download
from triage.errors import ValidationFailed
from triage.policy import VIEW_REPORTS
from triage.services.reports import figures, refresh
from triage.services.reports.catalogue import PERIODS, catalogue_for, dimension_titles
from triage.services.reports.chart import chart_svg
from triage.web.security import current_user, require_role, runtime

bp = Blueprint("reports", __name__)

FORM_FIELDS = ("from", "to", "by", "dimension")
PERIOD_TITLES = {"month": "Month", "quarter": "Quarter", "year": "Year"}


@bp.get("/reports")
@require_role(VIEW_REPORTS)
def index():
    rt = runtime()
    return render_template("reports/index.html",
                           reports=figures.list_reports(rt, user=current_user()),
                           last=refresh.last_refresh(rt),
                           counted=request.args.get("counted") == "1")


@bp.post("/reports/refresh")
@require_role(VIEW_REPORTS)
def recount():
    refresh.refresh_now(runtime(), user=current_user())
    return redirect(url_for("reports.index", counted="1"), code=303)


def _cell(row: dict[str, Any], hidden: set[str], measure, threshold: int) -> str:
    if measure.id in hidden:
        return f"fewer than {threshold}"
    value = row.get(measure.id)
    if value is None:
        return "–"
    if measure.kind == "share":
        return f"{value:.0%}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


@bp.get("/reports/<report_id>")
@require_role(VIEW_REPORTS)
def show(report_id: str):
    rt, user = runtime(), current_user()
    report = figures.find_report(rt, report_id)
    args = {k: v for k, v in request.args.items() if k in (*FORM_FIELDS, "format", "suppress")}
    errors: dict[str, str] = {}
    found = svg = None
    try:
        found = figures.figures(rt, user=user, report_id=report.id, args=args)
        if args.get("format") == "csv":
            return csv_download(found.csv_rows(), figures.csv_name(found))
        svg = chart_svg(found)
    except ValidationFailed as exc:
        errors = {k: " ".join(v) for k, v in exc.errors.items()}
    chosen = {k: v for k, v in args.items() if k in FORM_FIELDS and v.strip()}
    if found is not None:
        chosen.setdefault("by", found.by)
    titles = dimension_titles(runtime().profile)
    by_items = ([] if report.snapshot else
                [{"value": p, "text": PERIOD_TITLES[p]} for p in PERIODS]) + [
        {"value": d, "text": titles.get(d, d)} for d in report.dimensions]
    dimension_items = [{"value": "", "text": "None"}] + [
        {"value": d, "text": titles.get(d, d)} for d in report.dimensions]
    table = None
    if found is not None:
        keys = found.group_keys
        measures = report.measures
        table = {
            "head": [{"text": titles.get(k, PERIOD_TITLES.get(k, k))} for k in keys]
            + [{"text": m.label, "format": "numeric"} for m in measures],
            "rows": [[{"text": found.labels.get(k, {}).get(row[k], row[k])} for k in keys]
                     + [{"text": _cell(row, hidden, m, found.threshold), "format": "numeric"}
                        for m in measures]
                     for row, hidden in zip(found.rows, found.hidden, strict=True)],
            "total": [{"text": "Total"}] + [{"text": ""}] * (len(keys) - 1)
            + [{"text": _cell(found.total, found.total_hidden, m, found.threshold),
                "format": "numeric"} for m in measures],
        }
    csv_args = {k: v for k, v in chosen.items()}
    return render_template(
        "reports/show.html", report=report, found=found, svg=svg, table=table, errors=errors,
        chosen=chosen, by_items=by_items, dimension_items=dimension_items, csv_args=csv_args,
        threshold=catalogue_for(rt).settings.suppress_below,
        last=refresh.last_refresh(rt)), (422 if errors else 200)
