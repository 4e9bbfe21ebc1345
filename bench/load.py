"""Many staff at once: a Locust load test of simulated staff against `triage serve` on
PostgreSQL with 1,000,000 referrals (target: every page's p95 under 500 ms, no errors).

Needs the `load` extra: `.venv/bin/pip install -e '.[load]'` (Locust; not in `test`).

The database: a throwaway PostgreSQL database loaded as `bench/pages.py --postgres` loads it
(400 referrals through the real services, then COPY-cloned to --referrals, shape closed or
open), dropped afterwards; or --url, an already loaded database (kept; migrated first), or
--keep, which loads one, keeps it and prints its --url.

The staff: accounts of each kind (front door, practitioners of the busiest teams, hub
coordinators of the profile's meeting when it has one, managers) are created with the
accounts service and signed in with the sign-in service (argon2 and all), before the server
starts; each simulated user holds one web session cookie. Overdue cases are escalated,
pending notifications delivered and the reports recounted first, so the embedded timers in
the server have nothing left over from the load to do.

The server: `triage serve --workers W --threads T` (gunicorn, gthread) with TRIAGE_ENV=
production, the embedded relay (no Redis) and the pool settings asked for. The load:
`locust --headless` with bench/locustfile.py for --run-time after every user has started
(statistics reset then), after an untimed --warmup run with the same users, each user
waiting --think seconds between pages. Prints per page
p50/p95/p99, requests/s and errors, the server's configuration, PostgreSQL's
max_connections and connections used at the end, CPU seconds used by the server,
PostgreSQL and Locust, and the load average before and after.

Exits 1 when any page's p95 is 500 ms or more, or any request failed (--report-only: 0).

    .venv/bin/python bench/load.py [--users 200] [--run-time 3m] [--workers 4] [--threads 4]
        [--shape closed|open] [--referrals 1000000] [--url URL | --keep] [--report-only]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, throwaway_postgres  # noqa: I001  (puts the repository on sys.path)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

TARGET_P95_MS = 500.0
PASSWORD = "load-test-staff-2026"  # noqa: S105 - the throwaway database's test accounts
# Who the simulated staff are: share of the users, and the locustfile's class for them.
KINDS = {"front_door": 0.25, "practitioner": 0.40, "hub": 0.15, "manager": 0.20}
SAMPLE = 300  # ids of each kind handed to the users (spread over the table, not one row)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _loadavg() -> str:
    return " ".join(f"{n:.1f}" for n in os.getloadavg())


def _cpu_seconds(database: str) -> dict[str, float]:
    """CPU used so far by PostgreSQL's backends for this database, gunicorn and Locust, and
    gunicorn's resident memory in MB (read from /proc; a backend's CPU is lost from the sum
    when it exits, so pool overflow connections are undercounted)."""
    used = {"postgres": 0.0, "gunicorn": 0.0, "locust": 0.0, "gunicorn_mb": 0.0}
    page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if name == "postgres" and f" {database} ".encode() in cmdline:
            used["postgres"] += seconds
        elif b"triage" in cmdline and b"serve" in cmdline:
            used["gunicorn"] += seconds
            used["gunicorn_mb"] += int(fields[21]) * page_mb
        elif b"locust" in cmdline:
            used["locust"] += seconds
    return used


# --- the staff and what they look at -----------------------------------------------------

def _teams(conn, meeting_service: str | None) -> tuple[list[str], list[str]]:
    """The busiest practitioner teams (service or service:instance) and hub teams (of the
    service with a meeting, if any), by open cases."""
    rows = conn.execute(text(
        "SELECT service, instance, count(*) AS n FROM case_record WHERE closed_at IS NULL "
        "GROUP BY service, instance ORDER BY n DESC")).all()
    practitioner, hub = [], []
    for service, instance, _ in rows:
        if service == meeting_service and instance:
            hub.append(f"{service}:{instance}")
        elif service != meeting_service:
            practitioner.append(f"{service}:{instance}" if instance else service)
    return practitioner[:6], hub[:4]


def _ids(conn, sql: str, **params) -> list:
    return [row[0] for row in conn.execute(text(sql), params)]


def _samples(url: str, practitioner: list[str], hub: list[str]) -> dict:
    """Ids and search words the users pick from: recent and old referrals, families, open
    and closed cases of each team, names, dates of birth and postcodes of real people."""
    engine = create_engine(url)
    out: dict = {"cases": {}, "households_of": {}}
    with engine.connect() as conn:
        top = conn.execute(text("SELECT max(id) FROM referral")).scalar_one()
        out["references"] = _ids(
            conn, "SELECT reference FROM referral TABLESAMPLE SYSTEM (1) "
                  "WHERE id > :low ORDER BY random() LIMIT :n", low=top - 60_000, n=SAMPLE)
        out["references"] += _ids(
            conn, "SELECT reference FROM referral TABLESAMPLE SYSTEM (0.1) "
                  "ORDER BY random() LIMIT :n", n=SAMPLE // 3)
        out["households"] = _ids(
            conn, "SELECT id FROM household TABLESAMPLE SYSTEM (0.2) ORDER BY random() "
                  "LIMIT :n", n=SAMPLE)
        for team in practitioner + hub:
            service, _, instance = team.partition(":")
            where = "service = :service" + (" AND instance = :instance" if instance else "")
            out["cases"][team] = _ids(
                conn, f"SELECT id FROM case_record WHERE {where} AND closed_at IS NULL "
                      "ORDER BY random() LIMIT :n", service=service, instance=instance,
                n=SAMPLE)
            out["cases"][team] += _ids(
                conn, f"SELECT id FROM case_record TABLESAMPLE SYSTEM (1) WHERE {where} "
                      "AND closed_at IS NOT NULL ORDER BY random() LIMIT :n",
                service=service, instance=instance, n=SAMPLE // 3)
            # Staff outside the front door see only the families their team works with.
            out["households_of"][team] = _ids(
                conn, "SELECT DISTINCT household_id FROM case_record WHERE id = ANY(:ids) "
                      "AND household_id IS NOT NULL", ids=list(out["cases"][team]))
        people = conn.execute(text(
            "SELECT given_name, family_name, date_of_birth FROM person TABLESAMPLE SYSTEM "
            "(0.1) WHERE family_name IS NOT NULL ORDER BY random() LIMIT :n"),
            {"n": SAMPLE}).all()
        postcodes = _ids(conn, "SELECT postcode FROM household TABLESAMPLE SYSTEM (0.1) "
                               "WHERE postcode IS NOT NULL LIMIT :n", n=SAMPLE // 3)
        # What the referral form is filled in with: a routed referral's postcode and the
        # questions answered yes (the profile's own, whichever council it is).
        postcode, answers = conn.execute(text(
            "SELECT postcode, answers FROM referral WHERE status = 'routed' "
            "ORDER BY id DESC LIMIT 1")).one()
        out["form"] = {"postcode": postcode,
                       "yes": [q for q, a in (answers or {}).items() if a is True][:3]}
    engine.dispose()
    searches = []
    for given, family, born in people:
        searches.append(f"{given} {family}" if given else family)
        if born is not None and len(searches) % 3 == 0:
            searches.append(born.strftime("%d/%m/%Y"))
    out["searches"] = searches + postcodes
    return out


def prepare(url: str, users: int, reuse: Path | None = None) -> dict:
    """Accounts and signed-in sessions for every simulated user, and what they look at
    (reuse: the accounts of an earlier run's plan.json, still signed in)."""
    from bench.common import meeting, meeting_note, migrated_app
    from triage.services.accounts import signin
    from triage.services.accounts import users as accounts
    from triage.services.cases import escalation
    from triage.services.notices import mail
    from triage.services.reports.refresh import refresh_job

    app = migrated_app(url)
    rt = app.extensions["triage"]
    reports = any(rule.rule.startswith("/reports") for rule in app.url_map.iter_rules())
    started = time.perf_counter()
    # What the server's embedded timers would otherwise do in every worker at start.
    # One batch a call, until a call escalates nothing.
    escalated = sum(iter(lambda: escalation.escalate_overdue(rt), 0))
    mail.send_pending(rt)
    # The hourly report recount too: the workers skip it while it is fresh (as in production,
    # where one process recounts an hour, not every worker as it starts).
    counted_at = time.perf_counter()
    tallies = refresh_job(rt)
    print("reports recounted before the run" if tallies >= 0 else
          "reports recounted less than half an hour ago (fresh)",
          f"({time.perf_counter() - counted_at:.0f} s)", flush=True)
    held = meeting()
    if held is None:
        print(f"{meeting_note()}; no hub coordinators among the staff", flush=True)
    engine = create_engine(url)
    with engine.connect() as conn:
        practitioner, hub = _teams(conn, held.service if held else None)
    engine.dispose()
    teams = {"front_door": ["front_door"], "practitioner": practitioner, "hub": hub,
             "manager": [None, *practitioner[:2]]}
    roles = {"front_door": "front_door", "practitioner": "practitioner",
             "hub": "hub_coordinator", "manager": "manager"}
    if reuse is not None:
        accounts_of = json.loads(reuse.read_text())["accounts"]
        rt.db.dispose()
        print(f"reusing the {sum(len(v) for v in accounts_of.values())} accounts of {reuse}")
        return {"accounts": accounts_of, "reports": reports, "hubs": hub,
                **_samples(url, practitioner, hub)}
    run = f"{random.randrange(16**6):06x}"

    def account(kind: str, n: int) -> dict:
        team = teams[kind][n % len(teams[kind])]
        email = f"load-{run}-{kind}-{n}@staff.test"
        user = accounts.create_user(rt.db, email=email, role=roles[kind], team=team,
                                    name=f"Load {kind} {n}", password=PASSWORD)
        signed = signin.sign_in(rt, email=email, password=PASSWORD, source="127.0.0.1")
        return {"id": user.id, "team": team, "token": signed.token}

    # argon2 lets go of the GIL: hashing and checking passwords in threads takes turns less.
    with ThreadPoolExecutor(max_workers=8) as pool:
        accounts_of = {kind: list(pool.map(lambda n, k=kind: account(k, n),
                                           range(math.ceil(users * share) + 1)))
                       for kind, share in KINDS.items() if teams[kind]}
    rt.db.dispose()
    print(f"{escalated} overdue cases escalated before the run, as the timers would", flush=True)
    print(f"{sum(len(v) for v in accounts_of.values())} staff accounts created and signed in "
          f"through the services in {time.perf_counter() - started:.0f} s; teams: "
          f"{', '.join(practitioner)}; hubs: {', '.join(hub)}", flush=True)
    return {"accounts": accounts_of, "reports": reports, "hubs": hub,
            **_samples(url, practitioner, hub)}


# --- the server and the load ---------------------------------------------------------------

def serve(url: str, args) -> tuple[subprocess.Popen, int, Path]:
    port = _free_port()
    env = {**os.environ, "TRIAGE_DATABASE_URL": url, "TRIAGE_ENV": "production",
           "TRIAGE_SECRET_KEY": "l" * 48, "TRIAGE_LOG_LEVEL": "WARNING",
           "TRIAGE_INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-load-instance-"),
           "TRIAGE_DB_POOL_SIZE": str(args.pool_size),
           "TRIAGE_DB_MAX_OVERFLOW": str(args.max_overflow),
           # Long sessions: the run may outlast the idle limit between a user's pages.
           "TRIAGE_SESSION_IDLE_MINUTES": "240"}
    env.pop("TRIAGE_REDIS_URL", None)
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the server's lifetime
        prefix="bench-load-gunicorn-", suffix=".log", delete=False)
    cmd = [str(Path(sys.executable).parent / "triage"), "serve", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(args.workers), "--threads",
           str(args.threads)]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    import urllib.request

    last_error = "no answer"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if r.status == 200:
                    return proc, port, Path(log.name)
                last_error = f"/healthz answered {r.status}"
        except OSError as exc:  # not listening yet: try again until it is, or it exits
            last_error = f"{type(exc).__name__}: {exc}"
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"the server did not start ({last_error}); see {log.name}")


def run_locust(port: int, plan_path: Path, args, out: Path, run_time: str
               ) -> tuple[int, float]:
    """Locust's exit code and the CPU seconds it used (its own console output goes to
    out.log)."""
    env = {**os.environ, "TRIAGE_LOAD_PLAN": str(plan_path), "TRIAGE_LOAD_THINK": args.think,
           "TRIAGE_LOAD_SUBMIT_SHARE": str(args.submit_share)}
    cmd = [str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"),
           "--headless", "--host", f"http://127.0.0.1:{port}", "--users", str(args.users),
           "--spawn-rate", str(args.spawn_rate), "--run-time", run_time,
           "--reset-stats", "--csv", str(out), "--only-summary", "--loglevel", "WARNING",
           "--stop-timeout", "10", "--exit-code-on-error", "0"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(f"{out}.log", "w") as log:
        code = subprocess.run(cmd, env=env, check=False, stdout=log,
                              stderr=subprocess.STDOUT).returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return code, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


class PeakConnections(threading.Thread):
    """The most connections to the database seen during the run, and how many of them
    were running a statement (sampled every second)."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = create_engine(url, poolclass=NullPool)
        self.stop = threading.Event()
        self.most = self.most_active = 0

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self.stop.wait(1.0):
                total, active = conn.execute(text(
                    "SELECT count(*), count(*) FILTER (WHERE state = 'active') - 1 "
                    "FROM pg_stat_activity WHERE datname = current_database()")).one()
                conn.commit()
                self.most = max(self.most, total - 1)
                self.most_active = max(self.most_active, active)

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=10)
        self.engine.dispose()


def _temp_files(url: str) -> tuple[int, float]:
    """Temporary files PostgreSQL has written for this database so far, and their MB."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            count, size = conn.execute(text(
                "SELECT temp_files, temp_bytes FROM pg_stat_database "
                "WHERE datname = current_database()")).one()
        return count, size / 2**20
    finally:
        engine.dispose()


def _pg(url: str, sql: str):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def report(out: Path, args, url: str, before: dict, after: dict, load_before: str,
           seconds: float) -> bool:
    """Print the table; True when every page's p95 is under the target and nothing failed."""
    with open(f"{out}_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    failures_file = Path(f"{out}_failures.csv")
    failures = list(csv.DictReader(failures_file.open())) if failures_file.exists() else []
    pages = [r for r in rows if r["Name"] != "Aggregated"]
    total = next(r for r in rows if r["Name"] == "Aggregated")
    print(f"\n{args.users} users, {args.run_time} after all started, think time {args.think} s; "
          f"gunicorn {args.workers} workers x {args.threads} threads (gthread); SQLAlchemy "
          f"pool {args.pool_size} + {args.max_overflow} overflow per worker (at most "
          f"{args.workers * (args.pool_size + args.max_overflow)} connections); PostgreSQL "
          f"max_connections {_pg(url, 'SHOW max_connections')}, work_mem "
          f"{_pg(url, 'SHOW work_mem')}, max_parallel_workers_per_gather "
          f"{_pg(url, 'SHOW max_parallel_workers_per_gather')}; {os.cpu_count()} cores")
    print(f"{'page':44} {'requests':>8} {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} "
          f"{'max':>6} {'errors':>6}  p95 < {TARGET_P95_MS:.0f} ms")
    ok = True
    for r in sorted(pages, key=lambda r: -float(r["95%"] if r["95%"] != "N/A" else 0)):
        p95 = float(r["95%"]) if r["95%"] != "N/A" else 0.0
        met = p95 < TARGET_P95_MS and int(r["Failure Count"]) == 0
        ok = ok and met
        print(f"{r['Name'][:44]:44} {r['Request Count']:>8} {float(r['Requests/s']):6.1f} "
              f"{r['50%']:>6} {r['95%']:>6} {r['99%']:>6} {float(r['Max Response Time']):6.0f} "
              f"{r['Failure Count']:>6}  {'yes' if met else 'NO'}")
    print(f"{'all pages':44} {total['Request Count']:>8} {float(total['Requests/s']):6.1f} "
          f"{total['50%']:>6} {total['95%']:>6} {total['99%']:>6} "
          f"{float(total['Max Response Time']):6.0f} {total['Failure Count']:>6}")
    for f in failures[:10]:
        print(f"  error: {f['Method']} {f['Name']}: {f['Error'][:160]} ({f['Occurrences']}x)")
    cpu = {k: after[k] - before[k] for k in before}
    served = max(1, sum(int(r["Request Count"]) for r in pages))
    print(f"CPU seconds over the {seconds:.0f} s of load: gunicorn {cpu['gunicorn']:.0f}, "
          f"PostgreSQL {cpu['postgres']:.0f} (this database's backends), Locust "
          f"{cpu['locust']:.0f}; per request (the ramp's requests are in the CPU, not the count): "
          f"gunicorn "
          f"{cpu['gunicorn'] * 1000 / served:.0f} ms, PostgreSQL "
          f"{cpu['postgres'] * 1000 / served:.0f} ms; gunicorn resident "
          f"memory at the end {after['gunicorn_mb']:.0f} MB ({args.workers} workers and the "
          f"arbiter); load average before {load_before}, after {_loadavg()} (1/5/15 min)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--run-time", default="3m", help="after every user started: 90s, 3m")
    parser.add_argument("--warmup", default="30s",
                        help="an untimed run with the same users first (0: none)")
    parser.add_argument("--think", default="5,25",
                        help="seconds a user waits between pages, min,max (uniform)")
    parser.add_argument("--submit-share", type=float, default=0.25,
                        help="share of the front door's checked referrals then submitted")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--pool-size", type=int, default=10, help="TRIAGE_DB_POOL_SIZE")
    parser.add_argument("--max-overflow", type=int, default=20, help="TRIAGE_DB_MAX_OVERFLOW")
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--shape", choices=("closed", "open"), default="closed")
    parser.add_argument("--url", help="an already loaded PostgreSQL database (kept)")
    parser.add_argument("--keep", action="store_true",
                        help="load a database, keep it and print its --url; no load test")
    parser.add_argument("--pg-set", action="append", default=[], metavar="NAME=VALUE",
                        help="ALTER DATABASE ... SET before the server starts, e.g. "
                             "work_mem=16MB or max_parallel_workers_per_gather=0 (repeatable)")
    parser.add_argument("--plan", type=Path,
                        help="with --url: reuse the accounts (signed in) of an earlier run's "
                             "plan.json instead of creating new ones")
    parser.add_argument("--report-only", action="store_true",
                        help="exit 0 even when a page misses the target or a request failed")
    args = parser.parse_args()
    if args.keep:
        from bench.common import PG_ADMIN
        from bench.pages import build_postgres

        name = f"triage_bench_load_{args.shape}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
        _, rt = build_postgres(url, args.referrals, args.shape)
        rt.db.dispose()
        print(f"kept {url}: load test it with --url, then DROP DATABASE \"{name}\"")
        return
    if args.url:
        ok = load_test(args.url, args)
    else:
        from bench.pages import build_postgres

        with throwaway_postgres() as url:
            _, rt = build_postgres(url, args.referrals, args.shape)
            rt.db.dispose()
            ok = load_test(url, args)
    if not ok:
        print(f"\nNOT MET: a page's p95 is {TARGET_P95_MS:.0f} ms or more, or a request failed")
        if not args.report_only:
            sys.exit(1)


def load_test(url: str, args) -> bool:
    import logging

    logging.disable(logging.INFO)
    plan = prepare(url, args.users, args.plan)
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    plan_path = folder / "plan.json"
    plan_path.write_text(json.dumps(plan))
    plan_path.chmod(0o600)  # session tokens
    referrals = _pg(url, "SELECT count(*) FROM referral")
    cases = _pg(url, "SELECT count(*) FROM case_record")
    open_cases = _pg(url, "SELECT count(*) FROM case_record WHERE closed_at IS NULL")
    print(f"{referrals} referrals, {cases} cases ({open_cases} open)", flush=True)
    for setting in args.pg_set:
        name, _, value = setting.partition("=")
        if not re.fullmatch(r"[a-z_]+", name) or not re.fullmatch(r"[A-Za-z0-9_.]+", value):
            sys.exit(f"--pg-set {setting!r}: give NAME=VALUE, e.g. work_mem=16MB")
        database = make_url(url).database
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" SET {name} = \'{value}\''))
        engine.dispose()
        print(f"ALTER DATABASE {database} SET {name} = {value}")
    proc, port, log = serve(url, args)
    try:
        if args.warmup not in ("", "0", "0s"):
            # Untimed: every worker thread, pooled connection, template and cache warm.
            code, _ = run_locust(port, plan_path, args, folder / "warmup", args.warmup)
            with open(folder / "warmup_stats.csv", newline="") as f:
                whole = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
            print(f"warm-up ({args.warmup}, not counted): {whole['Request Count']} requests, "
                  f"p50 {whole['50%']} ms, p95 {whole['95%']} ms, "
                  f"{whole['Failure Count']} errors; load average {_loadavg()}", flush=True)
        load_before = _loadavg()
        peak = PeakConnections(url)
        peak.start()
        before = _cpu_seconds(make_url(url).database)
        temp_before = _temp_files(url)
        started = time.perf_counter()
        code, locust_cpu = run_locust(port, plan_path, args, folder / "locust", args.run_time)
        seconds = time.perf_counter() - started
        after = _cpu_seconds(make_url(url).database)
        after["locust"] = before["locust"] + locust_cpu
        temp_files, temp_mb = (a - b for a, b in zip(_temp_files(url), temp_before,
                                                     strict=True))
        peak.finish()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    if code != 0:
        print(f"locust exited {code}; see {folder / 'locust.log'}")
    ok = report(folder / "locust", args, url, before, after, load_before, seconds)
    print(f"connections to the database: at most {peak.most} open, {peak.most_active} "
          f"running a statement at once (sampled each second); server log: {log}; Locust "
          f"output and CSVs: {folder}")
    print(f"sorts and hashes that spilled past work_mem to temporary files during the run: "
          f"{temp_files} ({temp_mb:.1f} MB)")
    errors = log.read_text().count("Traceback")
    if errors:
        print(f"{errors} tracebacks in the server log")
        ok = False
    return ok and code == 0


if __name__ == "__main__":
    main()
