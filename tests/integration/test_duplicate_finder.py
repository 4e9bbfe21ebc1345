"""The nightly duplicate finder: planted duplicates among a few hundred stored people are queued
for staff to check, with each field's reason and no personal data; pairs already decided or
queued are left alone; a second run adds nothing; without Splink it does nothing and says so."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from triage.models import Household, HouseholdMember, MatchDecision, MatchReview, Person
from triage.services.people import duplicates
from triage.services.people.names import name_key, sound_key

pytest.importorskip("splink", reason="the linkage extra (splink, duckdb) is not installed")



def _words(text: str) -> list[str]:
    return text.split()


both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

GIVEN = _words("Oliver George Harry Noah Jack Leo Arthur Oscar Charlie Jacob Henry Alfie Joshua "
         "Freddie Archie Theo Isaac Olivia Amelia Isla Ava Mia Ivy Lily Rosie Sophia Grace Freya "
         "Willow Florence Emily Ella Poppy Evie Elsie Daisy Priya Anika Aarav Ayesha Fatima Zara "
         "Amir Yusuf Ibrahim Piotr Agnieszka Gwen Niamh Siobhan")
FAMILY = _words("Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright "
          "Thompson Evans Walker White Roberts Green Hall Thomas Clarke Jackson Wood Harris "
          "Edwards Turner Martin Cooper Hill Ward Hughes Moore Clark King Harrison Lewis Baker "
          "Lee Allen Morris Khan Scott Watson Davis Parker James Bennett Young Phillips Mistry "
          "Chauhan Parmar Lakhani Kaur Ahmed Hussain Nowak Kowalski Murphy Fraser Gray Ross "
          "Stewart Reid Mason Holmes Rogers Kennedy Fox Webb Hunt Palmer Mills Lloyd")

# (what differs, first record, second record, a reason the queue must give)
PLANTED = [
    ("typo in the given name",
     dict(given="Jonathan", family="Ashworth", dob=date(2012, 4, 17), postcode="LE11 2AB"),
     dict(given="Jonathon", family="Ashworth", dob=date(2012, 4, 17), postcode="LE11 2AB"),
     "given name very similar"),
    ("moved house",
     dict(given="Kezia", family="Okonkwo", dob=date(2016, 9, 3), postcode="LE3 5QT"),
     dict(given="Kezia", family="Okonkwo", dob=date(2016, 9, 3), postcode="LE67 9RS"),
     "different postcode"),
    ("day and month swapped",
     dict(given="Marcus", family="Pemberton", dob=date(2010, 3, 5), postcode="LE2 7HJ",
          phone="07700900111"),
     dict(given="Marcus", family="Pemberton", dob=date(2010, 5, 3), postcode="LE2 7HJ",
          phone="07700900111"),
     "date of birth with day and month swapped"),
    ("family name misspelt, moved round the corner",
     dict(given="Delphine", family="Vandermeer", dob=date(2014, 12, 1), postcode="LE4 6NP"),
     dict(given="Delphine", family="Vandermeir", dob=date(2014, 12, 1), postcode="LE4 6ZZ"),
     "same postcode sector"),
    ("one digit of the date of birth, same email",
     dict(given="Tobias", family="Fairweather", dob=date(2011, 6, 21), postcode="LE5 1AA",
          email="fairweather.home@example.org"),
     dict(given="Tobias", family="Fairweather", dob=date(2011, 6, 27), postcode="LE5 1AA",
          email="Fairweather.Home@example.org"),
     "same email address"),
]


def _person(session, *, given, family, dob, postcode, phone=None, email=None,
            anonymised=False) -> int:
    person = Person(profile_id="leicestershire", given_name=given, family_name=family,
                    given_name_key=name_key(given), family_name_key=name_key(family),
                    given_name_sound=sound_key(given),
                    family_name_sound=sound_key(family), date_of_birth=dob, phone=phone,
                    phone_key=phone, email=email,
                    anonymised_at=datetime(2026, 1, 1, tzinfo=UTC) if anonymised else None)
    household = Household(profile_id="leicestershire", postcode=postcode,
                          sector=postcode[:-2])
    session.add_all([person, household])
    session.flush()
    session.add(HouseholdMember(household_id=household.id, person_id=person.id))
    return person.id


def _background(session, rng: random.Random, families: int) -> int:
    """Families of one to four: a parent and children with their own names and birthdays,
    sharing a family name, a postcode and often a phone (not duplicates of each other)."""
    count = 0
    for i in range(families):
        family = rng.choice(FAMILY)
        postcode = f"LE{rng.randint(1, 67)} {rng.randint(0, 9)}{rng.choice('ABDEFGHJLN')}" \
                   f"{rng.choice('PQRSTUWXYZ')}"
        phone = f"07{rng.randint(100, 999)}{rng.randint(100000, 999999)}" if i % 2 else None
        given = rng.sample(GIVEN, rng.randint(1, 4))
        first = date(1975, 1, 1) + timedelta(days=rng.randint(0, 9000))
        for j, name in enumerate(given):
            dob = first if j == 0 else date(2008, 1, 1) + timedelta(days=rng.randint(0, 5000))
            _person(session, given=name, family=family, dob=dob, postcode=postcode,
                    phone=phone)
            count += 1
    return count


@pytest.fixture
def planted(rt):
    """About 300 people: families, the planted pairs, and an anonymised copy of one person."""
    rng = random.Random(5)
    pairs = {}
    with rt.db.unit_of_work() as session:
        _background(session, rng, 60)
        for what, a, b, reason in PLANTED:
            pairs[what] = (_person(session, **a), _person(session, **b), reason)
        _background(session, rng, 60)
        _person(session, **PLANTED[0][1], anonymised=True)
    return pairs


def _queue(rt) -> list[MatchReview]:
    with rt.db.reader() as session:
        return list(session.exec(select(MatchReview).order_by(MatchReview.id)))


@both_databases
def test_planted_duplicates_are_queued_with_their_reasons(rt, planted):
    result = duplicates.find_duplicates(rt)

    queue = {(r.person_id, r.other_person_id): r for r in _queue(rt)}
    for what, (a, b, reason) in planted.items():
        review = queue.get((min(a, b), max(a, b)))
        assert review is not None, f"{what}: not queued"
        assert review.source == "duplicate_finder" and review.status == "open"
        assert review.band in ("exact", "likely", "possible")
        assert review.score >= rt.profile.matching.duplicate_finder.threshold_match_weight
        assert reason in [c["reason"] for c in review.comparisons], what
        assert {c["field"] for c in review.comparisons} >= {"given_name", "family_name",
                                                            "date_of_birth", "postcode"}
        assert review.score == pytest.approx(sum(c["weight"] for c in review.comparisons),
                                             abs=0.05)
    # The anonymised copy of the first planted person is never compared.
    with rt.db.reader() as session:
        gone = session.exec(select(Person.id).where(Person.anonymised_at.is_not(None))).one()
        live = len(session.exec(select(Person.id).where(Person.anonymised_at.is_(None))).all())
    assert not [k for k in queue if gone in k]
    # Mostly the planted pairs: brothers and sisters sharing a home are not queued.
    assert len(queue) <= len(planted) + 2
    assert result.people == live and result.queued == len(queue) and result.pairs >= len(planted)
    text = json.dumps([r.comparisons for r in queue.values()]).lower()
    for _, a, b, _ in PLANTED:
        for value in (a["given"], a["family"], b["family"], str(a["dob"]), a["postcode"]):
            assert value.lower() not in text


@both_databases
def test_a_second_run_adds_nothing_and_decided_pairs_are_skipped(rt, planted):
    typo, moved, *_ = planted.values()
    with rt.db.unit_of_work() as session:
        session.add(MatchDecision(person_id=min(typo[:2]), other_person_id=max(typo[:2]),
                                  same=False, source="review"))
        session.add(MatchReview(person_id=min(moved[:2]), other_person_id=max(moved[:2]),
                                source="intake", score=20.0, band="likely", comparisons=[],
                                status="dismissed"))

    first = duplicates.find_duplicates(rt)
    queued = _queue(rt)
    pairs = {(r.person_id, r.other_person_id) for r in queued if r.source == "duplicate_finder"}
    assert (min(typo[:2]), max(typo[:2])) not in pairs
    assert (min(moved[:2]), max(moved[:2])) not in pairs
    assert first.skipped >= 2 and first.queued == len(pairs)

    second = duplicates.find_duplicates(rt)
    assert second.queued == 0 and second.skipped == second.pairs >= len(planted) - 2
    assert [r.id for r in _queue(rt)] == [r.id for r in queued]


@both_databases
def test_pairs_queued_or_decided_while_the_finder_ran_are_skipped_not_failed(rt, monkeypatch):
    """The finder reads what is decided and queued, then takes minutes to compare; meanwhile
    intake queues one of its pairs and a worker decides another. Writing, it skips both (no
    error, nothing queued twice, the worker's answer stands) and queues the rest."""
    with rt.db.unit_of_work() as session:
        ids = [_person(session, given="Amy", family="Reed", dob=date(2015, 1, 1 + i),
                       postcode="LE11 2AB") for i in range(6)]
    found = [duplicates.Pair(ids[i], ids[i + 1], 20.0, "likely", ()) for i in (0, 2, 4)]
    monkeypatch.setattr(duplicates, "_known_pairs", lambda session: set())  # read before
    with rt.db.unit_of_work() as session:  # ...these came in
        session.add(MatchReview(person_id=ids[0], other_person_id=ids[1], source="intake",
                                score=18.0, band="likely", comparisons=[], status="open"))
        session.add(MatchDecision(person_id=ids[2], other_person_id=ids[3], same=False,
                                  source="review"))

    assert duplicates.queue_pairs(rt, found) == (1, 2)

    queue = {(r.person_id, r.other_person_id): r.source for r in _queue(rt)}
    assert queue == {(ids[0], ids[1]): "intake", (ids[4], ids[5]): "duplicate_finder"}
    assert duplicates.queue_pairs(rt, found) == (0, 3)  # and again: idempotent


def test_without_splink_the_finder_does_nothing_and_says_so(rt, planted, monkeypatch, caplog):
    def missing():
        raise ImportError("No module named 'splink'")

    monkeypatch.setattr(duplicates, "load_splink", missing)
    result = duplicates.find_duplicates(rt)
    assert result.message == "splink not installed; duplicate finder did nothing"
    assert result.counts() == {"people": 0, "pairs": 0, "queued": 0, "skipped": 0}
    assert _queue(rt) == []
    assert "people.duplicates.not_installed" in caplog.text


def test_the_command_prints_counts(rt, planted, settings, monkeypatch):
    from triage import cli

    monkeypatch.setattr(cli, "_settings", lambda: settings)
    out = CliRunner().invoke(cli.main, ["people", "find-duplicates"])
    assert out.exit_code == 0, out.output
    assert "people read: " in out.output and "pairs found: " in out.output
    assert "queued: " in out.output
    assert "Ashworth" not in out.output


def test_a_new_service_with_a_handful_of_people_still_finds_its_duplicate(rt):
    """Too few people to estimate from: the profile's own m and u decide."""
    with rt.db.unit_of_work() as session:
        a = _person(session, **PLANTED[1][1])
        b = _person(session, **PLANTED[1][2])
        _person(session, given="Ruth", family="Okafor", dob=date(1990, 2, 2),
                postcode="LE1 1AA")
    result = duplicates.find_duplicates(rt)
    assert (result.people, result.queued) == (3, 1)
    (review,) = _queue(rt)
    assert (review.person_id, review.other_person_id) == (a, b)
    assert review.band == "likely"  # the same names and date of birth; moved house
    assert [c["reason"] for c in review.comparisons] == [
        "same given name", "same family name", "same date of birth", "different postcode"]
