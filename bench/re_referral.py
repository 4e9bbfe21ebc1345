"""What the re-referral check costs at intake: in-process intakes on a throwaway PostgreSQL
database, in rounds with the check off (front_door.re_referral_months absent) and on,
alternating off, on, on, off..., half of each round's referrals for a family already known
(the only ones the check reads for); then the read intake makes for a known person alone
(known_family: the household, the re-referral check and the open family-support case).
Prints ms per intake (wall and this process's CPU) and ratios.

    .venv/bin/python bench/re_referral.py [--intakes 500] [--rounds 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    example_body,
    is_adult_alone,
    migrated_app,
    throwaway_postgres,
)

# An everyday adult referral of the profile (one adult, some needs).
ADULT = example_body(is_adult_alone, "one adult with some needs", channel="staff")


def _body(n: int) -> dict:
    """The profile's everyday adult; the same n is the same person."""
    person = {**ADULT["people"][0], "ref": "a1", "given_name": f"Sam{n}", "family_name": "Hale"}
    return {**ADULT, "referrer": {"organisation": "Front door", "name": "A"},
            "people": [person]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--intakes", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=8, help="a multiple of 4")
    args = parser.parse_args()
    from sqlmodel import select

    from triage.models import Person
    from triage.models.base import utcnow
    from triage.services.accounts import users
    from triage.services.referrals import intake
    from triage.services.referrals.known_family import known_family
    from triage.statements import Row

    with throwaway_postgres() as url:
        app = migrated_app(url)
        rt = app.extensions["triage"]
        user = users.create_user(rt.db, email="fd@bench.example", role="front_door")
        base = rt.profile
        for i in range(50):  # warm-up
            intake.submit_referral(rt, user=user, body=_body(10**6 + i))
        results: dict[int | None, list[tuple[float, float]]] = {None: [], 12: []}
        for r in range(args.rounds):
            # off, on, on, off...: neither setting always runs on the larger tables
            months = None if r % 4 in (0, 3) else 12
            rt.profile = replace(base, front_door=replace(base.front_door,
                                                          re_referral_months=months))
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(args.intakes):
                intake.submit_referral(rt, user=user, body=_body(r * 10**5 + i // 2))
            results[months].append(((time.perf_counter() - wall) / args.intakes * 1000,
                                    (time.process_time() - cpu) / args.intakes * 1000))
        with rt.db.reader() as session:
            ids = list(session.exec(select(Person.id).limit(200)).all())
            wall = time.perf_counter()
            for i in range(2000):  # what intake reads for a known person, check included
                known_family(session, postcode=ADULT["postcode"],
                             found=[Row(id=ids[i % len(ids)])], now=utcnow(), re_referral_months=12,
                             services=rt.profile.family_support_services)
            alone = (time.perf_counter() - wall) / 2000 * 1000
        rt.relay.stop()
        rt.db.dispose()
    off, on = ([statistics.median(x[k] for x in results[m]) for k in (0, 1)]
               for m in (None, 12))
    print(f"check off: {off[0]:.2f} ms wall, {off[1]:.2f} ms CPU per intake (median round)")
    print(f"check on:  {on[0]:.2f} ms wall, {on[1]:.2f} ms CPU per intake (median round)")
    print(f"on / off:  wall {on[0] / off[0]:.2f}, CPU {on[1] / off[1]:.2f}")
    print(f"the family read alone (household, re-referral, open family-support case), one "
          f"known person: {alone:.3f} ms")


if __name__ == "__main__":
    main()
