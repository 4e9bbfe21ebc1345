"""Case workflow throughput and the cost of loading a case with its machine, beside floors.

For SQLite and PostgreSQL, in one process through Flask's test client (one client thread, so
the numbers are the per-request cost of the app, not of a web server; outbox messages are
delivered by the embedded relay's background thread as in `make run`):

- transitions/s through POST /api/v1/cases/<id>/events (token check, version check, history
  row, referral status, audit, outbox), beside the floor: a bare UPDATE of the state column
  in its own transaction;
- loading a case with its machine (the row, its history, the pathway's allowed events and
  what is due: what GET does before dumping), and GET /api/v1/cases/<id> through the API,
  beside the floor: a bare SELECT of the case row.

    .venv/bin/python bench/workflows.py [--cases 60] [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from common import BODY, case_cycle, migrated_app, on_each_backend, profile, route_of  # noqa: I001  (puts the repository on sys.path)
from sqlalchemy import text

import workflows  # noqa: E402  (after the path is set)

# The case: BODY's (the profile's everyday referral), from the offer to its outcome along
# its service's pathway (on hold and resumed twice on the way: 7 transitions in most).
SERVICE, INSTANCE = route_of()
CYCLE = case_cycle(SERVICE)


def _timed(calls: list[Callable[[], object]]) -> dict[str, float]:
    latencies = []
    started = time.perf_counter()
    for call in calls:
        t0 = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"per_s": len(calls) / elapsed, "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000}


def run_backend(url: str, n_cases: int) -> dict[str, dict[str, float]]:
    from triage.models.base import utcnow
    from triage.services.accounts import users
    from triage.services.cases.case_dues import CaseView, histories
    from triage.services.cases.casework import build_record, find_case_and_referral
    from triage.services.referrals import intake

    app = migrated_app(url, log_level="WARNING")
    rt = app.extensions["triage"]
    partner = users.create_user(rt.db, email="bench@partner.test", role="partner",
                                   organisation="Bench Fire Service")
    users.create_user(rt.db, email="bench@practitioner.test", role="practitioner",
                      team=f"{SERVICE}:{INSTANCE}" if INSTANCE else SERVICE)
    headers = {"Authorization":
               f"Bearer {users.create_token(rt.db, email='bench@practitioner.test')}"}
    case_ids = []
    for _ in range(n_cases * 2):  # one set for the transitions, one for their floor
        _, created = intake.submit_referral(rt, user=partner, body=BODY)
        case_ids.append(next(c["id"] for c in created["cases"] if c["service"] == SERVICE))
    rt.relay.drain(timeout=120)
    moved, floored = case_ids[:n_cases], case_ids[n_cases:]
    client = app.test_client()

    def post(case_id: int, event: str, fields: dict) -> Callable[[], object]:
        def call():
            response = client.post(f"/api/v1/cases/{case_id}/events",
                                   json={"event": event, **fields}, headers=headers)
            assert response.status_code == 200, response.json
        return call

    def bare_update(case_id: int, state: str) -> Callable[[], object]:
        def call():
            with rt.db.unit_of_work() as session:
                session.execute(text("UPDATE case_record SET state = :s WHERE id = :i"),
                                {"s": state, "i": case_id})
        return call

    def bare_select(case_id: int) -> Callable[[], object]:
        def call():
            with rt.db.reader() as session:
                session.execute(text("SELECT state FROM case_record WHERE id = :i"),
                                {"i": case_id}).one()
        return call

    def load(case_id: int) -> Callable[[], object]:
        def call():
            with rt.db.reader() as session:
                case, reference, urgent = find_case_and_referral(
                    session, case_id, profile_id=rt.profile.id)
                build_record(rt, session, case, histories(session, [case_id])[case_id],
                             now=utcnow(), reference=reference, urgent=urgent)
        return call

    def get(case_id: int) -> Callable[[], object]:
        def call():
            assert client.get(f"/api/v1/cases/{case_id}", headers=headers).status_code == 200
        return call

    results = {
        "floor_update": _timed([bare_update(c, e) for e, _ in CYCLE for c in floored]),
        "transition": _timed([post(c, e, f) for e, f in CYCLE for c in moved]),
    }
    rt.relay.drain(timeout=120)
    # Reads of cases that have a history (the ones just moved through their pathway).
    results["floor_select"] = _timed([bare_select(c) for c in moved * 3])
    results["load"] = _timed([load(c) for c in moved * 3])
    results["get"] = _timed([get(c) for c in moved * 3])
    # The machine's own share: allowed events and what is due, on a case already in memory.
    with rt.db.reader() as session:
        case, _, _ = find_case_and_referral(session, moved[0], profile_id=rt.profile.id)
        view = CaseView.of(case, histories(session, [case.id])[case.id])
    pathway = rt.pathways.for_service(case.service)

    def machine() -> None:
        now = utcnow()
        pathway.allowed_events(view, at=now)
        pathway.due(view, now=now, calendar=rt.pathways.calendar)

    results["machine"] = _timed([machine] * 2000)
    started = time.perf_counter()
    workflows.load_pathways(rt.profile)
    results["build_machines_ms"] = {"value": (time.perf_counter() - started) * 1000,
                                    "count": len(rt.pathways)}
    rt.relay.stop()
    rt.db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()

    all_results = on_each_backend(args.only, lambda _, url: run_backend(url, args.cases))

    print(f"workflows benchmark: {args.cases} {profile().services[SERVICE].name} cases x "
          f"{len(CYCLE)} transitions; Flask test client, one thread, in-process outbox; "
          "2-core machine")
    labels = [("floor_update", "floor: bare UPDATE of the state column"),
              ("transition", "POST /cases/<id>/events (a transition)"),
              ("floor_select", "floor: bare SELECT of the case row"),
              ("load", "load case + history + machine (service)"),
              ("get", "GET /cases/<id> (load, audit, dump)"),
              ("machine", "machine only: allowed events + due (memory)")]
    print(f"{'backend':<10}{'measure':<44}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for backend, res in all_results.items():
        for key, label in labels:
            r = res[key]
            print(f"{backend:<10}{label:<44}{r['per_s']:>9.1f}{r['p50_ms']:>9.2f}"
                  f"{r['p99_ms']:>9.2f}")
        print(f"{backend}: transition/floor throughput = "
              f"{res['transition']['per_s'] / res['floor_update']['per_s']:.2f}; "
              f"load/floor = {res['load']['per_s'] / res['floor_select']['per_s']:.2f}; "
              f"GET/floor = {res['get']['per_s'] / res['floor_select']['per_s']:.2f}")
        machines = res["build_machines_ms"]
        print(f"{backend}: reading pathways.yaml and building all {machines['count']} pathway "
              f"machines (once per process, never per case): {machines['value']:.0f} ms")


if __name__ == "__main__":
    main()
