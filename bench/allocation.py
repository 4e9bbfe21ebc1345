"""Caseload allocation's count at 1,000,000 cases on PostgreSQL: the open cases of one unit's
teams (a footprint of 6 planning areas), one grouped query, as intake runs it for every new
case of a balanced service; and the capacity page's count of every team.

    .venv/bin/python bench/allocation.py [--cases 1000000] [--repeat 200]

Prints the median and 95th percentile in milliseconds, the plan PostgreSQL chose, and the
ratio of the unit's count to the whole capacity page's. A throwaway database is created and
dropped (bench/common.py)."""

from __future__ import annotations

import argparse
import statistics
import time

from common import migrated_app, throwaway_postgres
from sqlalchemy import text

SERVICE = "local_area_coordination"
INSTANCES = [f"pa-{i:02d}" for i in range(34)]  # Lancashire's 34 planning areas
FOOTPRINT = INSTANCES[6:12]  # one footprint: 6 of them
OTHER = ["first_contact_plus", "early_help_hub", "signposting"]


def _fill(rt, cases: int) -> None:
    """One referral and `cases` cases: 40% of the balanced service over 34 instances, the rest
    of others; 8% open."""
    from triage.models import Referral
    from triage.models.base import utcnow
    from triage.statements import new_row

    with rt.db.unit_of_work() as session:
        referral = new_row(session, Referral, reference="EH-2026-000001", status="routed",
                           received_at=utcnow(), profile_id="bench", checklist_id="bench",
                           checklist_version="1", channel="staff", postcode="LE13 0AB",
                           consent="given", answers={}, raw_body={})
        rid = referral.id
    services = "ARRAY[" + ",".join(f"'{s}'" for s in OTHER) + "]"
    instances = "ARRAY[" + ",".join(f"'{i}'" for i in INSTANCES) + "]"
    with rt.db.unit_of_work() as session:
        session.execute(text(f"""
            INSERT INTO case_record (referral_id, service, instance, state, opened_at,
                                     closed_at, version)
            SELECT {rid},
                   CASE WHEN n % 10 < 4 THEN '{SERVICE}' ELSE ({services})[1 + n % 3] END,
                   CASE WHEN n % 10 < 4 THEN ({instances})[1 + (n / 10) % 34]
                        ELSE 'countywide' END,
                   'open', now() - (n % 700) * interval '1 day',
                   CASE WHEN n % 25 < 2 THEN NULL
                        ELSE now() - (n % 300) * interval '1 day' END, 1
            FROM generate_series(1, {cases}) AS n"""))
    with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE case_record"))


def _time(run, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    from triage.services.referrals.allocation import open_counts

    with throwaway_postgres() as url:
        app = migrated_app(url)
        rt = app.extensions["triage"]
        started = time.perf_counter()
        _fill(rt, args.cases)
        print(f"filled {args.cases:,} cases in {time.perf_counter() - started:.1f} s")
        with rt.db.reader() as session:
            counts = open_counts(session, SERVICE, FOOTPRINT)
            print(f"open cases of the footprint's teams: {counts}")

            def unit():
                open_counts(session, SERVICE, FOOTPRINT)

            def page():  # as the capacity page counts: per service, its instances named
                open_counts(session, SERVICE, INSTANCES)
                for service in OTHER:
                    open_counts(session, service, ["countywide"])

            unit_ms = _time(unit, args.repeat)
            page_ms = _time(page, args.repeat)
            plan = session.execute(text(
                "EXPLAIN SELECT instance, count(*) FROM case_record WHERE service = :s "
                "AND instance IN ('pa-06','pa-07','pa-08','pa-09','pa-10','pa-11') "
                "AND closed_at IS NULL GROUP BY instance"), {"s": SERVICE}).scalars().all()
        rt.db.dispose()
    print(f"allocation count (one unit, 6 teams): median {unit_ms[0]:.2f} ms, "
          f"p95 {unit_ms[1]:.2f} ms")
    print(f"capacity page count (every team, 37 in 4 services): median {page_ms[0]:.2f} ms, "
          f"p95 {page_ms[1]:.2f} ms")
    print(f"ratio unit/page (median): {unit_ms[0] / page_ms[0]:.2f}")
    print("plan:\n  " + "\n  ".join(plan))


if __name__ == "__main__":
    main()
