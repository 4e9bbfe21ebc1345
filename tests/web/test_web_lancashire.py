"""The web app running the Lancashire profile: its start page, and a staff referral through
the form (a Child in Need referral without consent waits, with no case open)."""

from __future__ import annotations

import re

import pytest

from config.settings import Settings


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32, profile="lancashire")


def test_the_start_page_is_lancashire_s(client, rt):
    assert rt.profile.id == "lancashire"
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Lancashire County Council" in html and "Leicestershire" not in html


def test_a_staff_referral_for_a_child_in_need_waits_for_consent(web, rt):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    assert 'id="answer-child_needs_statutory_services"' in web.last
    form = {
        "person_rows": "3",
        "people-0-given_name": "Lily", "people-0-family_name": "Hargreaves",
        "people-0-dob-day": "6", "people-0-dob-month": "6", "people-0-dob-year": "2017",
        "people-1-given_name": "Sarah", "people-1-family_name": "Hargreaves",
        "people-1-relationship": "mother",
        "people-1-dob-day": "5", "people-1-dob-month": "5", "people-1-dob-year": "1990",
        "postcode": "PR2 3AB", "answer-child_needs_statutory_services": "yes",
        "answer-send_needs": "yes", "consent": "not_asked", "action": "check",
    }
    checked = web.post("/referrals/new", form, from_page="/referrals/new")
    assert checked.status_code == 200
    assert "Level 4a: Statutory: child in need (s17)" in web.last
    assert "Children&#39;s Social Care (MASH)" in web.last and "Preston North" in web.last
    key = re.search(r'name="submission_key" value="([^"]+)"', web.last).group(1)
    submitted = web.post("/referrals/new", {**form, "action": "submit", "submission_key": key},
                         from_page="/referrals/new")
    assert submitted.status_code == 302
    reference = re.search(r"/referrals/(WPEHS-\d{4}-\d{6})/confirmation",
                          submitted.headers["Location"]).group(1)
    web.get(f"/referrals/{reference}")
    assert "Awaiting consent" in web.last and "No case is open yet." in web.last
