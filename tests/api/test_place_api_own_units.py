"""A council with its own locality units gets them in the API's `place`, under their own
names; the household keeps its top unit's value; the OpenAPI document says so."""

from __future__ import annotations

import pytest
from sqlmodel import select

from config.settings import Settings
from tests.reshaped_profile import reshaped_profile
from triage.models import Household


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32,
                    profile=str(reshaped_profile(tmp_path)))


def test_a_council_s_own_units_are_its_place(client, auth, referral_body, rt):
    assert rt.profile.localities.top == "early_help_hub"
    created = client.post("/api/v1/referrals", json=referral_body(), headers=auth("partner"))
    assert created.status_code == 201, created.json
    assert created.json["place"] == {
        "district": "melton", "early_help_hub": "melton-hub",
        "family_support_area": "south-charnwood-melton", "neighbourhood": "melton-north"}
    # The route reads within.neighbourhood, and its instance comes from that column.
    routes = [(r["service"], r["instance"]) for r in created.json["decision"]["routes"]]
    assert routes == [("local_area_coordination", "melton-north")]
    with rt.db.reader() as session:
        assert session.exec(select(Household.district)).all() == ["melton-hub"]


def test_the_openapi_place_lists_the_council_s_units(client):
    document = client.get("/api/v1/openapi.json").json
    place = document["components"]["schemas"]["Place"]["properties"]
    assert list(place) == ["district", "early_help_hub", "family_support_area", "neighbourhood"]
    assert place["early_help_hub"]["description"] == "Hub"
    assert "melton-north" in place["neighbourhood"]["enum"]
