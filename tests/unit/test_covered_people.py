"""Intake leaves out of the known people it offers or queues everyone a restriction in force
covers. It asks one plain statement (visibility.covered_people); what that statement answers
must be exactly the people of each restriction's scope (visibility.scope_of), the rule every
page applies, whatever households, memberships and lifted restrictions there are."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, delete

from triage.db import Database
from triage.models import Household, HouseholdMember, Person, RecordRestriction, User
from triage.services.privacy.visibility import covered_people, scope_of

PEOPLE, HOUSEHOLDS = 8, 4
P = "leicestershire"


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    with Session(database.engine) as session:
        session.add(User(id=1, email="manager@council.test", name="Manager", role="manager"))
        session.add_all(Person(id=i, profile_id=P, given_name=f"P{i}",
                               date_of_birth=date(2010, 1, 1)) for i in range(1, PEOPLE + 1))
        session.add_all(Household(id=h, profile_id=P, postcode="LE1 1AA", sector="LE1 1")
                        for h in range(1, HOUSEHOLDS + 1))
        session.commit()
    yield database
    database.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.sets(st.tuples(st.integers(1, HOUSEHOLDS), st.integers(1, PEOPLE))),
       restrictions=st.lists(st.tuples(st.integers(1, PEOPLE), st.booleans()), max_size=4))
def test_covered_people_are_the_people_of_every_restriction_in_force(db, members,
                                                                     restrictions):
    now = datetime(2026, 12, 5, tzinfo=UTC)
    with Session(db.engine) as session:
        session.exec(delete(RecordRestriction))
        session.exec(delete(HouseholdMember))
        session.add_all(HouseholdMember(household_id=h, person_id=p) for h, p in members)
        session.add_all(RecordRestriction(person_id=p, reason="A staff member's family.",
                                          set_by_id=1, lifted_at=now if lifted else None)
                        for p, lifted in restrictions)
        session.commit()
    in_force = {p for p, lifted in restrictions if not lifted}
    with db.unit_of_work() as session:
        covered = covered_people(session)
        expected = scope_of(session, in_force).people
    assert covered == expected
    assert in_force <= covered
    # Someone who shares no household with a restricted person is never covered.
    for person in range(1, PEOPLE + 1):
        homes = {h for h, p in members if p == person}
        near = in_force | {p for h, p in members if h in homes}
        if not near & in_force:
            assert person not in covered
