"""An intake A/B between two commits, run at the same time, so a machine whose speed drifts
(a shared 2-core box: the floor's rounds vary 1.6x within a run) drifts under both alike.

Two processes, one per commit (this checkout, and --base in a temporary git worktree), each
send the same stream of referrals through the app in process (Flask's test client, one
thread) to one PostgreSQL database holding --people people (bulk-loaded as bench/matching.py
does, or --url). Each reports its CPU per referral: the whole process, the request thread,
and its own PostgreSQL backends (found by application_name), and the thread's CPU in a few
phases of the intake. It measures work, not throughput: what a change saves (or costs) per
referral on both sides of the wire, which bench/intake.py's throughput ratio cannot tell
apart from the machine's noise.

    .venv/bin/python bench/intake_ab.py --base REV [--people 1000000 | --url URL]
                                        [--requests 1500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

# (module, function): the thread CPU spent in each, where the commit has it.
PHASES = [
    ("triage.api.referrals", "current_user"),
    ("triage.services.referrals.intake", "parse_referral"),
    ("triage.services.referrals.intake", "match_people"),
    ("triage.services.referrals.intake", "known_family"),
    ("triage.services.referrals.routing", "decide"),
    ("triage.services.referrals.intake", "next_keys"),
    ("triage.services.referrals.intake", "record_referral"),
    ("triage.services.referrals.intake", "store_once"),
]


def _child(root: Path, url: str, requests: int, rounds: int, label: str) -> dict:
    """Run in a process whose sys.path starts at `root` (the commit measured)."""
    import functools
    import importlib
    import logging

    sys.path[:0] = [str(root), str(root / "bench")]
    from common import BODY, PROFILE  # bench/common.py of that commit
    from intake import _body_for

    from config.settings import Settings
    from triage import create_app
    from triage.services.accounts import users

    spent: dict[str, float] = dict.fromkeys((name for _, name in PHASES), 0.0)
    for module_name, name in PHASES:
        module = importlib.import_module(module_name)
        original = getattr(module, name, None)
        if original is None:
            continue

        @functools.wraps(original)
        def timed(*args, _original=original, _name=name, **kwargs):
            started = time.thread_time()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_name] += time.thread_time() - started

        setattr(module, name, timed)
    app_name = f"bench_ab_{label}_{os.getpid()}"
    joined = "&" if "?" in url else "?"
    app = create_app(Settings(env="test", database_url=f"{url}{joined}application_name={app_name}",
                              secret_key="b" * 40, profile=PROFILE), background=False)
    logging.disable(logging.INFO)
    rt = app.extensions["triage"]
    email = f"ab-{label}-{os.getpid()}@partner.test"
    users.create_user(rt.db, email=email, role="partner", organisation="Bench Fire Service")
    headers = {"Authorization": f"Bearer {users.create_token(rt.db, email=email)}"}
    client = app.test_client()

    import psycopg
    from sqlalchemy.engine import make_url

    monitor = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(
        hide_password=False), autocommit=True)

    def backends_cpu() -> float:
        tick, total = os.sysconf("SC_CLK_TCK"), 0
        for (pid,) in monitor.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (app_name,)):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
        return total / tick

    def body(n: int) -> dict:
        return _body_for(n, BODY)  # bench/intake.py's stream: most name someone known

    for n in range(200):  # warm: caches, prepared statements, the token listener
        assert client.post("/api/v1/referrals", json=body(10**6 + n),
                           headers=headers).status_code == 201
    results = []
    for r in range(rounds):
        for key in spent:
            spent[key] = 0.0
        stream = [body(r * requests + n) for n in range(requests)]
        process, thread, backends = time.process_time(), time.thread_time(), backends_cpu()
        for item in stream:
            client.post("/api/v1/referrals", json=item, headers=headers)
        results.append({
            "process": (time.process_time() - process) / requests * 1000,
            "thread": (time.thread_time() - thread) / requests * 1000,
            "postgres": (backends_cpu() - backends) / requests * 1000,
            "phases": {k: v / requests * 1000 for k, v in spent.items()},
        })
    rt.relay.stop()
    rt.db.dispose()
    return {"rounds": results}


def _median(rounds: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--url", help="a PostgreSQL database already loaded (else one is "
                                      "made, loaded with --people and dropped)")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("ROOT", "LABEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(Path(args.child[0]), args.url, args.requests, args.rounds,
                                args.child[1])))
        return

    sys.path.insert(0, str(ROOT))
    from bench.common import throwaway_postgres

    worktree = Path(tempfile.mkdtemp(prefix="bench-ab-")) / "base"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree),
                    args.base], check=True, capture_output=True)
    try:
        if args.url:
            results = _compare(args, args.url, worktree)
        else:
            with throwaway_postgres() as url:
                from sqlalchemy import create_engine

                from bench.matching import bulk_load
                from triage.migrations import upgrade

                engine = create_engine(url)
                upgrade(engine)
                engine.dispose()
                bulk_load(url, args.people, probes=0)
                results = _compare(args, url, worktree)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                        str(worktree)], check=False, capture_output=True)
    base, this = results["base"]["rounds"], results["this"]["rounds"]
    print(f"intake CPU per referral, ms (median of {args.rounds} rounds of {args.requests}, "
          f"both commits at once; base {args.base}, this checkout)")
    print(f"{'':<24}{'base':>9}{'this':>9}{'this/base':>11}")
    for key in ("process", "thread", "postgres"):
        b, t = _median(base, key), _median(this, key)
        print(f"{key:<24}{b:>9.3f}{t:>9.3f}{t / b if b else float('nan'):>11.2f}")
    b = _median(base, "process") + _median(base, "postgres")
    t = _median(this, "process") + _median(this, "postgres")
    print(f"{'process + postgres':<24}{b:>9.3f}{t:>9.3f}{t / b:>11.2f}")
    for _, name in PHASES:
        pb = statistics.median(r["phases"].get(name, 0.0) for r in base)
        pt = statistics.median(r["phases"].get(name, 0.0) for r in this)
        print(f"  {name:<22}{pb:>9.3f}{pt:>9.3f}")


def _compare(args, url: str, worktree: Path) -> dict:
    children = {}
    for label, root in (("base", worktree), ("this", ROOT)):
        env = {**os.environ, "PYTHONPATH": str(root), "TRIAGE_LOG_LEVEL": "WARNING"}
        children[label] = subprocess.Popen(
            [sys.executable, str(BENCH / "intake_ab.py"), "--base", args.base, "--url", url,
             "--requests", str(args.requests), "--rounds", str(args.rounds),
             "--child", str(root), label],
            cwd=str(root), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {}
    for label, child in children.items():
        out, err = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"{label} failed:\n{err[-3000:]}")
        results[label] = json.loads(out.strip().splitlines()[-1])
    return results


if __name__ == "__main__":
    main()
