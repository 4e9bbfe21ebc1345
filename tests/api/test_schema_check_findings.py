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


@pytest.mark.parametrize("flag", ["information_only", "step_down"])
@pytest.mark.parametrize("value", [1, 0, "true", None])
def test_a_flag_in_the_referral_body_is_true_or_false_only(client, auth, referral_body,
                                                           flag, value):
    # Found by Schemathesis: "step_down": 1 was recorded as true (1 == True in Python).
    answer = client.post("/api/v1/triage/preview", json=referral_body(**{flag: value}),
                         headers=auth("front_door"))
    assert answer.status_code == 422 and flag in answer.json["errors"]


def test_batch_is_not_read_as_a_referral_reference(client, auth):
    # Found by Schemathesis: OPTIONS /api/v1/referrals/batch advertised GET (the reference
    # route matched "batch"), which the document rightly does not list.
    headers = auth("front_door")
    options = client.options("/api/v1/referrals/batch", headers=headers)
    assert "GET" not in options.headers["Allow"] and "POST" in options.headers["Allow"]
    assert client.get("/api/v1/referrals/batch", headers=headers).status_code == 405
    assert client.get("/api/v1/referrals/not-a-reference", headers=headers).status_code == 404


def test_a_batch_with_an_unknown_confirm_value_is_refused(client, auth, referral_body):
    # Found by Schemathesis: ?confirm=anything was ignored (the document allows "duplicate").
    answer = client.post("/api/v1/referrals/batch?confirm=yes",
                         json={"referrals": [referral_body()]}, headers=auth("front_door"))
    assert answer.status_code == 422 and "confirm" in answer.json["errors"]
