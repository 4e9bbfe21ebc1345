"""The search page, the person page and the family page: what staff see, what partners and
teams outside the family do not, and the links between them."""

from __future__ import annotations

import re

import pytest
from sqlmodel import update

from tests.web.test_web_cases import family_referral
from triage.models import Person


@pytest.fixture
def patel_family(rt, demo_users):
    """The Patels, referred twice (routed to the Charnwood hub); the mother not safe to call."""
    from triage.services.people.keys import contact_keys
    from triage.services.referrals import intake

    references = [intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                         body=family_referral())[1]["reference"]
                  for _ in range(2)]
    with rt.db.unit_of_work() as session:
        session.exec(update(Person).where(Person.given_name == "Priya").values(
            safe_to_contact=False, safe_contact_notes="Partner checks her phone",
            phone="07700 900123", **contact_keys("07700 900123", None)))
    return references


def test_front_door_finds_a_misspelt_name_and_opens_the_family(web, patel_family):
    web.sign_in("frontdoor@demo.test")
    page = web.get("/search")
    assert page.status_code == 200 and ">Search<" in page.text
    found = web.get("/search?q=Noa+Pattel")
    assert found.status_code == 200
    assert "Noah Patel" in found.text and "family name very similar (0.96)" in found.text
    family_link = re.search(r'href="(/families/\d+)"', found.text).group(1)
    family = web.get(family_link)
    assert family.status_code == 200
    assert "Noah" in family.text and "Priya" in family.text
    assert "Not safe to call" in family.text
    assert "Chronology" in family.text and patel_family[0] in family.text
    assert family.text.index("Referral received (staff)") < family.text.index("Decided: level")
    only = web.get(f"{family_link}?kind=received")
    assert only.text.count("Referral received (staff)") == 2
    assert "Decided: level" not in only.text


def test_the_person_page_puts_how_to_contact_and_the_warning_first(web, patel_family):
    web.sign_in("frontdoor@demo.test")
    found = web.get("/search?q=07700+900123")
    person_link = re.search(r'href="(/people/\d+)"', found.text).group(1)
    page = web.get(person_link)
    assert page.status_code == 200
    assert "How to contact, and whether it is safe" in page.text
    assert "Not safe to call or text. Partner checks her phone" in page.text
    assert page.text.index("Not safe to call") < page.text.index(">Cases</h2>")
    assert "Harper Hub" not in page.text and "Not assigned" in page.text


def test_a_search_with_nothing_typed_in_error_is_explained(web, demo_users):
    web.sign_in("frontdoor@demo.test")
    page = web.get("/search?q=%2C")
    assert page.status_code == 422 and "Give a name" in page.text


def test_partners_have_no_search_and_other_teams_do_not_see_the_family(make_web, patel_family):
    partner, hub, contact_team = make_web(), make_web(), make_web()
    partner.sign_in("fire@demo.test")
    assert partner.get("/search?q=Noah+Patel").status_code == 403
    hub.sign_in("hub.charnwood@demo.test")
    found = hub.get("/search?q=Noah+Patel")
    family_link = re.search(r'href="(/families/\d+)"', found.text).group(1)
    assert hub.get(family_link).status_code == 200
    contact_team.sign_in("fcp@demo.test")
    assert "0 people found" in contact_team.get("/search?q=Noah+Patel").text
    assert contact_team.get(family_link).status_code == 404


def test_the_referral_case_and_worklist_pages_link_to_the_family(web, patel_family, rt):
    web.sign_in("frontdoor@demo.test")
    reference = patel_family[0]
    page = web.get(f"/referrals/{reference}")
    assert f'href="/referrals/{reference}/family"' in page.text
    family = web.get(f"/referrals/{reference}/family")
    assert family.status_code == 302 and "/families/" in family.headers["Location"]
    assert web.get("/referrals/EH-1999-999999/family").status_code == 404
