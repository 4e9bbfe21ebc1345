"""The referral form's known-person check tells the front door, managers and admins about any
known family, and a hub coordinator or practitioner only about families their team works
with (the family record's rule): never another hub's children."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.web.test_web_referrals import referral_form

CHILD_FAMILY = {
    "people-0-given_name": "Noah", "people-0-family_name": "Patel",
    "people-0-dob-day": "5", "people-0-dob-month": "5", "people-0-dob-year": "2015",
    "people-1-given_name": "Priya", "people-1-family_name": "Patel",
    "people-1-dob-day": "1", "people-1-dob-month": "1", "people-1-dob-year": "1985",
    "people-1-relationship": "mother", "postcode": "LE11 1AB",
    "answer-memory_concern": "", "answer-social_isolation": "",
    "answer-school_attendance_concern": "yes", "answer-child_behaviour_concern": "yes",
}


@pytest.fixture
def charnwood_family(rt, demo_users):
    """A family the Charnwood hub works with (an open hub case)."""
    from tests.web.test_web_cases import family_referral
    from triage.services.referrals import intake

    _, created = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                        body=family_referral())
    assert [c["instance"] for c in created["cases"] if c["service"] == "early_help_hub"] == [
        "charnwood-hub"]
    return created


@pytest.fixture
def lac_family(rt, demo_users):
    """Gwen Smith, whom Local Area Coordination (Melton North) works with."""
    from tests.web.test_web_referrals import _key

    def submit(web):
        web.sign_in("frontdoor@demo.test")
        web.get("/referrals/new")
        response = web.post("/referrals/new", referral_form(action="submit",
                                                            submission_key=_key(web.last)))
        assert response.status_code == 302
    return submit


def _check(web, email: str, form: dict) -> str:
    web.sign_in(email)
    response = web.post("/referrals/new", form, from_page="/referrals/new")
    assert response.status_code == 200
    return web.last


def _match_views(rt, email: str) -> int:
    from triage.models import AuditEvent, User

    with rt.db.reader() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        return len(session.exec(select(AuditEvent).where(
            AuditEvent.actor_id == user.id, AuditEvent.action == "person.match_view")).all())


def test_a_hub_coordinator_is_not_told_about_another_hub_s_children(web, rt, charnwood_family):
    html = _check(web, "hub.melton@demo.test", referral_form(**CHILD_FAMILY))
    assert "Already known" not in html
    assert not re.search(r'href="/cases/\d+"', html)
    assert _match_views(rt, "hub.melton@demo.test") == 0


def test_a_hub_coordinator_is_told_about_children_their_hub_works_with(web, rt,
                                                                       charnwood_family):
    html = _check(web, "hub.charnwood@demo.test", referral_form(**CHILD_FAMILY))
    assert "Already known" in html and "Noah Patel" in html and "Open case" in html


def test_a_practitioner_is_told_only_about_families_their_team_works_with(make_web, rt,
                                                                          lac_family):
    lac_family(make_web())
    assert "Already known" in _check(make_web(), "lac@demo.test", referral_form())
    assert "Already known" not in _check(make_web(), "slf@demo.test", referral_form())
    assert _match_views(rt, "slf@demo.test") == 0


@pytest.mark.parametrize("email", ["frontdoor@demo.test", "manager@demo.test",
                                   "admin@demo.test"])
def test_the_front_door_managers_and_admins_are_told_about_any_known_family(
        make_web, rt, charnwood_family, email):
    html = _check(make_web(), email, referral_form(**CHILD_FAMILY))
    assert "Already known" in html and "Open case" in html


def test_partners_are_never_told_whether_a_family_is_known(rt, demo_users, charnwood_family):
    from tests.web.test_web_cases import family_referral
    from triage.errors import Forbidden
    from triage.services.people import known
    from triage.services.referrals import intake

    data = intake.parse_referral(rt, family_referral(
        channel="partner", referrer={"organisation": "Fire", "name": "A. Officer"}))
    with pytest.raises(Forbidden):
        known.known_people(rt, user=demo_users["fire@demo.test"], data=data)
