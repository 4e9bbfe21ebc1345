"""Time of every report with 1,000,000 referrals on PostgreSQL (target: each < 1 s), and of the
recount that keeps their tallies (the periodic sweep's job).

Loading is bench/pages.py's: a throwaway database, TEMPLATES referrals made through the real
services, then cloned with COPY to --referrals over five years, in the `closed` shape (as in
a real council: older cases closed) or `open` (every case open). Or --url: a database already
loaded (`bench/pages.py --postgres --keep`), migrated to this checkout's head first.

Then: one recount (timed, with the number of tallies it wrote), and each report requested
through the whole Flask stack as a manager would, over the API (JSON and CSV) and as the web
page with its chart, in several groupings: median and p95 over --repeat requests each. The
slowest statement of a report is shown with EXPLAIN ANALYZE (--explain).

    .venv/bin/python bench/reports.py --postgres [--shape closed|open] [--referrals 1000000]
    .venv/bin/python bench/reports.py --url postgresql+psycopg://postgres@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

TARGET_MS = 1000.0
GROUPINGS = [
    ("last 12 months by month", {}),
    ("five years by quarter", {"from": "{five_years_ago}", "by": "quarter"}),
    ("last 12 months by month and district", {"dimension": "district"}),
    ("five years by year and service", {"from": "{five_years_ago}", "by": "year",
                                        "dimension": "service"}),
    ("last 12 months by the first dimension", {"by": "{first_dimension}"}),
]


def _timed(call, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def measure(app, rt, where: str, repeat: int, explain: bool) -> None:
    from bench.common import demo_email
    from bench.pages import signed_in
    from triage.models import Case, Referral, ReportTally
    from triage.services.accounts import users
    from triage.services.reports.catalogue import PERIODS, catalogue_for
    from triage.services.reports.refresh import refresh

    with rt.db.reader() as session:
        total = session.execute(select(func.count()).select_from(Referral)).scalar_one()
        cases = session.execute(select(func.count()).select_from(Case)).scalar_one()
    print(f"\n{total} referrals, {cases} cases in {where}")
    started = time.perf_counter()
    result = refresh(rt)
    print(f"recount (the hourly sweep): {time.perf_counter() - started:.1f} s, "
          f"{result.tallies} tallies written", flush=True)
    with rt.db.reader() as session:
        rows = session.execute(select(func.count()).select_from(ReportTally)).scalar_one()
    print(f"report_tally rows: {rows}")
    token = users.create_token(rt.db, email=demo_email("manager"))
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    web = signed_in(app, demo_email("manager"))
    today = rt.pathways.calendar.local_date(result.refreshed_at)
    five_years_ago = today.replace(year=today.year - 5).isoformat()
    print(f"{'report':22} {'grouping':40} {'api ms':>8} {'p95':>7} {'csv ms':>8} "
          f"{'page ms':>8} {'p95':>7}  < {TARGET_MS:.0f} ms")
    worst = 0.0
    for report in catalogue_for(rt).reports.values():
        groupings = ([("by the first dimension", {"by": report.dimensions[0]}),
                      ("by worker", {"by": "worker"})] if report.snapshot else GROUPINGS)
        for name, params in groupings:
            query = {k: v.format(five_years_ago=five_years_ago,
                                 first_dimension=report.dimensions[0])
                     for k, v in params.items()}
            if query.get("dimension") and query["dimension"] not in report.dimensions:
                continue
            if query.get("by") not in (None, *PERIODS, *report.dimensions):
                continue
            path = f"/api/v1/reports/{report.id}"

            def call_api(path=path, query=query, extra=None):
                response = api.get(path, headers=headers, query_string={**query, **(extra or {})})
                assert response.status_code == 200, response.get_data(as_text=True)[:300]

            def call_page(report_id=report.id, query=query):
                response = web.get(f"/reports/{report_id}", query_string=query)
                assert response.status_code == 200, response.status_code

            call_page()  # the chart renderer's first start is not what is measured
            median, p95 = _timed(call_api, repeat)
            csv_median, _ = _timed(lambda: call_api(extra={"format": "csv"}), repeat)
            page_median, page_p95 = _timed(call_page, repeat)
            worst = max(worst, p95, page_p95)
            met = max(p95, page_p95) < TARGET_MS
            print(f"{report.id:22} {name:40} {median:8.1f} {p95:7.1f} {csv_median:8.1f} "
                  f"{page_median:8.1f} {page_p95:7.1f}  {'yes' if met else 'NO'}", flush=True)
    print(f"\nworst p95 of any report (API or page): {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")
    if explain:
        with rt.db.engine.connect() as conn:
            plan = conn.execute(text(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT fact, month, member, bucket, n "
                "FROM report_tally WHERE dimension = 'district' AND fact IN ('received', "
                "'advice_only') AND month >= :a AND month <= :b"),
                {"a": five_years_ago, "b": today.isoformat()}).scalars().all()
        print("\nEXPLAIN ANALYZE of a report's read (five years, by district):")
        print("\n".join(plan))
    rt.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--postgres", action="store_true",
                        help="a throwaway PostgreSQL database, bulk loaded, dropped afterwards")
    parser.add_argument("--shape", choices=("closed", "open"), default="closed")
    parser.add_argument("--url", help="measure this already loaded PostgreSQL database")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE a read")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    if args.url:
        from bench.common import migrated_app

        app = migrated_app(args.url)
        measure(app, app.extensions["triage"], f"PostgreSQL at {args.url}", args.repeat,
                args.explain)
    elif args.postgres:
        from bench.common import throwaway_postgres
        from bench.pages import build_postgres

        with throwaway_postgres() as url:
            app, rt = build_postgres(url, args.referrals, args.shape)
            measure(app, rt, f"PostgreSQL, {args.shape} shape", args.repeat, args.explain)
    else:
        parser.error("give --postgres (a throwaway database, loaded) or --url")


if __name__ == "__main__":
    main()
