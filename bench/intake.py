"""Intake throughput and latency through gunicorn with 16 concurrent clients, beside a floor.

For SQLite and PostgreSQL: POST /api/v1/referrals on the real app, and a bare endpoint that
inserts one row into the same database (the floor), both under the same gunicorn settings.
The two servers run side by side and the load alternates between them for --rounds rounds,
so a slow patch of a shared machine falls on both; each figure is the median round.
Prints referrals/s, p50/p99 latency, the CPU a request costs in the server, the database
and the load generator (read from /proc), the intake/floor ratios and any "database is
locked".

The servers are timed as a running service: after an untimed warm-up and each worker's first
tick of its embedded timer (which runs every periodic job once), and each round after
PostgreSQL has settled what the previous one left (autovacuum, a checkpoint, and the ANALYZE
autovacuum would have run by then).

The bodies are the contract's example with the subject's first name and date of birth
varied per request. Names are matched on letters only, so after the first 180 requests every
one is for a person referred before, matched exactly: the household, its members and its
open family-support case are looked up, as for a family the council already knows, and no
candidate search runs. bench/matching.py times the other case, a person not known exactly
(each referral's candidates searched and scored), through `run_backend`'s `bodies`.

    .venv/bin/python bench/intake.py [--requests 1600] [--rounds 3] [--warmup 320]
                                     [--workers 2] [--threads 4] [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

# common puts the repository first on sys.path, so bench/rules.py cannot shadow rules/
from common import BODY, PROFILE, ROOT, on_each_backend
from sqlalchemy import create_engine, text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(app_spec: str, env: dict, port: int, chdir: Path, workers: int, threads: int):
    cmd = [sys.executable, "-m", "gunicorn", app_spec, "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
           "--chdir", str(chdir), "--log-level", "warning"]
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the server's lifetime
        prefix="bench-gunicorn-", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return proc, Path(log.name)
        except requests.RequestException:
            pass
        if proc.poll() is None:
            time.sleep(0.1)
        else:
            break
    proc.kill()
    raise RuntimeError(f"server did not start; see {log.name}")


def _body_for(n: int, template: dict | None) -> dict:
    """The template with the subject's first name and date of birth varied by `n`. Names are
    matched on letters only ("Gwen12" is "gwen"), so these name 180 people in turn: after
    the first 180 requests every one is about a person known exactly (see the docstring)."""
    if template is None:
        return {}
    body = json.loads(json.dumps(template))
    body["people"][0]["given_name"] = f"Gwen{n}"
    body["people"][0]["date_of_birth"] = f"19{30 + n % 60:02d}-0{1 + n % 9}-1{n % 10}"
    return body


def _cpu_seconds() -> dict[str, float]:
    """CPU used so far by the database server, the gunicorn servers and this process."""
    used = {"database": 0.0, "server": 0.0, "client": 0.0}
    proc = Path("/proc")
    if not proc.exists():
        return used
    tick = os.sysconf("SC_CLK_TCK")
    for entry in proc.iterdir():
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
        if name == "postgres":
            used["database"] += seconds
        elif b"gunicorn" in cmdline:
            used["server"] += seconds
        elif int(entry.name) == os.getpid():
            used["client"] += seconds
    return used


def _load(url: str, headers: dict, body: Callable[[int], dict] | None, total: int,
          clients: int, first: int = 0):
    latencies: list[float] = []
    failures: dict[int, int] = {}
    lock = threading.Lock()
    per_client = total // clients

    def worker(k: int) -> None:
        session = requests.Session()
        mine, bad = [], {}
        for i in range(per_client):
            payload = body(first + k * per_client + i) if body else {}
            started = time.perf_counter()
            try:
                code = session.post(url, json=payload, headers=headers, timeout=60).status_code
            except requests.RequestException:
                code = 0  # connection failed
            mine.append(time.perf_counter() - started)
            if code != 201:
                bad[code] = bad.get(code, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, n in bad.items():
                failures[code] = failures.get(code, 0) + n

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu_after = _cpu_seconds()
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "failures": failures,
        "cpu_ms": {k: (cpu_after[k] - cpu_before[k]) / len(latencies) * 1000
                   for k in cpu_before},
    }


def _prepare(url: str) -> str:
    """Migrate, create a partner, recount the report tallies, return the partner's token.

    The recount is the hourly sweep's (triage/services/reports/refresh.py): each gunicorn
    worker without a broker runs the sweep on its first tick and recounts unless a recount is
    under 30 minutes old. Done here, as a running service's last hourly sweep would have, the
    workers skip it; otherwise it lands in the first round (about 3 s of the database's time
    at 12,000 referrals), a cost of starting a process, not of a referral."""
    from floor_app import metadata

    from config.settings import Settings
    from triage import create_app
    from triage.migrations import upgrade
    from triage.services.accounts import users
    from triage.services.reports.refresh import refresh

    engine = create_engine(url)
    upgrade(engine)
    metadata.create_all(engine)
    engine.dispose()
    app = create_app(Settings(env="test", database_url=url, secret_key="b" * 40, profile=PROFILE),
                     background=False)
    rt = app.extensions["triage"]
    users.create_user(rt.db, email="bench@partner.test", role="partner",
                         organisation="Bench Fire Service")
    token = users.create_token(rt.db, email="bench@partner.test")
    refresh(rt)
    rt.db.dispose()
    return token


def _quiesce(url: str) -> None:
    """Before a round: let PostgreSQL finish the autovacuum and writing that the previous
    round caused, so no round pays for another's work; and analyze what autovacuum would
    have analyzed by now on a running service.

    The tables a referral writes start empty here (a running council's hold years of them),
    and a statement's plan is made, and kept by the connection, for the table as it was then:
    on an empty case table that is a scan of the whole table, which the next thousand
    referrals make ever longer. A running service's autovacuum analyzes a table within a
    minute of a tenth of it (and 50 rows) changing, and every plan on it is made afresh;
    a round here is over before its first pass. So each table past that threshold
    (PostgreSQL's own settings, read from the server) is analyzed here, as autovacuum would:
    measured at 1M people, without this the household read cost 250-300 us a referral
    instead of 35-60, and the combined insert 500-800 instead of 380-460."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for _ in range(120):
                busy = conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE backend_type = 'autovacuum worker'")).scalar_one()
                if not busy:
                    break
                time.sleep(0.5)
            for (table,) in conn.execute(text(
                    "SELECT s.relname FROM pg_stat_user_tables s "
                    "JOIN pg_class c ON c.oid = s.relid "
                    "WHERE s.n_mod_since_analyze > "
                    "  current_setting('autovacuum_analyze_threshold')::float8 "
                    "  + current_setting('autovacuum_analyze_scale_factor')::float8 "
                    "    * greatest(c.reltuples, 0)")).all():
                conn.execute(text(f'ANALYZE "{table}"'))
            conn.execute(text("CHECKPOINT"))
    finally:
        engine.dispose()


def _first_tick_done(started: float) -> None:
    """Wait until each intake worker's embedded timer has ticked once. Its first tick runs
    every periodic job (the escalation sweep, the retention report, mail, draft purge): on a
    database with five years of history that is about half a second of work per worker,
    which a running service spreads over hours (the next escalation sweep is five minutes
    on, the next retention report six hours) but which would otherwise land in whichever
    round was running 30 seconds after the servers started."""
    from config.settings import Settings

    tick = int(os.environ.get("TRIAGE_OUTBOX_SWEEP_SECONDS", Settings.outbox_sweep_seconds))
    time.sleep(max(0.0, started + tick + 5 - time.monotonic()))


def _locked(log: str) -> int:
    """SQLite's "database is locked" in the server log: a traceback (floor), or the
    service's 503 warning, which logs SQLite's error name instead of its message."""
    return log.count("database is locked") + log.count("SQLITE_BUSY")


def run_backend(name: str, url: str, args) -> dict:
    token = _prepare(url)
    env = {**os.environ, "TRIAGE_DATABASE_URL": url, "TRIAGE_ENV": "development",
           "TRIAGE_SECRET_KEY": "b" * 40, "TRIAGE_LOG_LEVEL": "WARNING",
           "TRIAGE_INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-instance-"),
           "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)}
    env.pop("TRIAGE_REDIS_URL", None)
    # The request bodies: bench/intake.py's stream by default (after its first 180, each names
    # someone known exactly), or the caller's (bench/matching.py: people not known exactly,
    # so each is scored).
    bodies = getattr(args, "bodies", None) or (lambda n: _body_for(n, BODY))
    endpoints = [
        ("floor", "floor_app:create()", ROOT / "bench", "/floor", {}, None),
        ("intake", "triage:create_app()", ROOT, "/api/v1/referrals",
         {"Authorization": f"Bearer {token}"}, bodies),
    ]
    servers = {}
    rounds: dict[str, list[dict]] = {"floor": [], "intake": []}
    started = time.monotonic()
    try:
        for label, spec, chdir, *_ in endpoints:
            port = _free_port()
            servers[label] = (port, *_serve(spec, env, port, chdir, args.workers,
                                            args.threads))
        # Warm up, untimed: every server thread, pooled connection and prepared statement.
        for label, _, _, path, headers, body in endpoints:
            _load(f"http://127.0.0.1:{servers[label][0]}{path}", headers, body,
                  args.warmup, args.clients, first=10**6)
        _first_tick_done(started)
        for n in range(args.rounds):
            for label, _, _, path, headers, body in endpoints:
                _quiesce(url)
                port = servers[label][0]
                rounds[label].append(_load(f"http://127.0.0.1:{port}{path}", headers, body,
                                           args.requests, args.clients,
                                           first=n * args.requests))
    finally:
        for _, proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
    results = {}
    for label in rounds:
        median = sorted(rounds[label], key=lambda r: r["rps"])[len(rounds[label]) // 2]
        results[label] = {**median, "rounds": [r["rps"] for r in rounds[label]],
                          "locked": _locked(servers[label][2].read_text())}
    results["ratios"] = sorted(i["rps"] / f["rps"]
                               for f, i in zip(rounds["floor"], rounds["intake"], strict=True))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1600)
    parser.add_argument("--clients", type=int, default=16)
    # The server as `triage serve` runs it by default: 2 workers x 4 threads.
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=320,
                        help="untimed requests to each server before the first round")
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()

    all_results = on_each_backend(args.only, lambda name, url: run_backend(name, url, args))

    print(f"intake benchmark: {args.rounds} alternating rounds of {args.requests} requests, "
          f"{args.clients} concurrent clients, gunicorn {args.workers} workers x "
          f"{args.threads} threads, {os.cpu_count()}-core machine; medians of the rounds")
    print(f"{'backend':<10}{'endpoint':<9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'non-201':>8}{'locked':>7}   CPU ms per request: server / database / client")
    for backend, res in all_results.items():
        for label in ("floor", "intake"):
            r = res[label]
            cpu = r["cpu_ms"]
            print(f"{backend:<10}{label:<9}{r['rps']:>8.1f}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}"
                  f"{sum(r['failures'].values()):>8}{r['locked']:>7}   "
                  f"{cpu['server']:.2f} / {cpu['database']:.2f} / {cpu['client']:.2f}"
                  f"   (rounds: {', '.join(f'{x:.0f}' for x in r['rounds'])} req/s)")
        ratios = res["ratios"]
        print(f"{backend}: intake/floor throughput = {ratios[len(ratios) // 2]:.2f} "
              f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    if "sqlite" in all_results and "postgres" in all_results:
        ratio = all_results["sqlite"]["intake"]["rps"] / all_results["postgres"]["intake"]["rps"]
        print(f"sqlite/postgres intake throughput = {ratio:.2f}")


if __name__ == "__main__":
    main()
