"""Blocking loses nothing the scorer would find: with the golden file's right-hand records
stored as known people, every true pair's left-hand record finds its partner at `possible` or
better through find_candidates, no twin is `exact`, and SQLite (no trigrams) and PostgreSQL
(pg_trgm) give the same candidates."""

from __future__ import annotations

import csv
import shutil
from datetime import date

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from config.profile import load_profile
from tests.conftest import _truncate_all
from tests.profile_ids import selected_profiles
from tests.unit.linkage.test_linkage_golden import GOLDEN, _record
from triage.linkage import Record, score
from triage.linkage.compare import postcode_parts
from triage.models import Household, HouseholdMember, Person
from triage.services.people.candidates import find_candidates
from triage.services.people.keys import person_keys

ROWS = list(csv.DictReader(GOLDEN.open(encoding="utf-8")))
PROFILE = "leicestershire"
MATCHING = load_profile(PROFILE).matching


def _load_right_hand_records(session: Session) -> list[int]:
    """Each row's right-hand record as a known person (in a household at its postcode)."""
    ids = []
    for row in ROWS:
        b = _record(row, "b")
        person = Person(profile_id=PROFILE, given_name=b.given_name, family_name=b.family_name,
                        # a known person always has a date of birth (the model needs one)
                        date_of_birth=b.date_of_birth or _record(row, "a").date_of_birth,
                        phone=b.phone, email=b.email,
                        **person_keys(given_name=b.given_name, family_name=b.family_name,
                                      date_of_birth=b.date_of_birth, phone=b.phone,
                                      email=b.email))
        session.add(person)
        session.flush()
        parts = postcode_parts(b.postcode)
        if parts:
            home = Household(profile_id=PROFILE, postcode=parts[0], sector=parts[1])
            session.add(home)
            session.flush()
            session.add(HouseholdMember(household_id=home.id, person_id=person.id))
        ids.append(person.id)
    session.commit()
    return ids


def _candidates(url: str) -> list[dict[int, tuple[str, float]]]:
    """For each row, {known row index: (band, score)} of its left-hand record's candidates."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            ids = _load_right_hand_records(session)
            index = {pid: i for i, pid in enumerate(ids)}
            return [{index[c.person.id]: (c.match.band, round(c.match.score, 6))
                     for c in find_candidates(session, _record(row, "a"), MATCHING,
                                                     profile_id=PROFILE)}
                    for row in ROWS]
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_every_true_pair_is_found_and_no_twin_is_exact(database_url):
    found = _candidates(database_url)
    missed = [(row["kind"], row["a_given"], row["a_family"])
              for i, row in enumerate(ROWS)
              if row["same_person"] == "yes" and i not in found[i]]
    assert missed == []
    for i, row in enumerate(ROWS):
        if row["same_person"] == "yes":
            # as the scorer alone bands the pair: blocking changes nothing of the score
            direct = score(_record(row, "a"), _record(row, "b"), MATCHING)
            assert found[i][i][0] in ("exact", "likely", "possible")
            if row["b_dob"]:
                assert found[i][i] == (direct.band, round(direct.score, 6))
    twins = [(row["a_given"], row["b_given"], found[i].get(i)) for i, row in enumerate(ROWS)
             if row["kind"] == "twins" and found[i].get(i, ("",))[0] == "exact"]
    assert twins == []


def test_sqlite_and_postgresql_give_the_same_candidates(tmp_path, sqlite_template,
                                                        postgres_server_url):
    sqlite = tmp_path / "golden.sqlite3"
    shutil.copy(sqlite_template, sqlite)
    _truncate_all(postgres_server_url)
    on_sqlite = _candidates(f"sqlite:///{sqlite}")
    on_postgres = _candidates(postgres_server_url)
    differing = [(row["kind"], row["a_given"], row["a_family"], on_sqlite[i], on_postgres[i])
                 for i, row in enumerate(ROWS) if on_sqlite[i] != on_postgres[i]]
    assert differing == []
    assert sum(len(c) for c in on_sqlite) > len(ROWS)  # more than one candidate a row, often


def _add_known(session: Session, given: str, family: str, born: date, *, profile: str) -> None:
    """A known person with these names and date of birth (no contact), keys as intake sets."""
    session.add(Person(profile_id=profile, given_name=given, family_name=family,
                       date_of_birth=born,
                       **person_keys(given_name=given, family_name=family, date_of_birth=born,
                                     phone=None, email=None)))


@pytest.mark.parametrize("profile", selected_profiles())
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("typed", ["Cowalski", "Owalski", "Skowalski", "Okwalski"],
                         ids=["changed", "dropped", "added", "swapped"])
def test_on_postgresql_a_first_letter_typo_without_a_date_of_birth_is_found(database_url,
                                                                             typed, profile):
    # "Kowalski" sounds k242; a first letter changed, dropped, added or swapped sounds c242,
    # o242, s242: no sound, key, date or contact block finds it without a date of birth. The
    # family names' deletion keys (migration 0025) do: they share "owalski" or "kwalski".
    council = load_profile(profile)
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            for given, recorded_by in (("Leo", council.id), ("Ava", council.id),
                                       ("Leo", "elsewhere")):
                _add_known(session, given, "Kowalski", date(2012, 4, 18), profile=recorded_by)
            session.commit()
            found = find_candidates(session, Record(given_name="Leo", family_name=typed),
                                    council.matching, profile_id=council.id)
    finally:
        engine.dispose()
    # Only Leo, and only this council's: another given name or profile is not a candidate.
    assert [(c.person.given_name, c.person.family_name, c.person.profile_id, c.match.band)
            for c in found] == [("Leo", "Kowalski", council.id, "possible")]


@pytest.mark.parametrize("profile", selected_profiles())
@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_common_given_name_and_year_do_not_crowd_out_a_misspelt_family(database_url, profile):
    # Leo Kowalski, born 18 April 2012, typed "Leo Cowalski", 19 April 2012: only the block of
    # the given name and year of birth finds him (the family name sounds c242, not k242; the
    # date is not his). Stored before him, more Leos of 2012 than the block holds, with family
    # names and dates nothing like: the block keeps only family names near the one typed, so
    # they do not take its places.
    council = load_profile(profile)
    limit = council.matching.blocking.limit
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            people = [(f"Stranger{chr(97 + i // 26)}{chr(97 + i % 26)}", date(2012, 1 + i % 12, 3))
                      for i in range(limit + 10)] + [("Kowalski", date(2012, 4, 18))]
            for family, born in people:
                _add_known(session, "Leo", family, born, profile=council.id)
            session.commit()
            found = find_candidates(session, Record(given_name="Leo", family_name="Cowalski",
                                                    date_of_birth=date(2012, 4, 19)),
                                    council.matching, profile_id=council.id)
    finally:
        engine.dispose()
    assert [(c.person.family_name, c.match.band) for c in found] == [("Kowalski", "possible")]
