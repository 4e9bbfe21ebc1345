"""Levels by code on the referral page: the override offers the profile's level codes, and
while a referral waits for consent the page says which routes went ahead and which wait."""

from __future__ import annotations

from tests.web.conftest import error_links
from tests.web.test_web_referrals import _key, referral_form

REASON = "Talked to the family and the school again today."


def _submitted(web) -> str:
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", referral_form(
        action="submit", submission_key=_key(web.last)))
    return f"/referrals/{response.headers['Location'].split('/')[2]}"


def test_the_override_offers_level_codes_and_sets_the_one_chosen(web):
    page = _submitted(web)
    web.get(page)
    assert '<option value="4">4: Statutory</option>' in web.last
    response = web.post(f"{page}/override", {"level_code": "3", "reason": REASON},
                        from_page=page)
    assert response.status_code == 302
    web.get(page)
    assert "Level 3: Complex support needs" in web.last


def test_a_level_code_the_profile_does_not_have_is_refused_on_the_form(web):
    page = _submitted(web)
    response = web.post(f"{page}/override", {"level_code": "9", "reason": REASON},
                        from_page=page)
    assert response.status_code == 422
    assert "override-level" in error_links(web.last)
    assert "Choose one of the levels: 1, 2, 3, 4." in web.last


def test_the_page_says_which_routes_went_ahead_and_which_wait_for_consent(
        web, client, auth, referral_body):
    headers = auth("front_door")
    created = client.post("/api/v1/referrals", headers=headers, json=referral_body(
        consent="not_asked", postcode="LE13 1AB")).json
    client.post(f"/api/v1/referrals/{created['reference']}/override", headers=headers, json={
        "level_code": "4", "reason": REASON,
        "routes": [{"service": "first_response", "instance": "countywide"},
                   {"service": "early_help_hub", "instance": "melton-hub"}]})
    web.sign_in("frontdoor@demo.test")
    web.get(f"/referrals/{created['reference']}")
    assert "Without waiting for consent" in web.last
    assert "First Response Children&#39;s Duty goes ahead without waiting for consent;" \
        in web.last
    assert "will wait in the awaiting consent list until the person agrees" in web.last
    assert "A safeguarding concern goes to the statutory service without waiting for " \
           "consent." in web.last, "the level's own description"
