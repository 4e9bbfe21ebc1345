"""What Schemathesis found against the live app, each pinned by a test: answers that match
the OpenAPI document, and a 4xx naming the field where there was a 500."""

from __future__ import annotations

import pytest

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@both_databases
def test_overriding_only_the_level_of_a_referral_with_no_instance_asks_for_routes(
        client, auth, referral_body):
    # Found by Schemathesis: outside the council's area the decision routes to a service with
    # no instance (needs review); an override that kept those routes was a 500 (NOT NULL).
    headers = auth("front_door")
    sent = client.post("/api/v1/referrals", json=referral_body(postcode="NG1 5AA"),
                       headers=headers).json
    assert sent["status"] == "needs_review"
    url = f"/api/v1/referrals/{sent['reference']}/override"
    answer = client.post(url, json={"level": 4, "reason": "Safeguarding concern on the call."},
                         headers=headers)
    assert answer.status_code == 422, answer.json
    assert "routes" in answer.json["errors"]
    again = client.get(f"/api/v1/referrals/{sent['reference']}", headers=headers).json
    assert again["status"] == "needs_review" and again["override"] is None
    assert again["cases"] == []
