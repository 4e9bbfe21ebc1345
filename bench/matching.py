"""Candidate search (find_candidates) at 10k, 100k and 1M people on PostgreSQL, and intake
throughput beside the floor in the same run.

Targets (issue 13): find_candidates p95 <= 25 ms at 1M people and <= 2x its 10k figure;
intake >= 0.45 of the floor.

Loading, per size, into a throwaway database (dropped afterwards): families of one to four
people bulk-loaded with COPY, each household at one postcode (30,000 units), sharing a
surname drawn from a long-tailed list (Smith about 1.2% of people, as in England; a few
hundred common surnames, then thousands of rarer ones), given names from a hundred common
ones, children born 2005-2024 and parents 1955-2000 (siblings and the odd twin: the hard
negatives), a mobile for most adults and an email for some. Every key is computed by the
functions intake uses (triage.services.people.keys); indexes are built after the COPY, then
VACUUM ANALYZE (what autovacuum does after a load; here it cannot start mid-timing).

Probes: --probes known people, each asked for as a referral would describe them: exactly, a
typo in the given or family name, names swapped, moved house, a date of birth one digit out
or day and month swapped, no date of birth, with or without the phone; a third from the ten
commonest surnames. Untimed once (warm caches), then timed in three passes, the figures being
the pass with the median p95: p50/p95/max, the mean number of candidates banded, and recall
(the true person among them at `possible` or better).

Intake (--intake-size, the largest size by default): bench/intake.py's alternating rounds of
the real HTTP intake (gunicorn) and its one-row floor, each referral about a person not known
exactly (`new_people`: a common given name, a family name drawn as the loaded people's were, a
date of birth and postcode unit among theirs), so every one runs the candidate search over the
loaded people and scores what it finds (a partner's referral: the pairs are queued for the
front door); with --intake-known a fraction instead refers again someone referred before
(known exactly: their family is read, nobody is searched for; nationally 22% of referrals
are re-referrals within a year). Besides the median round's throughput and latency it prints
the CPU a request cost in the servers, PostgreSQL and the load generator (bench/intake.py reads
/proc), and the floor's total over the intake's. After an untimed warm-up of a round's
length (after one of a fifth, the first round cost 0.3-0.4 ms more CPU a referral in both
the server and PostgreSQL than the next two), on the database holding those people
and, first, --history referrals of the last five years (bench/pages.py's loader: 400 made by
the real services, cloned with COPY, each with its own family; about 90% of their cases
closed, as in a council). A council with a million people on record has years of referrals
and cases; an intake into empty referral and case tables is another regime: each statement's
plan is made for a table of a few rows (a scan of all of it, which the run's own referrals
then lengthen) and remade as the tables grow tenfold from round to round.

    .venv/bin/python bench/matching.py [--sizes 10000,100000,1000000] [--probes 300]
                                       [--intake-requests 800] [--intake-size 0 (none)]
                                       [--history 100000] [--intake-known 0.22]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(1, str(BENCH))

from bench.common import BODY, PROFILE, postcode_area, synthetic_postcode, throwaway_postgres  # noqa: E402
from bench.people import GIVEN, PROFILE_ID, SURNAMES  # noqa: E402

P95_TARGET_MS = 25.0
INTAKE_TARGET = 0.45
POSTCODE_UNITS = 30_000
KINDS = ("exact", "typo_given", "typo_family", "swapped", "moved_house", "dob_one_digit",
         "dob_swapped", "no_dob")


@dataclass(frozen=True)
class Known:
    id: int
    given: str
    family: str
    born: date
    postcode: str
    phone: str | None


def _surnames(rng: random.Random) -> tuple[list[str], list[float]]:
    """The common surnames (Smith first) then 5,000 made-up rarer ones; weights ~ 1/rank^0.75,
    which gives Smith about 1.2% of people."""
    syllables = ["ash", "bar", "cal", "dun", "el", "fen", "gar", "hol", "ing", "kin", "lov",
                 "mor", "nor", "ow", "pen", "ros", "sel", "tor", "ward", "wick", "ley", "ton",
                 "by", "son", "ham", "ford", "well", "more", "field", "dale"]
    rare = set()
    while len(rare) < 5000:
        rare.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).title())
    names = SURNAMES + sorted(rare - set(SURNAMES))
    return names, [1 / (i + 1) ** 0.75 for i in range(len(names))]


def _phone(rng: random.Random) -> str:
    return f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}"


def _world(rng: random.Random) -> tuple[list[str], list[float], list[str]]:
    """The surnames, their cumulative weights and the postcode units people are loaded with."""
    surnames, weights = _surnames(rng)
    area = postcode_area()
    return (surnames, list(accumulate(weights)),
            [synthetic_postcode(rng, area) for _ in range(POSTCODE_UNITS)])


def new_people(seed: int = 13, known: float = 0.0) -> Callable[[int], dict]:
    """Request bodies for the intake, each about a person not known exactly: a given name
    from the common ones, a family name drawn as the loaded people's were (Smith about 1.2%),
    a date of birth in the loaded parents' years (1955-2000) and a postcode unit of theirs, so
    each referral's candidate search meets the loaded population as a council's would (about
    one in two hundred happens to name a loaded person exactly). With `known`, that fraction
    of requests instead refers again someone an earlier request (at least 200 before) named:
    a person known exactly, whose family is read and who is not searched for."""
    surnames, cumulative, units = _world(random.Random(seed))

    def body(n: int) -> dict:
        rng = random.Random(n)
        if n >= 200 and rng.random() < known:
            return body(rng.randrange(n - 199))
        made = json.loads(json.dumps(BODY))
        made["postcode"] = rng.choice(units)
        made["people"][0].update(
            given_name=rng.choice(GIVEN),
            family_name=rng.choices(surnames, cum_weights=cumulative)[0],
            date_of_birth=(date(1955, 1, 1) + timedelta(days=rng.randrange(46 * 365))
                           ).isoformat())
        return made

    return body


def bulk_load(url: str, people: int, probes: int, seed: int = 13) -> list[Known]:
    """Load `people` in families; return `probes` of them (a third with the commonest
    surnames) as they were stored."""
    from functools import lru_cache

    from triage.services.people.keys import contact_keys, name_keys

    names_of = lru_cache(maxsize=None)(name_keys)  # a few thousand distinct names
    rng = random.Random(seed)
    surnames, cumulative, units = _world(rng)
    common = set(surnames[:10])
    homes: list[tuple[str, str, int]] = []
    total = 0
    while total < people:
        size = min(rng.choice((1, 2, 2, 3, 3, 4)), people - total)
        homes.append((rng.choice(units), rng.choices(surnames, cum_weights=cumulative)[0], size))
        total += size
    wanted_common = set(rng.sample(range(people), probes * 4))
    picked_common: list[Known] = []
    picked_any: list[Known] = []
    member_of = array("i")
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        # Indexes are built once after loading (as a restore does), not row by row.
        cur.execute("SELECT indexdef, indexname FROM pg_indexes WHERE tablename IN "
                    "('person', 'household', 'household_member') "
                    "AND indexname NOT LIKE '%%pkey'")
        indexes = cur.fetchall()
        for _, name in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        with cur.copy("COPY household (id, postcode, sector, created_at, profile_id) "
                      "FROM STDIN") as copy:
            for h, (unit, _, _) in enumerate(homes, start=1):
                copy.write_row((h, unit, unit[:-2], "2026-01-01", PROFILE_ID))
        columns = ("id", "given_name", "family_name", "given_name_key", "family_name_key",
                   "given_name_sound", "family_name_sound", "date_of_birth", "birth_year",
                   "phone", "phone_key", "phone_hash", "email", "email_hash", "created_at",
                   "profile_id")
        pid = 0
        with cur.copy(f"COPY person ({', '.join(columns)}) FROM STDIN") as copy:
            for h, (unit, surname, size) in enumerate(homes, start=1):
                twins = size >= 3 and rng.random() < 0.05
                child_born = date(2005, 1, 1) + timedelta(days=rng.randint(0, 7300))
                for k in range(size):
                    pid += 1
                    adult = k == 0 or (k == 1 and size > 2)
                    family = surname if rng.random() > 0.1 else \
                        rng.choices(surnames, cum_weights=cumulative)[0]
                    given = rng.choice(GIVEN)
                    if adult:
                        born = date(1955, 1, 1) + timedelta(days=rng.randint(0, 16000))
                    elif twins and k == size - 1:
                        born = child_born
                    else:
                        child_born = date(2005, 1, 1) + timedelta(days=rng.randint(0, 7300))
                        born = child_born
                    phone = _phone(rng) if rng.random() < (0.7 if adult else 0.1) else None
                    email = f"{given.lower()}.{pid}@example.org" if adult and \
                        rng.random() < 0.4 else None
                    keys = {**names_of(given, family), **contact_keys(phone, email)}
                    keys["birth_year"] = born.year
                    copy.write_row((pid, given, family, keys["given_name_key"],
                                    keys["family_name_key"], keys["given_name_sound"],
                                    keys["family_name_sound"], born, keys["birth_year"],
                                    phone, keys["phone_key"], keys["phone_hash"], email,
                                    keys["email_hash"], "2026-01-01", PROFILE_ID))
                    member_of.append(h)
                    if pid - 1 in wanted_common:
                        known = Known(pid, given, family, born, unit, phone)
                        if family in common and len(picked_common) < probes // 3:
                            picked_common.append(known)
                        elif len(picked_any) < probes - probes // 3:
                            picked_any.append(known)
        with cur.copy("COPY household_member (household_id, person_id, since) FROM STDIN"
                      ) as copy:
            for i, h in enumerate(member_of, start=1):
                copy.write_row((h, i, "2026-01-01"))
        raw.commit()
        cur.execute("SET maintenance_work_mem = '256MB'")
        for definition, _ in indexes:
            cur.execute(definition)
        raw.commit()
        for table in ("person", "household"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
        raw.commit()
        # As autovacuum leaves a table after a load (PostgreSQL 13+ vacuums after inserts too):
        # statistics, and the visibility map that lets an index answer without the heap. Run
        # here, it cannot start in the middle of the timings instead.
        raw.driver_connection.autocommit = True
        cur.execute("VACUUM ANALYZE")
        raw.driver_connection.autocommit = False
    finally:
        raw.close()
        engine.dispose()
    return picked_common + picked_any


def _typo(rng: random.Random, word: str) -> str:
    """One keyboard slip: a letter dropped, doubled, or two neighbours swapped."""
    if len(word) < 4:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 1)
    how = rng.randrange(3)
    if how == 0:
        return word[:i] + word[i + 1:]
    if how == 1:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _one_digit(rng: random.Random, born: date) -> date:
    for _ in range(20):
        digits = list(f"{born:%Y%m%d}")
        i = rng.choice((3, 5, 7))
        digits[i] = str((int(digits[i]) + rng.choice((1, 9))) % 10)
        try:
            return date(int("".join(digits[:4])), int("".join(digits[4:6])),
                        int("".join(digits[6:])))
        except ValueError:
            continue
    return born + timedelta(days=1)


def probe_records(known: list[Known], seed: int = 17):
    """Each known person as a referral might describe them; (kind, record, true id)."""
    from triage.linkage import Record

    rng = random.Random(seed)
    area = postcode_area()
    out = []
    for n, k in enumerate(known):
        kind = KINDS[n % len(KINDS)]
        base = Record(given_name=k.given, family_name=k.family, date_of_birth=k.born,
                      postcode=k.postcode, phone=k.phone if rng.random() < 0.5 else None)
        record = {
            "exact": base,
            "typo_given": replace(base, given_name=_typo(rng, k.given)),
            "typo_family": replace(base, family_name=_typo(rng, k.family)),
            "swapped": replace(base, given_name=k.family, family_name=k.given),
            "moved_house": replace(base, postcode=f"{area}{rng.randint(1, 67)} 9ZZ",
                                   phone=None),
            "dob_one_digit": replace(base, date_of_birth=_one_digit(rng, k.born)),
            "dob_swapped": replace(base, date_of_birth=k.born.replace(
                month=k.born.day, day=k.born.month) if k.born.day <= 12 else k.born),
            "no_dob": replace(base, date_of_birth=None),
        }[kind]
        out.append((kind, record, k.id))
    return out


def time_candidates(url: str, probes, matching, passes: int = 3) -> dict:
    """Every probe once untimed (caches, pool, statement cache), then `passes` timed passes
    over them all: the figures are the pass with the median p95, so a slow patch of a shared
    machine during one pass does not decide a size's figure."""
    from sqlmodel import Session

    from triage.services.people.candidates import find_candidates

    engine = create_engine(url)
    try:
        for _, record, _ in probes:
            with Session(engine) as session:
                find_candidates(session, record, matching, profile_id=PROFILE_ID)
        runs = sorted((_timed_pass(engine, probes, matching, find_candidates)
                       for _ in range(passes)), key=lambda r: r["p95"])
    finally:
        engine.dispose()
    return {**runs[len(runs) // 2], "passes": [r["p95"] for r in runs]}


def _timed_pass(engine, probes, matching, find_candidates) -> dict:
    from sqlmodel import Session

    times, cpus, counts, found, missed = [], [], [], 0, {}
    by_kind: dict[str, list[float]] = {}
    for kind, record, true_id in probes:
        with Session(engine) as session:
            started, cpu = time.perf_counter(), time.process_time()
            candidates = find_candidates(session, record, matching, profile_id=PROFILE_ID)
            times.append((time.perf_counter() - started) * 1000)
            by_kind.setdefault(kind, []).append(times[-1])
            cpus.append((time.process_time() - cpu) * 1000)
        counts.append(len(candidates))
        if any(c.person.id == true_id for c in candidates):
            found += 1
        else:
            missed[kind] = missed.get(kind, 0) + 1
    times.sort()
    return {"p50": statistics.median(times), "p95": _p95(times),
            "max": times[-1], "cpu": statistics.median(cpus),
            "candidates": statistics.mean(counts),
            "recall": found / len(probes), "missed": missed,
            "kinds": {kind: _p95(sorted(t)) for kind, t in by_kind.items()}}


def _p95(times: list[float]) -> float:
    return times[max(int(len(times) * 0.95) - 1, 0)]


def explain(url: str, record, matching) -> str:
    """EXPLAIN ANALYZE of the candidate statement for one probe (--explain)."""
    from triage.services.people.candidates import candidate_statement, shape_of

    engine = create_engine(url)
    try:
        shape, params = shape_of(record, matching, trigrams=True, profile_id=PROFILE_ID)
        compiled = candidate_statement(shape).compile(engine)
        with engine.connect() as conn:
            conn.execute(text("SELECT set_config('pg_trgm.similarity_threshold', :t, false)"),
                         {"t": str(matching.blocking.trigram_similarity)})
            return "\n".join(r[0] for r in conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + compiled.string, {**compiled.params, **params}))
    finally:
        engine.dispose()


def intake_scored(url: str, after: int) -> str:
    """What the intake's referrals (ids above `after`) did: how many named someone not known
    exactly (each searched for candidates and scored) and how many pairs they queued."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            referrals, new, queued = conn.execute(text(
                "SELECT (SELECT count(*) FROM referral WHERE id > :after), "
                "(SELECT count(DISTINCT referral_id) FROM referral_person "
                " WHERE referral_id > :after AND NOT matched), "
                "(SELECT count(*) FROM match_review WHERE referral_id > :after)"),
                {"after": after}).one()
    finally:
        engine.dispose()
    return (f"{new:,} of its {referrals:,} referrals named someone not known exactly (each "
            f"searched and scored); {queued:,} candidate pairs queued for the front door")


def last_referral(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT coalesce(max(id), 0) FROM referral")).scalar_one()
    finally:
        engine.dispose()


def load_history(url: str, referrals: int) -> float:
    """--history referrals over the last five years (bench/pages.py's `closed` shape), as a
    running service would have left them: their notifications delivered and the overdue
    open cases escalated by its sweeps (how many of each is printed). The seconds it took."""
    import pages  # bench/pages.py

    from triage.relay import InProcessRelay
    from triage.services.cases.escalation import escalate_overdue

    started = time.perf_counter()
    _, rt = pages.build_postgres(url, referrals, "closed")
    try:
        rt.relay = relay = InProcessRelay(rt, synchronous=True)
        escalated = delivered = 0
        while batch := escalate_overdue(rt):  # a batch a sweep
            escalated += batch
        while batch := relay.sweep():  # the pending messages, 500 at a time
            delivered += batch
        print(f"history as a running service leaves it: {escalated} overdue cases escalated, "
              f"{delivered} pending messages delivered", flush=True)
    finally:
        rt.db.dispose()
    return time.perf_counter() - started


def run_intake(url: str, args) -> dict:
    import intake as intake_bench  # bench/intake.py

    after = last_referral(url)
    result = intake_bench.run_backend("postgres", url, SimpleNamespace(
        requests=args.intake_requests, clients=16, workers=2, threads=4,
        rounds=args.intake_rounds, warmup=args.intake_requests,
        bodies=new_people(known=args.intake_known)))
    return {**result, "scored": intake_scored(url, after)}


def _cpu(used: dict[str, float]) -> str:
    """The CPU a request cost in the median round, where (bench/intake.py reads /proc)."""
    return (f"CPU ms a request: server {used['server']:.2f}, database {used['database']:.2f}, "
            f"load generator {used['client']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="people per run, comma-separated")
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--intake-size", type=int, default=None,
                        help="the size to run the intake at (default the largest; 0: none)")
    parser.add_argument("--intake-requests", type=int, default=800)
    parser.add_argument("--intake-rounds", type=int, default=3)
    parser.add_argument("--intake-known", type=float, default=0.0,
                        help="the fraction of intake referrals about someone referred before "
                             "(known exactly, so not searched for); 0: every one is scored")
    parser.add_argument("--history", type=int, default=100_000,
                        help="referrals of the last five years loaded before the intake runs")
    parser.add_argument("--explain", action="store_true",
                        help="print the plan of a common-surname probe at each size")
    args = parser.parse_args()
    from config.profile import load_profile
    from triage.migrations import upgrade

    sizes = [int(s) for s in args.sizes.split(",") if s]
    intake_size = max(sizes) if args.intake_size is None else args.intake_size
    matching = load_profile(PROFILE).matching
    results, intake, history = {}, None, 0.0
    for size in sizes:
        with throwaway_postgres() as url:
            engine = create_engine(url)
            upgrade(engine)
            engine.dispose()
            started = time.perf_counter()
            known = bulk_load(url, size, args.probes)
            loaded = time.perf_counter() - started
            probes = probe_records(known)
            results[size] = time_candidates(url, probes, matching)
            r = results[size]
            print(f"{size:>9,} people (loaded in {loaded:.0f} s): find_candidates p50 "
                  f"{r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, max {r['max']:.1f} ms "
                  f"(CPU in this process p50 {r['cpu']:.1f} ms); "
                  f"{r['candidates']:.1f} banded candidates a probe; recall "
                  f"{r['recall']:.3f} (missed: {r['missed'] or 'none'}); p95 of each pass "
                  f"{', '.join(f'{x:.1f}' for x in r['passes'])} ms", flush=True)
            if args.explain:
                print(explain(url, probes[0][1], matching))
            if size == intake_size:
                history = load_history(url, args.history) if args.history else 0.0
                intake = run_intake(url, args)
    print(f"\nfind_candidates over {args.probes} probes ({', '.join(KINDS)}; a third with "
          f"the ten commonest surnames), PostgreSQL, {len(sizes)} sizes")
    print(f"{'people':>10}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'CPU ms':>8}{'banded':>8}"
          f"{'recall':>8}   (CPU: this process's, p50; the load average at the end: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for size, r in results.items():
        print(f"{size:>10,}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['max']:>9.1f}{r['cpu']:>8.1f}"
              f"{r['candidates']:>8.1f}{r['recall']:>8.3f}")
    print("p95 ms by kind of probe: " + "; ".join(
        f"{kind} " + " / ".join(f"{r['kinds'][kind]:.1f}" for r in results.values())
        for kind in KINDS) + f" (at {', '.join(f'{s:,}' for s in results)} people)")
    smallest, largest = min(results), max(results)
    if largest != smallest:
        ratio = results[largest]["p95"] / results[smallest]["p95"]
        print(f"p95 at {largest:,} / p95 at {smallest:,} = {ratio:.2f} (target <= 2)")
    if largest >= 1_000_000:
        p95 = results[largest]["p95"]
        print(f"p95 at {largest:,}: {p95:.1f} ms (target <= {P95_TARGET_MS:.0f} ms): "
              f"{'met' if p95 <= P95_TARGET_MS else 'NOT met'}")
    if intake:
        floor, real = intake["floor"], intake["intake"]
        ratios = intake["ratios"]
        print(f"\nintake at {intake_size:,} people and {args.history:,} referrals of the last "
              f"five years (loaded in {history:.0f} s), {args.intake_rounds} alternating rounds of "
              f"{args.intake_requests} (gunicorn 2x4, 16 clients), "
              f"{args.intake_known:.0%} of them referring again someone referred before; "
              f"the warm-up and rounds: {intake['scored']}")
        cpu = {label: intake[label]["cpu_ms"] for label in ("floor", "intake")}
        print(f"floor  {floor['rps']:.0f}/s p50 {floor['p50_ms']:.1f} ms p99 "
              f"{floor['p99_ms']:.1f} ms; {_cpu(cpu['floor'])}")
        print(f"intake {real['rps']:.0f}/s p50 {real['p50_ms']:.1f} ms p99 {real['p99_ms']:.1f} ms"
              f" non-201 {sum(real['failures'].values())}; {_cpu(cpu['intake'])}")
        print(f"intake/floor = {ratios[len(ratios) // 2]:.2f} (rounds: "
              f"{', '.join(f'{x:.2f}' for x in ratios)}; target >= {INTAKE_TARGET}); CPU a "
              f"request, floor/intake = "
              f"{sum(cpu['floor'].values()) / sum(cpu['intake'].values()):.2f}")


if __name__ == "__main__":
    main()
