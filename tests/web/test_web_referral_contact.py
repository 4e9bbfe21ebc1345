"""The staff and partner referral forms take each person's contact details and identity and
the household's address, and name a wrong one by its field."""

from __future__ import annotations

from sqlmodel import select

from tests.web.conftest import error_links
from tests.web.test_web_referrals import _key, referral_form
from triage.models import Household, Person, Referral


def with_contact(**changes) -> dict:
    return referral_form(**{
        "people-0-phone": "07700 900123", "people-0-email": "gwen@example.org",
        "people-0-preferred": "email", "people-0-safe_to_contact": "no",
        "people-0-safe_contact_notes": "Email only", "people-0-language": "Polish",
        "people-0-interpreter": "yes", "people-0-nhs_number": "943 476 5919",
        "people-0-sex": "female", "people-0-ethnicity": "white_other",
        "address-line1": "12 Elm Road", "address-town": "Melton Mowbray", **changes})


def test_the_form_offers_contact_details_with_the_profile_s_ethnicity_codes(web):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    assert "Is it safe to call or text them? Can we leave a message?" in web.last
    assert 'id="people-0-nhs_number"' in web.last and 'id="address-line1"' in web.last
    assert "Black, Black British, Caribbean or African: Caribbean" in web.last


def test_a_staff_referral_keeps_the_contact_details_typed(web, rt):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", with_contact(action="submit",
                                                       submission_key=_key(web.last)))
    assert response.status_code == 302, web.last
    with rt.db.reader() as session:
        gwen = session.exec(select(Person).where(Person.given_name == "Gwen")).one()
        home = session.exec(select(Household)).one()
    assert (gwen.phone_key, gwen.email, gwen.preferred_contact) == (
        "07700900123", "gwen@example.org", "email")
    assert gwen.safe_to_contact is False and gwen.safe_contact_notes == "Email only"
    assert (gwen.language, gwen.interpreter) == ("Polish", True)
    assert (gwen.nhs_number, gwen.sex, gwen.ethnicity) == ("9434765919", "female",
                                                           "white_other")
    assert (home.address_line1, home.town) == ("12 Elm Road", "Melton Mowbray")


def test_a_wrong_phone_or_nhs_number_is_named_by_its_field(web):
    web.sign_in("frontdoor@demo.test")
    web.post("/referrals/new", with_contact(**{"people-0-phone": "12",
                                               "people-0-nhs_number": "943 476 5918"}),
             from_page="/referrals/new")
    links = error_links(web.last)
    assert "people-0-phone" in links and "UK phone number" in links["people-0-phone"]
    assert "people-0-nhs_number" in links and "check digit" in links["people-0-nhs_number"]
    assert 'value="943 476 5918"' in web.last  # kept to correct


def test_the_subject_s_last_name_is_asked_for_unless_advice_only(web):
    web.sign_in("frontdoor@demo.test")
    web.post("/referrals/new", referral_form(**{"people-0-family_name": ""}),
             from_page="/referrals/new")
    assert "Enter the last name of the person being referred" in error_links(web.last)[
        "people-0-family_name"]


def test_a_partner_s_form_keeps_the_contact_details_too(web, rt):
    web.sign_in("fire@demo.test")
    web.get("/partner/referrals/new")
    assert 'id="people-0-phone"' in web.last
    response = web.post("/partner/referrals/new", with_contact(
        action="submit", submission_key=_key(web.last), **{
            "referrer-name": "Sam Watch", "referrer-phone": "0116 496 0123"}))
    assert response.status_code == 302, web.last
    with rt.db.reader() as session:
        gwen = session.exec(select(Person).where(Person.given_name == "Gwen")).one()
        referral = session.exec(select(Referral)).one()
    assert gwen.safe_to_contact is False and gwen.phone_key == "07700900123"
    assert (referral.referrer_name, referral.referrer_phone) == ("Sam Watch", "0116 496 0123")
