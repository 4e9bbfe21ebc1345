"""What the plain-Python policy oracles share that is not policy: reading a localities CSV,
a postcode's sector, whether someone is a child on a date, and generated dates of birth that
sit on the eighteenth-birthday and 29 February edges. Each oracle's `decide` stays its own."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path


def load_places(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["postcode_sector"].strip().upper(): row for row in csv.DictReader(fh)}


def sector_of(postcode: str) -> str | None:
    """'le13 0ab' -> 'LE13 0': the outward code and the first digit of the inward code."""
    compact = "".join(postcode.split()).upper()
    if not 5 <= len(compact) <= 7:
        return None
    outward, inward = compact[:-3], compact[-3:]
    if not (inward[0].isdigit() and inward[1:].isalpha() and inward[1:].isascii()):
        return None
    if not (outward[0].isalpha() and any(c.isdigit() for c in outward) and outward.isalnum()):
        return None
    return f"{outward} {inward[0]}"


def is_child(born: date, on: date) -> bool:
    """Under 18 on the referral date: the eighteenth birthday has not yet come.

    Someone born on 29 February turns 18 on 1 March in a year without one.
    """
    try:
        eighteenth = born.replace(year=born.year + 18)
    except ValueError:
        eighteenth = date(born.year + 18, 3, 1)
    return on < eighteenth


def birth(rng: random.Random, on: date, child: bool) -> date:
    """A date of birth: a child's or an adult's, and now and then on an edge (a day either
    side of the eighteenth birthday, or 29 February)."""
    edge = rng.random()
    if edge < 0.06:  # on, or a day either side of, the eighteenth birthday
        try:
            eighteenth = on.replace(year=on.year - 18)
        except ValueError:  # the referral is on 29 February
            eighteenth = date(on.year - 18, 2, 28)
        return eighteenth + timedelta(days=rng.choice((-1, 0, 1)))
    if edge < 0.09:  # born on 29 February, 17 to 20 years ago
        year = rng.choice([y for y in range(on.year - 20, on.year - 16) if y % 4 == 0])
        return min(date(year, 2, 29), on)
    if child:
        return on - timedelta(days=rng.randrange(0, 18 * 365))
    return on - timedelta(days=rng.randrange(18 * 366, 100 * 365))
