"""The pages say the profile's words (profile.yaml `texts`): the shipped profile's, and the
neutral defaults when a profile has none."""

from __future__ import annotations

import html

import pytest

from config.profile import PROFILES_DIR
from config.settings import Settings
from tests.profile_copies import with_texts
from tests.web.conftest import Browser
from tests.web.test_web_public import fill_in

SHIPPED = {
    "start": ["Early help in Leicestershire</h1>",
              "call\n      the council's children's duty team (First Response) straight away"],
    "form": ["This decides which hub, area and coordinator cover them.",
             "not routed, unless someone is at risk of significant harm."],
    "consent": ["for example a family support worker or a local coordinator"],
    "postcode": "Enter a full UK postcode, like LE13 0AB",
}
NEUTRAL = {
    "start": ["Early help in Leicestershire County Council</h1>",
              "call\n      the council's children's social care team straight away"],
    "form": ["This decides which local teams cover them.",
             "only the routes that may go ahead without it (safeguarding) are opened"],
    "consent": ["to the service that can help. We will tell you who."],
    "postcode": "Enter a full UK postcode, like CV13 0AB",  # its first sector
}


@pytest.fixture(params=["shipped", "neutral"])
def words(request, tmp_path) -> tuple[str, dict]:
    return request.param, SHIPPED if request.param == "shipped" else NEUTRAL


@pytest.fixture
def settings(tmp_path, database_url, words) -> Settings:
    profile = "leicestershire"
    if words[0] == "neutral":
        profile = str(with_texts(PROFILES_DIR / "leicestershire", tmp_path / "p", None))
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32, profile=profile)


def _text(page: str) -> str:
    return html.unescape(page)


def test_the_start_page(client, words):
    page = _text(client.get("/").get_data(as_text=True))
    for expected in words[1]["start"]:
        assert expected in page
    if words[0] == "neutral":
        assert "First Response" not in page


def test_the_staff_form_s_hints_and_postcode_error(web, words):
    web.sign_in("frontdoor@demo.test")
    web.get("/referrals/new")
    for expected in words[1]["form"]:
        assert expected in _text(web.last)
    web.post("/referrals/new", {"postcode": "nowhere", "action": "check"})
    assert words[1]["postcode"] in _text(web.last)


def test_the_public_consent_page(client, words):
    web = Browser(client)
    fill_in(web, upto="contact")
    web.get("/self-referral/consent")
    for expected in words[1]["consent"]:
        assert expected in _text(web.last)


def test_the_api_description_says_what_an_instance_is_here(rt, words):
    from triage.api.openapi import build_spec

    doc = build_spec(rt)
    described = {p["description"] for p in doc["paths"]["/api/v1/cases"]["get"]["parameters"]
                 if p["name"] == "instance"}
    assert described == {"Service instance (hub, patch, area); blank: the caller's own"
                         if words[0] == "shipped" else
                         "Service instance (a local team); blank: the caller's own"}
