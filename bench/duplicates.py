"""The nightly duplicate finder on N people in PostgreSQL (target: under 10 minutes for
1,000,000 on a 2-core machine), with its precision and recall against planted duplicates.

Loading (COPY, as bench/people.py): families of one to four people (each their own given
name) sharing a family name, a
household postcode and often a phone; names drawn from a few hundred common given names and
surnames plus a long tail of rarer surnames; then a second record for about 4% of people, as a
second referral would make it, in a new household, each with one or two of: a typo in the given
or family name, a nickname, moved house (a new postcode), moved round the corner (the same
sector), day and month of birth swapped, one digit of the date of birth wrong, no phone.
Timing: `find_duplicates` (reading, training, predicting, queueing) from start to end.

    .venv/bin/python bench/duplicates.py [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import migrated_app, postcode_area, synthetic_postcode, throwaway_postgres  # noqa: E402
from bench.people import GIVEN, PROFILE_ID, SURNAMES  # noqa: E402


def _words(text: str) -> list[str]:
    return text.split()


TARGET_SECONDS = 600
# Synthetic postcodes are in the profile's main postcode area.
AREA = postcode_area()
DUPLICATE_SHARE = 0.04
LETTERS = "abcdefghijklmnopqrstuvwxyz"
NICKNAMES = {"William": "Bill", "Thomas": "Tom", "James": "Jim", "Daniel": "Dan",
             "Matthew": "Matt", "Michael": "Mike", "Robert": "Bob", "Richard": "Rick",
             "Christopher": "Chris", "Rebecca": "Becky", "Charlotte": "Lottie",
             "Margaret": "Maggie", "Henry": "Harry", "Samuel": "Sam", "Jessica": "Jess"}
STEMS = _words("Ash Black Brad Brook Cald Cart Chad Chest Cran Dun Elm Fair Farn Green Hald Hart "
         "Hey Holl Kirk Lang Lind Marsh Mill Mor New Oak Pem Pick Red Ridge Rose Roth Shel "
         "Stan Stock Thorn Tyle Wake Wal War Weath Whit Wind Wood Wor")
ENDINGS = _words("ley ton ford worth by ham field wood well more cott den hurst combe wick shaw "
           "stone bury thorpe")


def _typo(rng: random.Random, name: str) -> str:
    """One slip of the keyboard: a letter changed, dropped, doubled or two swapped."""
    if len(name) < 4:
        return name + rng.choice(LETTERS)
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return name[:i] + rng.choice(LETTERS) + name[i + 1:]
    if kind == 1:
        return name[:i] + name[i + 1:]
    if kind == 2:
        return name[:i] + name[i] + name[i:]
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def _postcode(rng: random.Random) -> str:
    return synthetic_postcode(rng, AREA)


def _duplicate(rng: random.Random, person: dict) -> dict:
    """A second record of this person, as another referral might give it."""
    dup = dict(person)
    changes = rng.sample(["given_typo", "family_typo", "nickname", "moved", "sector",
                          "swapped", "digit", "no_phone", "none"], rng.choice((1, 1, 2)))
    for change in changes:
        if change == "given_typo":
            dup["given"] = _typo(rng, dup["given"])
        elif change == "family_typo":
            dup["family"] = _typo(rng, dup["family"])
        elif change == "nickname" and dup["given"] in NICKNAMES:
            dup["given"] = NICKNAMES[dup["given"]]
        elif change == "moved":
            dup["postcode"] = _postcode(rng)
        elif change == "sector":
            dup["postcode"] = dup["postcode"][:-2] + rng.choice("ABDEFG") + rng.choice("HJLNP")
        elif change == "swapped" and dup["dob"].day <= 12 and dup["dob"].day != dup["dob"].month:
            dup["dob"] = dup["dob"].replace(day=dup["dob"].month, month=dup["dob"].day)
        elif change == "digit":
            day = dup["dob"].day
            dup["dob"] = dup["dob"].replace(day=day + 1 if day < 28 else day - 1)
        elif change == "no_phone":
            dup["phone"] = None
    return dup


def synthetic_people(size: int, seed: int = 13) -> tuple[list[dict], list[tuple[int, int]]]:
    """`size` person records (ids from 1) in families, about 4% of them second records of
    another; and the planted pairs (lower id first)."""
    rng = random.Random(seed)
    tail = [s + e for s in STEMS for e in ENDINGS]
    weights = [1 / (i + 1) ** 0.6 for i in range(len(SURNAMES))]
    given_weights = [1 / (i + 1) ** 0.4 for i in range(len(GIVEN))]
    given = GIVEN + list(NICKNAMES)
    given_weights += [given_weights[len(given_weights) // 2]] * len(NICKNAMES)
    people: list[dict] = []
    originals = int(size / (1 + DUPLICATE_SHARE))
    household = 0
    while len(people) < originals:
        household += 1
        family = rng.choices(SURNAMES, weights)[0] if rng.random() < 0.6 else rng.choice(tail)
        postcode = _postcode(rng)
        phone = f"07{rng.randint(100, 999)}{rng.randint(100000, 999999)}" \
            if rng.random() < 0.5 else None
        parent = date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))
        names: set[str] = set()
        for j in range(rng.randint(1, 4)):
            dob = parent if j == 0 else \
                date(2005, 1, 1) + timedelta(days=rng.randint(0, 7000))
            name = rng.choices(given, given_weights)[0]
            if name in names:  # a family seldom gives two of its members one name
                continue
            names.add(name)
            people.append({"id": len(people) + 1, "household": household, "given": name,
                           "family": family, "dob": dob, "postcode": postcode, "phone": phone})
    people = people[:originals]
    planted = []
    for original in rng.sample(people, size - originals):
        household += 1
        dup = _duplicate(rng, original)
        dup["id"], dup["household"] = len(people) + 1, household
        people.append(dup)
        planted.append((original["id"], dup["id"]))
    return people, planted


def bulk_load(url: str, people: list[dict]) -> None:
    from triage.services.people.names import name_key, sound_key

    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        homes = {}
        for p in people:
            homes.setdefault(p["household"], p["postcode"])
        with cur.copy("COPY household (id, postcode, sector, created_at, profile_id) "
                      "FROM STDIN") as copy:
            for household, postcode in homes.items():
                copy.write_row((household, postcode, postcode[:-2], "2026-01-01", PROFILE_ID))
        with cur.copy("COPY person (id, given_name, family_name, given_name_key, "
                      "family_name_key, given_name_sound, family_name_sound, date_of_birth, "
                      "phone, phone_key, created_at, profile_id) FROM STDIN") as copy:
            for p in people:
                g, f = p["given"], p["family"]
                copy.write_row((p["id"], g, f, name_key(g), name_key(f), sound_key(g),
                                sound_key(f), p["dob"], p["phone"], p["phone"], "2026-01-01",
                                PROFILE_ID))
        with cur.copy("COPY household_member (household_id, person_id, since) FROM STDIN"
                      ) as copy:
            for p in people:
                copy.write_row((p["household"], p["id"], "2026-01-01"))
        raw.commit()
        for table in ("person", "household"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def run(size: int) -> None:
    from sqlmodel import select

    from triage.models import MatchReview
    from triage.services.people.duplicates import find_duplicates

    people, planted = synthetic_people(size)
    with throwaway_postgres() as url:
        app = migrated_app(url)
        rt = app.extensions["triage"]
        started = time.perf_counter()
        bulk_load(url, people)
        loaded = time.perf_counter() - started
        del people
        started = time.perf_counter()
        result = find_duplicates(rt)
        took = time.perf_counter() - started
        with rt.db.reader() as session:
            found = set(session.exec(select(MatchReview.person_id, MatchReview.other_person_id)))
            bands = session.exec(text("SELECT band, count(*) FROM match_review GROUP BY band"
                                      " ORDER BY band")).all()
        rt.db.dispose()
    truth = set(planted)
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    print(f"{size:>9} people  loaded in {loaded:6.1f} s  finder {took:7.1f} s  "
          f"pairs {result.pairs:>6}  queued {result.queued:>6}  planted {len(truth):>6}  "
          f"precision {precision:.3f}  recall {recall:.3f}  "
          f"{'under' if took < TARGET_SECONDS else 'OVER'} {TARGET_SECONDS // 60} min  "
          f"bands {dict(bands)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="comma-separated numbers of people (e.g. 10000,100000,1000000)")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        run(size)


if __name__ == "__main__":
    main()
