"""The staff referral form's "People who may already be known" panel (issue 13), without
JavaScript: checking lists the known people like someone on the referral, and choosing Same
person links the referral to them and their household."""

from __future__ import annotations

import re

from sqlmodel import func, select

from tests.web.test_web_referrals import _key, referral_form
from triage.models import AuditEvent, Person, Referral, ReferralPerson
from triage.models.matching import MatchDecision

PRIYA = {"ref": "p1", "role": "subject", "given_name": "Priya", "family_name": "Johnson",
         "date_of_birth": "1950-05-31"}
TYPED = {"people-0-given_name": "Pria", "people-0-family_name": "Jonson",
         "people-0-dob-day": "31", "people-0-dob-month": "5", "people-0-dob-year": "1950",
         "postcode": "LE11 2AB"}


def known_priya(rt, demo_users, referral_body) -> int:
    from triage.services.referrals import intake

    intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"], body=referral_body(
        channel="staff", postcode="LE11 2AB", people=[PRIYA]))
    with rt.db.reader() as session:
        return session.exec(select(Person.id).where(Person.given_name == "Priya")).one()


def people_count(rt) -> int:
    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(Person)).one()


def test_checking_lists_known_people_and_same_person_links_the_referral(
        web, rt, demo_users, referral_body):
    pid = known_priya(rt, demo_users, referral_body)
    web.sign_in("frontdoor@demo.test")
    response = web.post("/referrals/new", referral_form(action="check_people", **TYPED),
                        from_page="/referrals/new")
    assert response.status_code == 200
    html = web.last
    assert "People who may already be known" in html
    assert "Priya Johnson" in html and "31 May 1950" in html and "LE11" in html
    assert "LE11 2AB" not in html.split("People who may already be known")[1].split(
        "Check for known people")[0]  # the district only
    assert "same date of birth" in html.lower()
    assert f'name="identity-p1-{pid}"' in html
    before = people_count(rt)
    response = web.post("/referrals/new", referral_form(
        action="submit", submission_key=_key(html), **TYPED,
        **{f"identity-p1-{pid}": "same"}))
    assert response.status_code == 302, web.last
    reference = re.search(r"/referrals/([A-Z0-9-]+)/confirmation", response.location).group(1)
    assert people_count(rt) == before
    with rt.db.reader() as session:
        referral = session.exec(select(Referral).where(Referral.reference == reference)).one()
        linked = session.exec(select(ReferralPerson.person_id).where(
            ReferralPerson.referral_id == referral.id)).one()
        first = session.exec(select(Referral).where(Referral.id != referral.id)).one()
        assert session.exec(select(AuditEvent).where(
            AuditEvent.action == "person.identity_confirmed")).one().object_id == str(pid)
    assert linked == pid and referral.household_id == first.household_id


def test_not_the_same_records_a_new_person_and_the_decision(web, rt, demo_users,
                                                          referral_body):
    pid = known_priya(rt, demo_users, referral_body)
    web.sign_in("frontdoor@demo.test")
    web.post("/referrals/new", referral_form(**TYPED), from_page="/referrals/new")
    assert "Priya Johnson" in web.last
    response = web.post("/referrals/new", referral_form(
        action="submit", submission_key=_key(web.last), **TYPED,
        **{f"identity-p1-{pid}": "not_same"}))
    assert response.status_code == 302, web.last
    with rt.db.reader() as session:
        decision = session.exec(select(MatchDecision)).one()
    assert decision.same is False and pid in (decision.person_id, decision.other_person_id)


def test_a_stale_answer_is_shown_against_the_panel(web, rt, demo_users, referral_body):
    pid = known_priya(rt, demo_users, referral_body)
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", referral_form(
        action="submit", submission_key=_key(web.last), **TYPED,
        **{f"identity-p1-{pid + 100}": "same"}))
    assert response.status_code == 422
    assert 'href="#identity-p1"' in web.last
    assert "Priya Johnson" in web.last  # the known people as they are now


def test_the_partner_form_never_shows_known_people(web, rt, demo_users, referral_body):
    known_priya(rt, demo_users, referral_body)
    web.sign_in("fire@demo.test")
    response = web.post("/partner/referrals/new", referral_form(
        **TYPED, **{"referrer-name": "A. Officer"}), from_page="/partner/referrals/new")
    assert response.status_code == 200, web.last
    assert "People who may already be known" not in web.last
    assert "Priya" not in web.last
