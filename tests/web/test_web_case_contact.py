"""The case page opens with how to contact the family and whether it is safe to."""

from __future__ import annotations

from tests.web.test_web_cases import family_referral


def _case_for(rt, demo_users, *, contact: dict, address: dict | None = None) -> int:
    from triage.services.referrals import intake

    body = family_referral(address=address or {"line1": "4 Mill Lane", "town": "Loughborough"})
    body["people"][1]["contact"] = contact
    _, created = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"], body=body)
    return next(c["id"] for c in created["cases"] if c["service"] == "early_help_hub")


def test_a_person_not_safe_to_call_is_an_unmistakable_warning_first_on_the_case_page(
        web, rt, demo_users):
    case_id = _case_for(rt, demo_users, contact={
        "phone": "07700 900123", "safe_to_contact": False,
        "safe_contact_notes": "Partner checks her phone: email only", "email": "p@example.org",
        "preferred": "email", "language": "Gujarati", "interpreter": True})
    web.sign_in("hub.charnwood@demo.test")
    assert web.get(f"/cases/{case_id}").status_code == 200
    html = web.last
    contact = html.index("How to contact, and whether it is safe")
    assert contact < html.index("What is due")
    warning = html[contact:]
    assert 'class="app-not-safe" role="alert"' in warning
    assert "Not safe to contact: do not call or text Priya Patel." in warning
    assert "Partner checks her phone: email only" in warning
    assert "07700 900123" in warning and "p@example.org" in warning
    assert "Gujarati; needs an interpreter" in warning
    assert "4 Mill Lane, Loughborough, LE11 1AB" in warning


def test_safe_to_contact_shows_no_warning_and_unknown_asks_to_check(web, rt, demo_users):
    safe = _case_for(rt, demo_users, contact={"phone": "07700 900123",
                                              "safe_to_contact": True})
    web.sign_in("hub.charnwood@demo.test")
    web.get(f"/cases/{safe}")
    assert "app-not-safe" not in web.last and "Safe to contact" in web.last
    assert "Not known whether it is safe" not in web.last


def test_the_case_api_lists_the_contacts_for_the_team(client, rt, demo_users, auth):
    case_id = _case_for(rt, demo_users, contact={"phone": "07700 900123",
                                                 "safe_to_contact": False})
    response = client.get(f"/api/v1/cases/{case_id}",
                          headers=auth("hub_coordinator", team="early_help_hub:charnwood-hub"))
    assert response.status_code == 200
    mother = next(p for p in response.json["contacts"] if p["relationship"] == "mother")
    assert mother["safe_to_contact"] is False and mother["phone"] == "07700 900123"
    assert response.json["contacts"][0]["role"] == "subject"


def test_the_referral_page_shows_contact_details_and_identity_to_staff(web, rt, demo_users):
    from triage.services.referrals import intake

    body = family_referral(address={"line1": "4 Mill Lane", "town": "Loughborough"})
    body["people"][0].update({"nhs_number": "9434765919", "sex": "male",
                              "ethnicity": "asian_indian"})
    body["people"][1]["contact"] = {"phone": "07700 900123", "safe_to_contact": False,
                                    "safe_contact_notes": "Call the school instead"}
    _, created = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"], body=body)
    web.sign_in("frontdoor@demo.test")
    assert web.get(f"/referrals/{created['reference']}").status_code == 200
    html = web.last.split('id="contact-details"', 1)[1]
    assert "Address: 4 Mill Lane, Loughborough, LE11 1AB" in html
    assert "943 476 5919" in html and "Asian or Asian British: Indian" in html
    assert "Not safe to contact: do not call or text Priya Patel." in html
    assert "Call the school instead" in html and "07700 900123" in html
