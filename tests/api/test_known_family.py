"""Intake reads what it knows of a family in one statement (known_family): the household at
the postcode, its members, the re-referral and the open family-support case. Hypothesis builds
families (people in several households, at two postcodes, with cases of every kind opened and
closed at any time) and the one statement must agree with the three reads it replaced, which
still serve their other callers: matching.find_household, re_referral.case_closed_within and
routing.open_family_support_instance. On SQLite and PostgreSQL; each example is rolled back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.models import Case, Household, HouseholdMember, Person, Referral
from triage.models.base import utcnow
from triage.services.people.matching import find_household
from triage.services.referrals.known_family import known_family
from triage.services.referrals.re_referral import case_closed_within
from triage.services.referrals.routing import open_family_support_instance
from triage.statements import Row

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
POSTCODES = ("LE13 1AB", "LE11 2CD")
PEOPLE, HOUSEHOLDS = 3, 3

cases = st.lists(st.tuples(
    st.integers(0, HOUSEHOLDS - 1),  # whose
    st.sampled_from(["family_support", "first_contact_plus", "other"]),
    st.integers(0, 900),  # opened, days ago
    st.one_of(st.none(), st.integers(0, 900)),  # closed, days ago (None: still open)
), max_size=8)
world = st.fixed_dictionaries({
    "postcodes": st.lists(st.sampled_from(POSTCODES), min_size=HOUSEHOLDS,
                          max_size=HOUSEHOLDS),
    "members": st.sets(st.tuples(st.integers(0, PEOPLE - 1), st.integers(0, HOUSEHOLDS - 1))),
    "cases": cases,
    "found": st.lists(st.booleans(), min_size=PEOPLE, max_size=PEOPLE),  # known to intake
    "postcode": st.sampled_from(POSTCODES),
    "months": st.one_of(st.none(), st.integers(0, 24)),
})


@both_databases
def test_one_statement_agrees_with_the_three_reads_it_replaced(rt, referral_body, client,
                                                               auth):
    response = client.post("/api/v1/referrals", json=referral_body(),
                           headers=auth("front_door"))
    assert response.status_code == 201
    profile = rt.profile.id
    services = rt.profile.family_support_services
    assert services, "the default profile has a family-support service"
    names = {"family_support": services[0], "first_contact_plus": "first_contact_plus",
             "other": "no_such_service"}

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(world)
    def check(w):
        now = utcnow()
        with rt.db.engine.connect() as conn, conn.begin() as outer:
            from sqlmodel import Session, select

            session = Session(bind=conn)
            referral_id = session.exec(select(Referral.id)).first()
            people = [Person(profile_id=profile, given_name=f"P{i}", family_name="Hale",
                             date_of_birth=date(2010, 1, 1 + i)) for i in range(PEOPLE)]
            homes = [Household(profile_id=profile, postcode=pc, sector=pc[:-2].strip())
                     for pc in w["postcodes"]]
            session.add_all(people + homes)
            session.flush()
            session.add_all(HouseholdMember(person_id=people[p].id, household_id=homes[h].id)
                            for p, h in w["members"])
            for h, kind, opened, closed in w["cases"]:
                session.add(Case(referral_id=referral_id, household_id=homes[h].id,
                                 service=names[kind], instance="x", state="open",
                                 opened_at=now - timedelta(days=opened),
                                 closed_at=None if closed is None
                                 else now - timedelta(days=closed)))
            session.flush()
            found = [Row(id=p.id) if known else None
                     for p, known in zip(people, w["found"], strict=True)]

            got = known_family(session, postcode=w["postcode"], found=found, now=now,
                               re_referral_months=w["months"], services=services)
            household, members = find_household(session, postcode=w["postcode"], found=found)
            assert (got.household.id if got.household else None) == \
                (household.id if household else None)
            if household is not None:
                assert vars(got.household) == vars(household)
            assert got.members == members
            assert got.again == case_closed_within(
                session, person_ids=[p.id for p in found if p is not None],
                months=w["months"], now=now)
            assert got.open_family_support == (open_family_support_instance(
                session, household.id, services) if household else None)
            session.close()
            outer.rollback()

    check()
