"""The managers' capacity page and the team chooser, on the test profile that balances Local
Area Coordination within each district (tests/allocation_profile.py)."""

from __future__ import annotations

import pytest

from config.settings import Settings
from tests.allocation_profile import (
    CHARNWOOD_TEAM,
    LOUGHBOROUGH_EAST,
    SHEPSHED,
    allocation_profile,
)
from triage.models import User
from triage.services.referrals import intake


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32,
                    profile=str(allocation_profile(tmp_path)))


def _refer(rt, user, referral_body, postcode, n):
    status, reply = intake.submit_referral(rt, user=user, body=referral_body(
        postcode=postcode, people=[{"ref": "p1", "role": "subject", "given_name": "Ada",
                                    "family_name": ("Smith", "Jones", "Patel", "Khan")[n],
                                    "date_of_birth": f"19{40 + n}-0{1 + n}-1{n}"}]))
    assert status == 201
    return reply


def test_a_manager_sees_each_teams_open_cases_against_capacity(web, rt, demo_users,
                                                                referral_body):
    staff = demo_users["frontdoor@demo.test"]
    for n, postcode in enumerate([LOUGHBOROUGH_EAST, LOUGHBOROUGH_EAST, LOUGHBOROUGH_EAST,
                                  SHEPSHED]):
        _refer(rt, staff, referral_body, postcode, n)
    web.sign_in("manager@demo.test")
    web.get("/cases/")
    assert 'href="/cases/capacity"' in web.last  # the menu offers it: the profile has some
    response = web.get("/cases/capacity")
    assert response.status_code == 200
    page = web.last
    assert "Open cases against capacity" in page
    row = page.split("Loughborough East coordinator", 1)[1].split("</tr>", 1)[0]
    # Loughborough East: 2 of 2 (the third case went to Shepshed), full.
    assert [c.split(">")[-1] for c in row.split("</td>")[1:5]] == ["Charnwood", "2", "2", "0"]
    assert "Full" in row
    shepshed = page.split("Shepshed coordinator", 1)[1].split("</tr>", 1)[0]
    assert "Has room" in shepshed and ">2</td>" in shepshed


def test_the_chooser_lists_the_profiles_teams_by_name_and_shows_a_teams_cases(
        web, rt, demo_users, referral_body):
    staff = demo_users["frontdoor@demo.test"]
    east = _refer(rt, staff, referral_body, LOUGHBOROUGH_EAST, 0)
    shepshed = _refer(rt, staff, referral_body, SHEPSHED, 1)
    web.sign_in("frontdoor@demo.test")
    web.get("/cases/")
    assert f'<option value="{CHARNWOOD_TEAM}" >Charnwood coordinators</option>' in web.last
    assert "First Contact Plus</option>" in web.last
    assert "first_contact_plus:countywide" not in web.last  # the same team, listed once
    web.get(f"/cases/?team={CHARNWOOD_TEAM}")
    assert "Charnwood coordinators" in web.last
    for reply in (east, shepshed):
        assert reply["reference"] in web.last


def test_a_practitioner_may_not_see_the_capacity_page(web, demo_users):
    web.sign_in("lac@demo.test")
    assert web.get("/cases/capacity").status_code == 403
    assert 'href="/cases/capacity"' not in web.last


def test_an_administrator_gives_a_team_of_the_profile_and_is_told_of_a_misspelt_one(
        web, rt, demo_users):
    lee = demo_users["lac@demo.test"]
    web.sign_in("admin@demo.test")
    web.get(f"/admin/users/{lee.id}/change")
    assert f'<option value="{CHARNWOOD_TEAM}"' in web.last  # the form lists it by name
    assert "Charnwood coordinators</option>" in web.last
    form = {"name": lee.name, "role": "practitioner", "team": "local_area_coordination:charnwod"}
    refused = web.post(f"/admin/users/{lee.id}/change", form)
    assert refused.status_code == 422
    assert "no team &#34;local_area_coordination:charnwod&#34; in this council&#39;s profile" \
        in web.last
    done = web.post(f"/admin/users/{lee.id}/change", {**form, "team": CHARNWOOD_TEAM})
    assert done.status_code == 302
    with rt.db.reader() as session:
        assert session.get(User, lee.id).team == CHARNWOOD_TEAM
