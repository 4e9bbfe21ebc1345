"""The README's example referrals are accepted by the profile each is written for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _post(client, auth, name: str) -> dict:
    body = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    headers = auth("partner", organisation=body["referrer"]["organisation"])
    response = client.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_the_leicestershire_example_referral_is_accepted(client, auth):
    decision = _post(client, auth, "referral.json")["decision"]
    assert decision["level_code"] == "2"
    assert [(r["service"], r["instance"]) for r in decision["routes"]] == [
        ("local_area_coordination", "melton-north")]


class TestLancashire:
    @pytest.fixture
    def settings(self, tmp_path, database_url) -> Settings:
        return Settings(env="test", instance_path=tmp_path / "instance",
                        database_url=database_url, profile="lancashire",
                        secret_key="test-secret-key-" + "x" * 32)

    def test_the_lancashire_example_referral_is_accepted(self, client, auth):
        """lancashire-policy.md's third worked example: level 3, targeted early help in
        Bacup and Whitworth and adult wellbeing for the footprint."""
        created = _post(client, auth, "lancashire-referral.json")
        assert created["status"] == "routed"
        assert created["decision"]["level_code"] == "3"
        assert sorted((c["service"], c["instance"]) for c in created["cases"]) == [
            ("adult_wellbeing", "hyndburn-ribble-valley-rossendale"),
            ("wpehs_targeted", "rossendale-east")]
