"""The referral page shows the postcode with the name of the profile's top locality unit
(Leicestershire: the district; here, a council whose top unit is the hub)."""

from __future__ import annotations

import pytest

from config.settings import Settings
from tests.reshaped_profile import reshaped_profile
from tests.web.test_web_referrals import _key, referral_form


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32,
                    profile=str(reshaped_profile(tmp_path)))


def test_the_referral_page_names_the_top_unit(web):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    response = web.post("/referrals/new", referral_form(
        action="submit", postcode="LE13 0AB", submission_key=_key(web.last)))
    web.get(f"/referrals/{response.headers['Location'].split('/')[2]}")
    assert "LE13 0AB (Melton Early Help Hub)" in web.last
