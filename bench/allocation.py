"""Caseload allocation's count at 1,000,000 cases on PostgreSQL: the open cases of one unit's
teams (say, a footprint of 6 planning areas), one grouped query, as intake runs it for every new
case of a balanced service; and the capacity page's count of every team.

    .venv/bin/python bench/allocation.py [--cases 1000000] [--repeat 200]

Prints the median and 95th percentile in milliseconds, the plan PostgreSQL chose, and the
ratio of the unit's count to the whole capacity page's. A throwaway database is created and
dropped (bench/common.py).

The service is the one TRIAGE_PROFILE's profile balances (profile.yaml `allocation`), with
its real instances and a unit of the middle size of its `balance_within` units. A profile that
balances nothing is said so, and the count is measured anyway, on its service with the most
instances split into 34 made-up instances with a unit of 6 (as finely as a county's planning
areas). The other services are the profile's next three, one instance each."""

from __future__ import annotations

import argparse
import statistics
import time

from common import BODY, migrated_app, profile, throwaway_postgres  # noqa: I001  (puts the repository on sys.path)
from sqlalchemy import text

MADE_UP_INSTANCES = 34
MADE_UP_UNIT = slice(6, 12)


def plan() -> tuple[str, list[str], list[str], list[tuple[str, str]], str | None]:
    """(service, its instances, one unit's instances, [(other service, its instance)], a
    note when the profile balances nothing)."""
    services = profile().services
    if profile().allocation:
        balanced = profile().allocation[0]
        service = balanced.service
        instances = list(services[service].instances)
        units = sorted({g for g in balanced.groups.values()}, key=lambda g: (len(g), g))
        unit = list(units[len(units) // 2])
        note = None
    else:
        service = max(services, key=lambda s: len(services[s].instances))
        instances = [f"pa-{i:02d}" for i in range(MADE_UP_INSTANCES)]
        unit = instances[MADE_UP_UNIT]
        note = (f"profile {profile().id} balances no service's caseloads (no allocation in "
                f"profile.yaml): the count is measured on {service}, split into "
                f"{len(instances)} made-up instances, one unit of {len(unit)}")
    others = [(s, next(iter(spec.instances))) for s, spec in services.items()
              if s != service and spec.instances][:3]
    return service, instances, unit, others, note


SERVICE, INSTANCES, UNIT, OTHER, NOTE = plan()


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def _fill(rt, cases: int) -> None:
    """One referral and `cases` cases: 40% of the balanced service over its instances, the
    rest of others; 8% open."""
    from triage.models import Referral
    from triage.models.base import utcnow
    from triage.statements import new_row

    with rt.db.unit_of_work() as session:
        now = utcnow()
        referral = new_row(session, Referral, reference=rt.profile.reference_for(now, 1),
                           status="routed", received_at=now, profile_id="bench",
                           checklist_id="bench", checklist_version="1", channel="staff",
                           postcode=BODY["postcode"], consent="given", answers={},
                           raw_body={})
        rid = referral.id
    services = _array([s for s, _ in OTHER])
    others = _array([i for _, i in OTHER])
    instances = _array(INSTANCES)
    with rt.db.unit_of_work() as session:
        session.execute(text(f"""
            INSERT INTO case_record (referral_id, service, instance, state, opened_at,
                                     closed_at, version)
            SELECT {rid},
                   CASE WHEN n % 10 < 4 THEN '{SERVICE}' ELSE ({services})[1 + n % {len(OTHER)}]
                   END,
                   CASE WHEN n % 10 < 4 THEN ({instances})[1 + (n / 10) % {len(INSTANCES)}]
                        ELSE ({others})[1 + n % {len(OTHER)}] END,
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
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    from triage.services.referrals.allocation import open_counts

    if NOTE:
        print(NOTE)
    with throwaway_postgres() as url:
        app = migrated_app(url)
        rt = app.extensions["triage"]
        started = time.perf_counter()
        _fill(rt, args.cases)
        print(f"filled {args.cases:,} cases in {time.perf_counter() - started:.1f} s")
        with rt.db.reader() as session:
            counts = open_counts(session, SERVICE, UNIT)
            print(f"open cases of the unit's teams: {counts}")

            def unit():
                open_counts(session, SERVICE, UNIT)

            def page():  # as the capacity page counts: per service, its instances named
                open_counts(session, SERVICE, INSTANCES)
                for service, instance in OTHER:
                    open_counts(session, service, [instance])

            unit_ms = _time(unit, args.repeat)
            page_ms = _time(page, args.repeat)
            named = ",".join(f"'{i}'" for i in UNIT)
            plan_rows = session.execute(text(
                "EXPLAIN SELECT instance, count(*) FROM case_record WHERE service = :s "
                f"AND instance IN ({named}) "
                "AND closed_at IS NULL GROUP BY instance"), {"s": SERVICE}).scalars().all()
        rt.db.dispose()
    print(f"allocation count (one unit, {len(UNIT)} teams): median {unit_ms[0]:.2f} ms, "
          f"p95 {unit_ms[1]:.2f} ms")
    print(f"capacity page count (every team, {len(INSTANCES) + len(OTHER)} in "
          f"{1 + len(OTHER)} services): median {page_ms[0]:.2f} ms, p95 {page_ms[1]:.2f} ms")
    print(f"ratio unit/page (median): {unit_ms[0] / page_ms[0]:.2f}")
    print("plan:\n  " + "\n  ".join(plan_rows))


if __name__ == "__main__":
    main()
