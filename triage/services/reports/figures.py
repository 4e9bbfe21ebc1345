"""A report's figures: the tallies of its facts for a run of months, grouped by month, quarter
or year and at most one dimension, with totals for the whole period; counts below the
profile's threshold hidden when asked (files meant for sharing). Managers and admins only;
each look is audited as an aggregate (the report, period and grouping; no personal data)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select

from triage.errors import NotFound, ValidationFailed, flatten_errors
from triage.models import ReportRefresh, ReportTally, User
from triage.models.base import utcnow
from triage.policy import VIEW_REPORTS, require
from triage.runtime import Runtime
from triage.schemas.reports import ReportQuerySchema
from triage.services import audit
from triage.services.reports.catalogue import (
    ALL,
    DIMENSION_TITLES,
    PERIODS,
    Catalogue,
    Report,
    catalogue_for,
    dimension_titles,
    month_of,
)
from workflows.calendar import add_months

DEFAULT_MONTHS = 12
MAX_MONTHS = 120
T = ReportTally.__table__.c


@dataclass
class Figures:
    report: Report
    date_from: date
    date_to: date
    by: str
    dimension: str | None
    rows: list[dict[str, Any]]
    total: dict[str, Any]
    labels: dict[str, dict[str, str]]
    suppressed: bool
    suppress: bool
    threshold: int
    refreshed_at: Any
    hidden: list[set[str]] = field(default_factory=list)  # per row: measures shown "fewer than"
    total_hidden: set[str] = field(default_factory=set)
    titles: dict[str, str] = field(default_factory=lambda: dict(DIMENSION_TITLES))

    @property
    def group_keys(self) -> list[str]:
        return [k for k in (self.by, self.dimension) if k]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.report.id, "title": self.report.title,
                "description": self.report.description,
                "from": self.date_from.isoformat(), "to": self.date_to.isoformat(),
                "by": self.by, "dimension": self.dimension,
                "snapshot": self.report.snapshot,
                "measures": [{"id": m.id, "label": m.label, "kind": m.kind}
                             for m in self.report.measures],
                "rows": self.rows, "total": self.total, "labels": self.labels,
                "suppressed": self.suppressed, "suppress_below": self.threshold,
                "refreshed_at": self.refreshed_at.isoformat() if self.refreshed_at else None}

    def csv_rows(self) -> list[list[Any]]:
        """Heading then rows then a total row; a hidden count reads "fewer than N"."""
        keys = self.group_keys
        heading = [*(self.titles.get(k, k.capitalize()) for k in keys),
                   *(m.label for m in self.report.measures)]
        out: list[list[Any]] = [heading]
        hidden_text = f"fewer than {self.threshold}"
        for row, hidden in zip(self.rows, self.hidden, strict=True):
            out.append([*(self.labels.get(k, {}).get(row[k], row[k]) for k in keys),
                        *(hidden_text if m.id in hidden else row[m.id]
                          for m in self.report.measures)])
        out.append(["Total", *[""] * (len(keys) - 1),
                    *(hidden_text if m.id in self.total_hidden else self.total[m.id]
                      for m in self.report.measures)])
        return out


def list_reports(rt: Runtime, *, user: User) -> list[dict[str, str]]:
    require(user, VIEW_REPORTS, "see reports")
    return [{"id": r.id, "title": r.title, "description": r.description}
            for r in catalogue_for(rt).reports.values()]


def find_report(rt: Runtime, report_id: str) -> Report:
    report = catalogue_for(rt).reports.get(report_id)
    if report is None:
        raise NotFound(f"There is no report {report_id!r}; GET /api/v1/reports lists them.")
    return report


def parse_query(rt: Runtime, report: Report, args: dict[str, Any]) -> dict[str, Any]:
    """The period (whole months), grouping and dimension, each problem named by its field."""
    errors: dict[str, list[str]] = {}
    try:
        query = ReportQuerySchema().load(args)
    except ValidationError as exc:
        # Go on with what was valid, so that every bad parameter is named at once.
        errors.update(flatten_errors(exc.messages))
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        query = {"date_from": None, "date_to": None, "by": None, "dimension": None,
                 "suppress": False, "format": "json", **valid}
    allowed = ", ".join(report.dimensions)
    by = query["by"] or (report.dimensions[0] if report.snapshot else "month")
    if "by" not in errors:  # a by the schema refused is named already
        if report.snapshot and by in PERIODS:
            errors["by"] = [f"The {report.id} report is counted as at the last count, not "
                            f"over a period: group it by one of {allowed}."]
        elif by not in PERIODS and by not in report.dimensions:
            errors["by"] = [f"Group the {report.id} report by month, quarter, year or one of "
                            f"{allowed}."]
    dimension = query["dimension"]
    if dimension is not None and "dimension" not in errors:
        if by not in PERIODS:
            errors["dimension"] = ["Give a dimension only with by=month, quarter or year (by "
                                   "is already a dimension)."]
        elif dimension not in report.dimensions:
            errors["dimension"] = [f"The {report.id} report's dimensions are {allowed}."]
    today = rt.pathways.calendar.local_date(utcnow())
    date_to = query["date_to"] or today
    date_from = query["date_from"] or add_months(month_of(date_to), 1 - DEFAULT_MONTHS)
    first, last = month_of(date_from), month_of(date_to)
    if "from" not in errors and "to" not in errors:  # dates the schema refused are named
        if date_from > date_to:
            errors["to"] = ["Must be on or after from."]
        elif (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
            errors["to"] = [f"A report covers at most {MAX_MONTHS // 12} years: bring to "
                            "nearer to from."]
    if errors:
        raise ValidationFailed(errors)
    end = add_months(last, 1) - timedelta(days=1)
    return {**query, "by": by, "first": first, "last": last, "end": end}


def _months(first: date, last: date) -> list[date]:
    out, month = [], first
    while month <= last:
        out.append(month)
        month = add_months(month, 1)
    return out


def period_key(by: str, month: date) -> str:
    if by == "year":
        return f"{month.year}"
    if by == "quarter":
        return f"{month.year}-Q{(month.month - 1) // 3 + 1}"
    return f"{month.year}-{month.month:02d}"


class _Cell:
    """The tallies of one row: sums per fact and bucket counts for medians."""

    def __init__(self) -> None:
        self.sums: dict[str, int] = defaultdict(int)
        self.buckets: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, fact: str, bucket: int, n: int) -> None:
        self.sums[fact] += n
        self.buckets[fact][bucket] += n


def _median(buckets: dict[int, int]) -> float | int | None:
    total = sum(buckets.values())
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    values, seen = [], 0
    for value in sorted(buckets):
        count = buckets[value]
        for w in wanted:
            if seen <= w < seen + count:
                values.append(value)
        seen += count
    middle = (values[0] + values[-1]) / 2
    return int(middle) if middle == int(middle) else middle


def _values(cat: Catalogue, report: Report, cell: _Cell, dimension: str | None,
            member: str | None, suppress: bool, threshold: int
            ) -> tuple[dict[str, Any], set[str]]:
    values: dict[str, Any] = {}
    hidden: set[str] = set()

    def small(n: int) -> bool:
        return suppress and 0 < n < threshold

    for m in report.measures:
        if m.kind == "count":
            n = cell.sums.get(m.fact, 0)
            values[m.id] = None if small(n) else n
            if small(n):
                hidden.add(m.id)
        elif m.kind == "share":
            base = cell.sums.get(m.of or "", 0)
            part = cell.sums.get(m.fact, 0)
            values[m.id] = round(part / base, 4) if base else None
            if small(base) or small(part):
                values[m.id] = None
                hidden.add(m.id)
        elif m.kind == "median":
            buckets = cell.buckets.get(m.fact, {})
            values[m.id] = _median(buckets)
            if small(sum(buckets.values())):
                values[m.id] = None
                hidden.add(m.id)
        else:  # capacity
            values[m.id] = cat.capacity(dimension, member) if dimension and member else None
    return values, hidden


def _tallies(session, report: Report, dimension: str, first: date, last: date):
    stmt = (select(T.fact, T.month, T.member, T.bucket, T.n)
            .where(T.dimension == dimension, T.fact.in_(report.facts)))
    if not report.snapshot:
        stmt = stmt.where(T.month >= first, T.month <= last)
    return session.execute(stmt).all()


def _worker_names(session, ids: set[str]) -> dict[str, str]:
    numbers = [int(i) for i in ids if i.isdigit()]
    if not numbers:
        return {}
    return {str(u.id): u.name or u.email
            for u in session.execute(select(User).where(User.id.in_(numbers))).scalars()}


def figures(rt: Runtime, *, user: User, report_id: str, args: dict[str, Any]) -> Figures:
    """The report's figures for the query, the look audited in the same transaction."""
    require(user, VIEW_REPORTS, "see reports")
    cat = catalogue_for(rt)
    report = find_report(rt, report_id)
    q = parse_query(rt, report, args)
    by, dimension, suppress = q["by"], q["dimension"], q["suppress"]
    threshold = cat.settings.suppress_below
    grouped_by = dimension if by in PERIODS else by
    with rt.db.unit_of_work() as session:
        rows = _tallies(session, report, grouped_by or ALL, q["first"], q["last"])
        total_rows = _tallies(session, report, ALL, q["first"], q["last"])
        refreshed = session.execute(select(ReportRefresh.refreshed_at).order_by(
            ReportRefresh.refreshed_at.desc()).limit(1)).scalar()
        members = {r.member for r in rows}
        workers = _worker_names(session, members) if grouped_by == "worker" else {}
        audit.record(session, actor=user, action="report.view", object_type="report",
                     object_id=report.id, by=by, dimension=dimension,
                     period=None if report.snapshot else
                     [q["first"].isoformat(), q["end"].isoformat()],
                     format=q["format"], suppress=suppress)
    cells: dict[tuple[str, ...], _Cell] = defaultdict(_Cell)
    for r in rows:
        if report.snapshot:
            key: tuple[str, ...] = (r.member,)
        elif dimension:
            key = (period_key(by, r.month), r.member)
        elif by in PERIODS:
            key = (period_key(by, r.month),)
        else:
            key = (r.member,)
        cells[key].add(r.fact, r.bucket, r.n)
    if by in PERIODS:
        periods = list(dict.fromkeys(period_key(by, m) for m in _months(q["first"], q["last"])))
        if not dimension:
            for p in periods:
                cells.setdefault((p,), _Cell())
        order = {p: i for i, p in enumerate(periods)}
        keys = sorted(cells, key=lambda k: (order.get(k[0], 0), *k[1:]))
    else:
        keys = sorted(cells, key=lambda k: (-cells[k].sums.get(report.measures[0].fact, 0), k))
    names = [k for k in (by, dimension) if k]
    out_rows, hidden_rows = [], []
    member_dim = dimension or (by if by not in PERIODS else None)
    for key in keys:
        member = key[-1] if member_dim else None
        values, hidden = _values(cat, report, cells[key], member_dim, member, suppress,
                                 threshold)
        out_rows.append({**dict(zip(names, key, strict=True)), **values})
        hidden_rows.append(hidden)
    total_cell = _Cell()
    for r in total_rows:
        total_cell.add(r.fact, r.bucket, r.n)
    total, total_hidden = _values(cat, report, total_cell, None, None, suppress, threshold)
    labels: dict[str, dict[str, str]] = {}
    if member_dim:
        labels[member_dim] = {k[-1]: cat.member_name(member_dim, k[-1], workers) for k in keys}
    return Figures(report=report, date_from=q["first"], date_to=q["end"], by=by,
                   dimension=dimension, rows=out_rows, total=total, labels=labels,
                   suppressed=any(hidden_rows) or bool(total_hidden), suppress=suppress,
                   threshold=threshold, refreshed_at=refreshed, hidden=hidden_rows,
                   total_hidden=total_hidden, titles=dimension_titles(cat.profile))


def csv_name(found: Figures) -> str:
    """report-from-to-by[-dimension][-shared].csv: what it is, from its name alone."""
    parts = [found.report.id, found.date_from.isoformat(), found.date_to.isoformat(),
             *found.group_keys, *(["shared"] if found.suppress else [])]
    return "-".join(parts) + ".csv"
