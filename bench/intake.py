"""Intake throughput and latency through gunicorn with 16 concurrent clients, beside a floor.

For SQLite and PostgreSQL: POST /api/v1/referrals on the real app, and a bare endpoint that
inserts one row into the same database (the floor), both under the same gunicorn settings.
Prints referrals/s, p50/p99 latency, the intake/floor ratios and any "database is locked".

    .venv/bin/python bench/intake.py [--requests 1600] [--clients 16] [--only sqlite|postgres]
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
from pathlib import Path

import requests

# common puts the repository first on sys.path, so bench/rules.py cannot shadow rules/
from common import BODY, ROOT, sqlite_url, throwaway_postgres
from sqlalchemy import create_engine


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
    """Each request a different family (most referrals are about people not yet known)."""
    if template is None:
        return {}
    body = json.loads(json.dumps(template))
    body["people"][0]["given_name"] = f"Gwen{n}"
    body["people"][0]["date_of_birth"] = f"19{30 + n % 60:02d}-0{1 + n % 9}-1{n % 10}"
    return body


def _load(url: str, headers: dict, body: dict | None, total: int, clients: int):
    latencies: list[float] = []
    failures: dict[int, int] = {}
    lock = threading.Lock()
    per_client = total // clients

    def worker(k: int) -> None:
        session = requests.Session()
        mine, bad = [], {}
        for i in range(per_client):
            payload = _body_for(k * per_client + i, body)
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

    # Warm up: one request per client's connection before timing.
    for _ in range(clients):
        requests.post(url, json=body or {}, headers=headers, timeout=60)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "failures": failures,
    }


def _prepare(url: str) -> str:
    """Migrate, create a partner, return its token."""
    from floor_app import metadata

    from config.settings import Settings
    from triage import create_app
    from triage.migrations import upgrade
    from triage.services import accounts

    engine = create_engine(url)
    upgrade(engine)
    metadata.create_all(engine)
    engine.dispose()
    app = create_app(Settings(env="test", database_url=url, secret_key="b" * 40),
                     background=False)
    rt = app.extensions["triage"]
    accounts.create_user(rt.db, email="bench@partner.test", role="partner",
                         organisation="Bench Fire Service")
    token = accounts.create_token(rt.db, email="bench@partner.test")
    rt.db.dispose()
    return token


def run_backend(name: str, url: str, args) -> dict:
    token = _prepare(url)
    env = {**os.environ, "TRIAGE_DATABASE_URL": url, "TRIAGE_ENV": "development",
           "TRIAGE_SECRET_KEY": "b" * 40, "TRIAGE_LOG_LEVEL": "WARNING",
           "TRIAGE_INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-instance-"),
           "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)}
    env.pop("TRIAGE_REDIS_URL", None)
    results = {}
    for label, spec, chdir, path, headers, body in [
        ("floor", "floor_app:create()", ROOT / "bench", "/floor", {}, None),
        ("intake", "triage:create_app()", ROOT, "/api/v1/referrals",
         {"Authorization": f"Bearer {token}"}, BODY),
    ]:
        port = _free_port()
        proc, log = _serve(spec, env, port, chdir, args.workers, args.threads)
        try:
            results[label] = _load(f"http://127.0.0.1:{port}{path}", headers, body,
                                   args.requests, args.clients)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        results[label]["locked"] = log.read_text().count("database is locked")
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1600)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()

    all_results = {}
    if args.only in (None, "sqlite"):
        all_results["sqlite"] = run_backend("sqlite", sqlite_url(), args)
    if args.only in (None, "postgres"):
        with throwaway_postgres() as url:
            all_results["postgres"] = run_backend("postgres", url, args)

    print(f"intake benchmark: {args.requests} requests, {args.clients} concurrent clients, "
          f"gunicorn {args.workers} workers x {args.threads} threads, 2-core machine")
    print(f"{'backend':<10}{'endpoint':<9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'non-201':>9}{'locked':>8}")
    for backend, res in all_results.items():
        for label in ("floor", "intake"):
            r = res[label]
            print(f"{backend:<10}{label:<9}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
                  f"{sum(r['failures'].values()):>9}{r['locked']:>8}")
        ratio = res["intake"]["rps"] / res["floor"]["rps"]
        print(f"{backend}: intake/floor throughput = {ratio:.2f}")
    if "sqlite" in all_results and "postgres" in all_results:
        ratio = all_results["sqlite"]["intake"]["rps"] / all_results["postgres"]["intake"]["rps"]
        print(f"sqlite/postgres intake throughput = {ratio:.2f}")


if __name__ == "__main__":
    main()
