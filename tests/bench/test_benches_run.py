"""The benchmarks run on every shipped profile (TRIAGE_PROFILE): each bench script at its
smallest size as a subprocess, which must exit 0 and print its figures. The quick ones (rules,
workflows, batches and pages on SQLite: about 35 s for two profiles) run with the suite; the
rest (directory, people, audit, re-referral, allocation, matching, duplicates, reports: most
need PostgreSQL, a few minutes in all) only with TRIAGE_TEST_BENCHES=1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.profile_ids import selected_profiles

ROOT = Path(__file__).resolve().parents[2]
ALL_BENCHES = os.environ.get("TRIAGE_TEST_BENCHES") == "1"
every_bench = pytest.mark.skipif(not ALL_BENCHES,
                                 reason="set TRIAGE_TEST_BENCHES=1 to run every bench at "
                                        "its smallest size (minutes; some need PostgreSQL)")

# bench script, its smallest-size arguments, what its output must hold.
QUICK = {
    "rules": (["--decisions", "100", "--referrals", "300", "--workers", "1",
               "--intake-p50-ms", "5"],
              ["engine/oracle p50 =", "simulation over 300 generated referrals",
               "decision/intake ="]),
    "workflows": (["--cases", "2", "--only", "sqlite"],
                  ["POST /cases/<id>/events (a transition)", "sqlite: transition/floor"]),
    "batches": (["--size", "5", "--only", "sqlite"],
                ["one request each", "one JSON batch", "one CSV batch"]),
    "pages": (["--referrals", "40", "--repeat", "1", "--db", "{tmp}/pages.sqlite3"],
              ["front door: check decision (POST)", "case event form", "slowest page median"]),
}
EVERY = {
    "directory": (["--services", "20", "--requests", "2", "--only", "sqlite"],
                  ["sqlite: feed page 1", "sqlite: directory search"]),
    "people": (["--people", "200", "--repeat", "1"],
               ["search: misspelt name", "family page (20 referrals)"]),
    "audit": (["--events", "2000", "--notifications", "300", "--people", "200", "--repeat",
               "1"], ["GET /api/v1/notifications/unread-count", "mark all read:"]),
    "re_referral": (["--intakes", "4", "--rounds", "4"], ["on / off:", "the family read alone"]),
    "allocation": (["--cases", "2000", "--repeat", "3"],
                   ["allocation count (one unit", "ratio unit/page"]),
    "matching": (["--sizes", "1000", "--probes", "16", "--intake-size", "0"],
                 ["find_candidates p50"]),
    # The intake part: history loaded, the first timer tick waited for, one round each.
    "matching intake": (["--sizes", "1000", "--probes", "16", "--history", "40",
                         "--intake-requests", "48", "--intake-rounds", "1"],
                        ["40 referrals of the last five years", "intake/floor = ",
                         "named someone not known exactly (each searched and scored)",
                         "CPU a request, floor/intake = "]),
    "duplicates": (["--sizes", "1000"], ["precision", "recall"]),
    "reports": (["--postgres", "--referrals", "400", "--repeat", "1"],
                ["recount (the hourly sweep)", "worst p95 of any report"]),
}


def run_bench(name: str, args: list[str], profile: str, tmp_path: Path) -> str:
    """Run bench/<name's first word>.py with `args` on `profile`; what it printed."""
    env = {**os.environ, "TRIAGE_PROFILE": profile}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name.split()[0]}.py"),
         *(a.format(tmp=tmp_path) for a in args)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, (f"bench/{name}.py on {profile} exited {done.returncode}:\n"
                                  f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def run_and_check(table: dict, name: str, profile: str, tmp_path: Path) -> str:
    """Run the bench with its row's arguments; every text its row names must be printed."""
    args, expected = table[name]
    out = run_bench(name, args, profile, tmp_path)
    for text in expected:
        assert text in out, (name, profile, text, out[-2000:])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("profile", selected_profiles())
@pytest.mark.parametrize("name", sorted(QUICK))
def test_quick_bench_runs_on_the_profile_and_prints_its_figures(name, profile, tmp_path):
    out = run_and_check(QUICK, name, profile, tmp_path)
    if name == "rules":
        assert f"profile {profile}," in out
    if name == "pages":  # the hub pages when the profile has a meeting, else a note
        import workflows
        from config.profile import load_profile

        held = workflows.load_pathways(load_profile(profile)).data.meeting_pathways
        assert ("hub meeting pack" in out) == bool(held), out[-2000:]
        assert (f"profile {profile} has no meeting" in out) == (not held), out[-2000:]


@every_bench
@pytest.mark.slow
@pytest.mark.parametrize("profile", selected_profiles())
@pytest.mark.parametrize("name", sorted(EVERY))
def test_every_bench_runs_on_the_profile_and_prints_its_figures(name, profile, tmp_path):
    run_and_check(EVERY, name, profile, tmp_path)


def test_a_profile_without_a_rules_baseline_is_named_not_a_traceback(
        tmp_path, monkeypatch, capsys):
    """--check with no recorded baseline for the profile says which file is missing and how
    to record one, and fails (the default profile's is bench/baselines/rules.json)."""
    import importlib.util

    import rules
    from config.profile import load_profile

    spec = importlib.util.spec_from_file_location("bench_rules", ROOT / "bench" / "rules.py")
    bench_rules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_rules)
    assert bench_rules.BASELINE.name == (
        "rules.json" if bench_rules.default_profile() == bench_rules.PROFILE
        else f"rules-{bench_rules.PROFILE}.json")
    monkeypatch.setattr(bench_rules, "BASELINE", ROOT / "bench" / "baselines" / "rules-none.json")
    profile = load_profile(selected_profiles()[0])
    assert bench_rules.run_check(profile, rules.load(profile)) == 1
    out = capsys.readouterr().out
    assert f"no baseline for profile {profile.id}: bench/baselines/rules-none.json" in out
    assert f"TRIAGE_PROFILE={profile.id} bench/rules.py --record" in out
