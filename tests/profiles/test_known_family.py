"""Intake reads what it knows of a family in one statement (known_family): the household at
the postcode, its members, the re-referral and the open family-support case. Hypothesis builds
families (people in several households, at two postcodes, with cases of every kind opened and
closed at any time, ties included) and the one statement must agree with an oracle that asks
each question on its own in plain ORM queries (the three reads intake made before), for one,
two or no family-support services. On every council profile, SQLite and PostgreSQL; each
example is rolled back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from rules.examples import first_routed_example, referral_body
from triage.models import Case, Household, HouseholdMember, Person, Referral
from triage.models.base import utcnow
from triage.services.referrals.known_family import known_family
from triage.services.referrals.re_referral import ReReferral, months_before
from triage.statements import Row

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
POSTCODES = ("AB1 1AA", "AB2 2BB")  # any two: the read compares them as typed
PEOPLE, HOUSEHOLDS = 3, 3

cases = st.lists(st.tuples(
    st.integers(0, HOUSEHOLDS - 1),  # whose
    # mostly family support, so a household often has two open at once
    st.sampled_from(["family_support"] * 3 + ["another_service", "unknown"]),
    st.integers(0, 30).map(lambda d: d * 30),  # opened, days ago (coarse: ties happen)
    st.one_of(st.none(), st.integers(0, 30).map(lambda d: d * 30)),  # closed (None: open)
), min_size=2, max_size=10)
world = st.fixed_dictionaries({
    "postcodes": st.lists(st.sampled_from(POSTCODES), min_size=HOUSEHOLDS,
                          max_size=HOUSEHOLDS),
    # each person in one or two households (some in none, some households shared)
    "members": st.lists(st.sets(st.integers(0, HOUSEHOLDS - 1), max_size=2),
                        min_size=PEOPLE, max_size=PEOPLE),
    "cases": cases,
    # who intake matched (with nobody known, known_family reads nothing at all)
    "found": st.lists(st.booleans(), min_size=PEOPLE, max_size=PEOPLE).filter(any),
    "postcode": st.sampled_from(POSTCODES),
    "months": st.one_of(st.none(), st.integers(0, 24)),
    "services": st.sampled_from(["one", "two", "none"]),
})


def oracle(session: Session, *, person_ids: list[int], postcode: str, since, services):
    """The three questions asked one by one: (household here, its known members, the case
    making a re-referral, the household's open family-support case's instance)."""
    homes = session.exec(select(Household, HouseholdMember.person_id)
                         .join(HouseholdMember, HouseholdMember.household_id == Household.id)
                         .where(HouseholdMember.person_id.in_(person_ids))).all()
    again = None
    if since is not None:
        case = session.exec(select(Case).join(
            HouseholdMember, HouseholdMember.household_id == Case.household_id).where(
            HouseholdMember.person_id.in_(person_ids), Case.closed_at >= since)
            .order_by(Case.closed_at.desc(), Case.id.desc())).first()
        again = ReReferral(case.id, case.service, case.closed_at) if case else None
    here = [(h, pid) for h, pid in homes if h.postcode == postcode]
    if not here:
        return None, set(), again, None
    newest = max(h.id for h, _ in here)
    open_case = session.exec(select(Case.instance).where(
        Case.household_id == newest, Case.closed_at.is_(None), Case.service.in_(services))
        .order_by(Case.opened_at.desc(), Case.id.desc())).first() if services else None
    return newest, {pid for h, pid in here if h.id == newest}, again, open_case


@both_databases
def test_one_statement_agrees_with_the_three_reads_it_replaced(rt, client, auth):
    _, example = first_routed_example(rt.profile)
    response = client.post("/api/v1/referrals", headers=auth("front_door"),
                           json=referral_body(example, today=utcnow().date(), n=0))
    assert response.status_code == 201, response.json
    profile = rt.profile.id
    support = rt.profile.family_support_services
    assert support, "every shipped profile has a family-support service"
    other = next(s for s in rt.profile.services if s not in support)
    names = {"family_support": support[0], "another_service": other,
             "unknown": "no_such_service"}
    service_lists = {"one": support, "two": (*support, other), "none": ()}

    @settings(max_examples=80, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(world)
    def check(w):
        now = utcnow()
        with rt.db.engine.connect() as conn, conn.begin() as outer:
            session = Session(bind=conn)
            referral_id = session.exec(select(Referral.id)).first()
            people = [Person(profile_id=profile, given_name=f"P{i}", family_name="Hale",
                             date_of_birth=date(2010, 1, 1 + i)) for i in range(PEOPLE)]
            homes = [Household(profile_id=profile, postcode=pc, sector=pc[:-2].strip())
                     for pc in w["postcodes"]]
            session.add_all(people + homes)
            session.flush()
            session.add_all(HouseholdMember(person_id=people[p].id, household_id=homes[h].id)
                            for p, households in enumerate(w["members"]) for h in households)
            for n, (h, kind, opened, closed) in enumerate(w["cases"]):
                session.add(Case(referral_id=referral_id, household_id=homes[h].id,
                                 service=names[kind], instance=f"instance-{n}", state="open",
                                 opened_at=now - timedelta(days=opened),
                                 closed_at=None if closed is None
                                 else now - timedelta(days=closed)))
            session.flush()
            found = [Row(id=p.id) if known else None
                     for p, known in zip(people, w["found"], strict=True)]

            services = service_lists[w["services"]]
            got = known_family(session, postcode=w["postcode"], found=found, now=now,
                               re_referral_months=w["months"], services=services)
            since = months_before(now, w["months"]) if w["months"] is not None else None
            household_id, members, again, open_instance = oracle(
                session, person_ids=[p.id for p in found if p is not None],
                postcode=w["postcode"], since=since, services=services)
            assert (got.household.id if got.household else None) == household_id
            if got.household is not None:
                assert vars(got.household) == {
                    c.name: getattr(session.get(Household, household_id), c.name)
                    for c in Household.__table__.columns}
            assert got.members == members
            assert got.again == again
            assert got.open_family_support == open_instance
            session.close()
            outer.rollback()

    check()
