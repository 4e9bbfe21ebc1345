"""Matching never links across council profiles: whoever is recorded under one profile is never
an exact match, a candidate, a search hit or part of a duplicate pair under another, however
alike the two records are, and records of two profiles are never merged."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import select

from config.profile import load_profile
from triage.linkage import Record
from triage.linkage.compare import postcode_parts
from triage.models import Household, HouseholdMember, MatchDecision, MatchReview, Person
from triage.schemas.referral import PersonInput
from triage.services.people import duplicates, merge
from triage.services.people.candidates import by_name, find_candidates
from triage.services.people.keys import person_keys
from triage.services.people.matching import match_people

PROFILES = ("leicestershire", "elsewhere")
MATCHING = load_profile("leicestershire").matching

# Few names, dates and postcodes, so that people of the two profiles are often the very same
# details, or a typo or a nickname apart.
person = st.fixed_dictionaries({
    "profile": st.sampled_from(PROFILES),
    "given": st.sampled_from(["Tom", "Thomas", "Tomm", "Amy", "Aimee"]),
    "family": st.sampled_from(["Reid", "Reed", "Smith", "Smyth"]),
    "born": st.sampled_from([date(2016, 5, 4), date(2016, 4, 5), date(2016, 5, 5)]),
    "postcode": st.sampled_from(["LE11 2AB", "LE11 2AD", "LE13 0AB"]),
    "phone": st.sampled_from([None, "07700 900123"]),
})


def _store(session, people: list[dict]) -> dict[int, str]:
    """The people as intake stores them, each in a household at their postcode, under their
    profile; {person id: profile}."""
    for table in (MatchReview, MatchDecision, HouseholdMember, Person, Household):
        session.execute(delete(table))
    made = {}
    for p in people:
        row = Person(profile_id=p["profile"], given_name=p["given"], family_name=p["family"],
                     date_of_birth=p["born"], phone=p["phone"],
                     **person_keys(given_name=p["given"], family_name=p["family"],
                                   date_of_birth=p["born"], phone=p["phone"], email=None))
        unit, sector, _ = postcode_parts(p["postcode"])
        home = Household(profile_id=p["profile"], postcode=unit, sector=sector)
        session.add_all([row, home])
        session.flush()
        session.add(HouseholdMember(household_id=home.id, person_id=row.id))
        made[row.id] = p["profile"]
    session.flush()
    return made


def _typed(p: dict) -> Record:
    return Record(given_name=p["given"], family_name=p["family"], date_of_birth=p["born"],
                  postcode=p["postcode"], phone=p["phone"])


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(person, min_size=1, max_size=8))
def test_people_of_one_profile_are_never_matched_under_another(rt, people):
    with rt.db.unit_of_work() as session:
        made = _store(session, people)
        ids = list(made)
        for (pid, p) in zip(ids, people, strict=True):
            for profile in PROFILES:
                ours = {i for i, q in made.items() if q == profile}
                found = {c.person.id for c in find_candidates(
                    session, _typed(p), MATCHING, profile_id=profile)}
                assert found <= ours
                [exact] = match_people(session, (PersonInput(
                    ref="c1", role="subject", relationship=None, given_name=p["given"],
                    family_name=p["family"], date_of_birth=p["born"]),), profile_id=profile)
                assert exact is None or exact.id in ours
                named = set(by_name(session, profile, p["given"], p["family"]))
                assert named <= ours
                if profile == p["profile"]:
                    # Under its own profile the person is found every way (the filter
                    # keeps them, it does not hide everyone).
                    assert pid in found and pid in named
                    assert exact is not None and made[exact.id] == profile
        for profile in PROFILES:
            read = duplicates.read_people(session, MATCHING, profile_id=profile)
            assert sorted(read["unique_id"]) == sorted(
                i for i, q in made.items() if q == profile)
        session.rollback()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_records_of_two_profiles_are_never_merged(rt, make_user):
    user, _ = make_user("front_door")
    with rt.db.unit_of_work() as session:
        twin = {"given": "Tom", "family": "Reid", "born": date(2016, 5, 4),
                "postcode": "LE11 2AB", "phone": None}
        ours, theirs = _store(session, [{**twin, "profile": PROFILES[0]},
                                        {**twin, "profile": PROFILES[1]}])
        with pytest.raises(merge.AcrossProfiles) as refused:
            merge.merge_records(session, user=user, kind="person", merged_id=theirs,
                                survivor_id=ours, reason="The same boy, surely.")
        assert refused.value.status == 422
        assert refused.value.errors["into"] == [
            f"Person {ours} was recorded under the leicestershire profile and person {theirs} "
            "under elsewhere: records of two profiles are never merged."]
        homes = session.exec(select(Household.id).order_by(Household.id)).all()
        with pytest.raises(merge.AcrossProfiles):
            merge.merge_records(session, user=user, kind="household", merged_id=homes[0],
                                survivor_id=homes[1], reason="The same family.")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_the_duplicate_finder_pairs_only_the_running_profile_s_people(rt):
    """The same two records of a boy under each profile: run under Leicestershire, the finder
    queues Leicestershire's pair only."""
    sp = pytest.importorskip("splink") and duplicates.load_splink()
    twin = {"given": "Tom", "family": "Reid", "born": date(2016, 5, 4), "postcode": "LE11 2AB",
            "phone": "07700 900123"}
    typo = {**twin, "given": "Tomm", "postcode": "LE11 2AD"}
    with rt.db.unit_of_work() as session:
        made = _store(session, [{**twin, "profile": PROFILES[0]},
                                {**typo, "profile": PROFILES[0]},
                                {**twin, "profile": PROFILES[1]},
                                {**typo, "profile": PROFILES[1]}])
    assert rt.profile.id == PROFILES[0]
    with rt.db.reader() as session:
        table = duplicates.read_people(session, MATCHING, profile_id=rt.profile.id)
    pairs = duplicates.predict_pairs(table, MATCHING, MATCHING.duplicate_finder, sp)
    ours = sorted(i for i, q in made.items() if q == PROFILES[0])
    assert [(p.person_id, p.other_person_id) for p in pairs] == [tuple(ours)]
    result = duplicates.find_duplicates(rt)
    assert result.queued == 1
    with rt.db.reader() as session:
        queued = session.exec(select(MatchReview.person_id, MatchReview.other_person_id)).all()
    assert queued == [tuple(ours)]
