"""The nightly duplicate finder: compares every stored person with the others (Splink on DuckDB,
fields and levels from the profile's matching.yaml) and queues the pairs that may be one
person for staff to check (MatchReview, source `duplicate_finder`). Needs the `linkage` extra;
without it the job says so and does nothing. Only counts are logged, never a person's details.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session, select

from config.matching import DuplicateFinder, Level, MatchingProfile
from triage.linkage import Comparison, band, compare
from triage.models import Household, HouseholdMember, MatchDecision, MatchReview, Person
from triage.services import audit
from triage.services.people import identity

log = logging.getLogger(__name__)

SOURCE = "duplicate_finder"
NOT_INSTALLED = "splink not installed; duplicate finder did nothing"
NOT_CONFIGURED = "the profile has no duplicate_finder; duplicate finder did nothing"
READ_BATCH = 20_000
WRITE_BATCH = 1_000
# Fewer pairs than these and the profile's u (m) stand untrained.
MIN_U_PAIRS = 10_000
MIN_TRAINING_PAIRS = 100
_WORDS = {"given_name": "given name", "family_name": "family name",
          "date_of_birth": "date of birth", "postcode": "postcode", "phone": "phone number",
          "email": "email address"}
_SIMILAR = ("very similar", "similar", "a little similar")
_COLUMNS = ("unique_id", "given_name", "family_name", "given_name_sound", "family_name_sound",
            "given_parts", "family_parts", "given_nick", "date_of_birth", "birth_year",
            "dob_text", "postcode", "postcode_sector", "postcode_district", "phone", "email")


@dataclass
class FinderResult:
    """What one run did, in counts (and why it did nothing, if it did nothing)."""
    people: int = 0
    pairs: int = 0
    queued: int = 0
    skipped: int = 0
    message: str | None = None

    def counts(self) -> dict[str, int]:
        return {"people": self.people, "pairs": self.pairs, "queued": self.queued,
                "skipped": self.skipped}


def load_splink() -> SimpleNamespace:
    """Splink and DuckDB (the `linkage` extra); ImportError when they are not installed."""
    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink import comparison_level_library as cll
    from splink import comparison_library as cl

    return SimpleNamespace(duckdb=duckdb, DuckDBAPI=DuckDBAPI, Linker=Linker,
                           SettingsCreator=SettingsCreator, block_on=block_on, cl=cl, cll=cll)


# --- reading the people -------------------------------------------------------------------

def _live(statement, profile_id: str):
    return statement.where(Person.profile_id == profile_id, Person.anonymised_at.is_(None),
                           Person.merged_into_id.is_(None))


def _postcodes(session: Session, first: int, last: int) -> dict[int, str | None]:
    """Each person's newest household's postcode, for people with ids first..last."""
    rows = session.exec(
        select(HouseholdMember.person_id, Household.postcode)
        .join(Household, Household.id == HouseholdMember.household_id)
        .where(HouseholdMember.person_id >= first, HouseholdMember.person_id <= last)
        .order_by(HouseholdMember.person_id, HouseholdMember.since.desc(),
                  HouseholdMember.household_id.desc()))
    out: dict[int, str | None] = {}
    for person_id, postcode in rows:
        out.setdefault(person_id, postcode)
    return out


def _batches(session: Session, size: int, profile_id: str) -> Iterator[list[tuple]]:
    after = 0
    while True:
        rows = session.exec(_live(select(
            Person.id, Person.given_name, Person.family_name, Person.given_name_key,
            Person.family_name_key, Person.given_name_sound, Person.family_name_sound,
            Person.date_of_birth, Person.phone_key, Person.phone, Person.email), profile_id)
            .where(Person.id > after).order_by(Person.id).limit(size)).all()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _parts(name: str | None) -> str | None:
    parts = sorted(compare.name_parts(name))
    return " ".join(parts) if parts else None


def read_people(session: Session, matching: MatchingProfile, *, profile_id: str,
                batch: int = READ_BATCH) -> dict[str, list[Any]]:
    """The people recorded under this profile to compare, column by column (as the finder's
    table has them): folded names, sound keys, name parts, nickname groups, date of birth,
    the newest household's postcode (unit, sector, district), phone and email keys.
    Anonymised and merged-away people, and every other profile's, are left out."""
    groups: dict[str, list[str]] = {}
    for i, group in enumerate(matching.nicknames):
        for name in group:
            groups.setdefault(name, []).append(str(i))
    table: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
    # Many people share a postcode or a name: each is parsed once.
    postcode_parts = functools.lru_cache(maxsize=200_000)(compare.postcode_parts)
    parts = functools.lru_cache(maxsize=200_000)(_parts)
    for rows in _batches(session, batch, profile_id):
        homes = _postcodes(session, rows[0][0], rows[-1][0])
        for (pid, given, family, given_key, family_key, given_sound, family_sound, dob,
             phone_key, phone, email) in rows:
            given_key = given_key or compare.fold_name(given)
            family_key = family_key or compare.fold_name(family)
            postcode = postcode_parts(homes.get(pid))
            values = (pid, given_key, family_key, given_sound, family_sound, parts(given),
                      parts(family), " ".join(groups.get(given_key or "", ())) or None, dob,
                      dob.year if dob else None, f"{dob:%Y%m%d}" if dob else None,
                      *(postcode or (None, None, None)),
                      compare.phone_key(phone_key or phone), compare.email_key(email))
            for column, value in zip(_COLUMNS, values, strict=True):
                table[column].append(value)
    return table


# --- the Splink model ---------------------------------------------------------------------

def _name_levels(field: str, levels: tuple[Level, ...]) -> list[tuple[Level, str]]:
    col, other = field, "family_name" if field == "given_name" else "given_name"
    parts, nick = f"{field.split('_')[0]}_parts", "given_nick"
    out = []
    for level in levels:
        sql = {
            "same": f"{col}_l = {col}_r",
            "swapped": f"{col}_l = {other}_r AND {other}_l = {col}_r",
            "nickname": f"len(list_intersect(string_split({nick}_l, ' '), "
                        f"string_split({nick}_r, ' '))) > 0",
            "one_part": f"len(string_split({parts}_l, ' ')) <> len(string_split({parts}_r, ' '))"
                        f" AND (list_has_all(string_split({parts}_l, ' '), "
                        f"string_split({parts}_r, ' ')) OR list_has_all("
                        f"string_split({parts}_r, ' '), string_split({parts}_l, ' ')))",
            "similar": f"jaro_winkler_similarity({col}_l, {col}_r) >= {level.at_least}",
        }.get(level.code)
        out.append((level, sql or "ELSE"))
    return out


def _date_levels(levels: tuple[Level, ...]) -> list[tuple[Level, str]]:
    sql = {"same": "date_of_birth_l = date_of_birth_r",
           "day_month_swapped": "year(date_of_birth_l) = year(date_of_birth_r) AND "
                                "day(date_of_birth_l) = month(date_of_birth_r) AND "
                                "month(date_of_birth_l) = day(date_of_birth_r)",
           "one_digit": "hamming(dob_text_l, dob_text_r) = 1",
           "within_year": "abs(date_diff('day', date_of_birth_l, date_of_birth_r)) <= 365"}
    return [(lv, sql.get(lv.code, "ELSE")) for lv in levels]


def _postcode_levels(levels: tuple[Level, ...]) -> list[tuple[Level, str]]:
    column = {"same": "postcode", "sector": "postcode_sector", "district": "postcode_district"}
    return [(lv, f"{column[lv.code]}_l = {column[lv.code]}_r" if lv.code in column else "ELSE")
            for lv in levels]


def _value_levels(field: str, levels: tuple[Level, ...]) -> list[tuple[Level, str]]:
    return [(lv, f"{field}_l = {field}_r" if lv.code == "same" else "ELSE") for lv in levels]


def field_levels(matching: MatchingProfile) -> dict[str, list[tuple[Level, str]]]:
    """Each field's levels as the profile orders them, with the SQL condition for each."""
    f = matching.fields
    return {"given_name": _name_levels("given_name", f["given_name"]),
            "family_name": _name_levels("family_name", f["family_name"]),
            "date_of_birth": _date_levels(f["date_of_birth"]),
            "postcode": _postcode_levels(f["postcode"]),
            "phone": _value_levels("phone", f["phone"]),
            "email": _value_levels("email", f["email"])}


def _comparisons(sp: SimpleNamespace, levels: dict[str, list[tuple[Level, str]]]) -> list:
    out = []
    for field, field_levels_ in levels.items():
        specs: list[Any] = [sp.cll.NullLevel(field)]
        for i, (level, sql) in enumerate(field_levels_):
            specs.append({"sql_condition": sql, "label_for_charts": f"{level.code} {i}",
                          "m_probability": level.m, "u_probability": level.u})
        out.append(sp.cl.CustomComparison(comparison_levels=specs, output_column_name=field))
    return out


@dataclass(frozen=True)
class Pair:
    person_id: int
    other_person_id: int
    score: float
    band: str
    comparisons: tuple[Comparison, ...]


def _reason(field: str, level: Level, levels: list[tuple[Level, str]]) -> str:
    words = _WORDS[field]
    if level.code == "similar":
        rank = [lv for lv, _ in levels if lv.code == "similar"].index(level)
        return f"{words} {_SIMILAR[min(rank, 2)]}"
    return {"same": f"same {words}",
            "swapped": "given and family names the other way round",
            "nickname": f"{words} a short form of the other",
            "one_part": f"{words} one part of the other (double-barrelled)",
            "day_month_swapped": "date of birth with day and month swapped",
            "one_digit": "date of birth one digit different",
            "within_year": "date of birth less than a year apart",
            "sector": "same postcode sector",
            "district": "same postcode district",
            "different": f"different {words}"}[level.code]


def predict_pairs(table: dict[str, list[Any]], matching: MatchingProfile,
                  finder: DuplicateFinder, sp: SimpleNamespace) -> list[Pair]:
    """Train the model on these people (u from random pairs, m by expectation maximisation
    over the training blocking rules, starting from the profile's m and u) and return the
    pairs scoring at least the threshold, lower id first, each field's weight and reason."""
    import pandas as pd

    levels = field_levels(matching)
    people = len(table["unique_id"])
    frame = pd.DataFrame(table)
    con = sp.duckdb.connect(":memory:")
    try:
        con.register("people_frame", frame)
        con.execute("CREATE TABLE people AS SELECT * REPLACE "
                    "(CAST(date_of_birth AS DATE) AS date_of_birth) FROM people_frame")
        con.unregister("people_frame")
        del frame
        settings = sp.SettingsCreator(
            link_type="dedupe_only",
            comparisons=_comparisons(sp, levels),
            blocking_rules_to_generate_predictions=[
                sp.block_on(*rule) for rule in finder.blocking_rules],
            retain_matching_columns=True,
            retain_intermediate_calculation_columns=True,
            # The starting guess (EM refines it): each person recorded at most twice. Scores
            # leave this prior out, so that they are on the profile's scale of bits.
            probability_two_random_records_match=min(0.5, 1 / people),
        )
        linker = sp.Linker("people", settings, sp.DuckDBAPI(con), set_up_basic_logging=False)
        if people * (people - 1) // 2 >= MIN_U_PAIRS:
            # (With fewer, a few duplicates among them would pass for chance agreement.)
            linker.training.estimate_u_using_random_sampling(
                max_pairs=finder.u_sample_pairs, seed=13)
        for rule in finder.training_blocking_rules:
            if _pairs_sharing(con, rule) < MIN_TRAINING_PAIRS:
                # Too few to learn from (a new service): the profile's m stands.
                log.info("people.duplicates.untrained", extra={"job": SOURCE})
                continue
            linker.training.estimate_parameters_using_expectation_maximisation(
                sp.block_on(*rule))
        lam = linker.misc.save_model_to_json()["probability_two_random_records_match"]
        lam = min(max(lam, 1e-15), 1 - 1e-15)
        prior = math.log2(lam / (1 - lam))
        predicted = linker.inference.predict(
            threshold_match_weight=finder.threshold_match_weight + prior)
        gammas = ", ".join(f"gamma_{f}, bf_{f}" for f in levels)
        rows = con.execute(f"SELECT unique_id_l, unique_id_r, {gammas} "  # noqa: S608
                           f"FROM {predicted.physical_name}").fetchall()
    finally:
        con.close()
    return [_pair(row, levels, matching) for row in rows]


def _pairs_sharing(con: Any, rule: tuple[str, ...]) -> int:
    """How many pairs of people share every column of this blocking rule."""
    columns = ", ".join(rule)
    present = " AND ".join(f"{c} IS NOT NULL" for c in rule)
    return con.execute(f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n "  # noqa: S608
                       f"FROM people WHERE {present} GROUP BY {columns})").fetchall()[0][0]


def _pair(row: tuple, levels: dict[str, list[tuple[Level, str]]],
          matching: MatchingProfile) -> Pair:
    left, right, *values = row
    comparisons = []
    for i, field in enumerate(levels):
        gamma, bf = values[2 * i], values[2 * i + 1]
        if gamma is None or gamma < 0:
            continue
        field_levels_ = levels[field]
        level = field_levels_[len(field_levels_) - 1 - gamma][0]
        comparisons.append(Comparison(field, level.code, math.log2(bf),
                                      _reason(field, level, field_levels_),
                                      at_best=level.at_best))
    total = sum(c.weight for c in comparisons)
    lo, hi = sorted((int(left), int(right)))
    return Pair(lo, hi, total, band(total, comparisons, matching) or "possible",
                tuple(comparisons))


# --- the queue ----------------------------------------------------------------------------

def _known_pairs(session: Session) -> set[tuple[int, int]]:
    pairs = set(session.exec(select(MatchDecision.person_id, MatchDecision.other_person_id)))
    pairs.update(session.exec(select(MatchReview.person_id, MatchReview.other_person_id)))
    return {(int(a), int(b)) for a, b in pairs}


def _review(pair: Pair, now: datetime) -> dict[str, Any]:
    return {"person_id": pair.person_id, "other_person_id": pair.other_person_id,
            "source": SOURCE, "score": round(pair.score, 2), "band": pair.band,
            "comparisons": [{"field": c.field, "level": c.level, "weight": round(c.weight, 2),
                             "reason": c.reason} for c in pair.comparisons],
            "status": "open", "created_at": now}


def queue_pairs(rt: Any, pairs: list[Pair]) -> tuple[int, int]:
    """Add the pairs not yet decided or queued to the review queue; (queued, skipped). The
    decided and queued pairs are read once up front; a pair decided or queued meanwhile (by
    intake, a worker's answer or another run) is skipped by identity.queue_reviews, which
    checks again as it writes, so a run never fails on a pair that came in after it read."""
    with rt.db.reader() as session:
        known = _known_pairs(session)
    new, seen = [], set()
    for pair in sorted(pairs, key=lambda p: -p.score):
        key = (pair.person_id, pair.other_person_id)
        if key not in known and key not in seen:
            seen.add(key)
            new.append(pair)
    queued, now = 0, datetime.now(UTC)
    for start in range(0, len(new), WRITE_BATCH):
        chunk = [_review(p, now) for p in new[start:start + WRITE_BATCH]]
        with rt.db.unit_of_work() as session:
            queued += identity.queue_reviews(session, chunk)
    return queued, len(pairs) - queued


def find_duplicates(rt: Any) -> FinderResult:
    """The nightly job: read the people, find the likely duplicates, queue the new pairs.
    Safe to run twice (a pair already decided or queued is skipped)."""
    try:
        sp = load_splink()
    except ImportError:
        log.warning("people.duplicates.not_installed", extra={"job": SOURCE})
        return FinderResult(message=NOT_INSTALLED)
    matching = rt.profile.matching
    finder = matching.duplicate_finder if matching is not None else None
    if finder is None:
        log.info("people.duplicates.not_configured", extra={"job": SOURCE})
        return FinderResult(message=NOT_CONFIGURED)
    started = time.perf_counter()
    with rt.db.reader() as session:
        table = read_people(session, matching, profile_id=rt.profile.id)
    result = FinderResult(people=len(table["unique_id"]))
    _took("read", started, result.people)
    if result.people >= 2:
        _quiet_splink()
        started = time.perf_counter()
        pairs = predict_pairs(table, matching, finder, sp)
        del table
        result.pairs = len(pairs)
        _took("predicted", started, result.pairs)
        started = time.perf_counter()
        result.queued, result.skipped = queue_pairs(rt, pairs)
        _took("queued", started, result.queued)
    with rt.db.unit_of_work() as session:
        audit.record(session, actor=None, action="people.duplicates_found",
                     object_type="match_review", object_id=SOURCE, **result.counts())
    log.info("people.duplicates.found", extra={"job": SOURCE, "count": result.counts()})
    return result


def _took(step: str, started: float, count: int) -> None:
    log.info(f"people.duplicates.{step}", extra={
        "job": SOURCE, "count": count,
        "duration_ms": round((time.perf_counter() - started) * 1000)})


def _quiet_splink() -> None:
    """Only Splink's errors are logged (its progress and training notes are noise; its debug
    output is SQL)."""
    logging.getLogger("splink").setLevel(logging.ERROR)


__all__ = ["NOT_INSTALLED", "SOURCE", "FinderResult", "Pair", "field_levels", "find_duplicates",
           "load_splink", "predict_pairs", "queue_pairs", "read_people"]
