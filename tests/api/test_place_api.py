"""The API's `place` is the profile's locality columns under their API names: Leicestershire
keeps the contract's names, and the household keeps the value of the top unit (its district)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from triage.models import Household


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_leicestershire_s_place_keeps_the_contract_names(client, auth, referral_body, rt):
    headers = auth("partner")
    created = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert created.status_code == 201, created.json
    want = {"district": "melton", "early_help_hub": "melton-hub",
            "family_support_area": "south-charnwood-melton", "coordinator_patch": "melton-north"}
    assert created.json["place"] == want
    assert list(created.json["place"]) == list(want)
    read = client.get(f"/api/v1/referrals/{created.json['reference']}", headers=headers)
    assert read.json["place"] == want
    outside = client.post("/api/v1/referrals", json=referral_body(
        postcode="NG1 5AA", people=[{"ref": "p1", "role": "subject", "given_name": "Ann",
                                     "family_name": "Other", "date_of_birth": "1950-01-01"}]),
        headers=headers)
    assert outside.status_code == 201, outside.json
    assert outside.json["place"] is None
    with rt.db.reader() as session:
        assert set(session.exec(select(Household.district)).all()) == {"melton", None}
