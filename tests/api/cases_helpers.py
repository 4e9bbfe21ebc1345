"""Referral bodies that route to each service, and small helpers for driving cases by API."""

from __future__ import annotations

from typing import Any

CHILD = {"ref": "c1", "role": "subject", "given_name": "Tom", "family_name": "Reed",
         "date_of_birth": "2016-05-04"}
MUM = {"ref": "m1", "role": "household", "relationship": "mother", "given_name": "Jo",
       "family_name": "Reed", "date_of_birth": "1988-02-11"}
OLDER = {"ref": "p1", "role": "subject", "given_name": "Gwen", "family_name": "Smith",
         "date_of_birth": "1935-04-02"}
ADULT = {"ref": "a1", "role": "subject", "given_name": "Sam", "family_name": "Hale",
         "date_of_birth": "1968-09-09"}

# service -> the changes to the contract's example body that route a referral there (the
# profile's worked examples), and the instance it lands at.
ROUTED_TO: dict[str, tuple[dict[str, Any], str]] = {
    "local_area_coordination": ({}, "melton-north"),
    "first_contact_plus": ({"postcode": "LE13 1AB", "people": [ADULT],
                            "answers": {"adult_mental_health": True}}, "countywide"),
    "early_help_hub": ({"postcode": "LE11 2AB", "people": [MUM, CHILD],
                        "answers": {"domestic_abuse": True}}, "charnwood-hub"),
    "supporting_leicestershire_families": ({"postcode": "LE13 1AB", "people": [CHILD, MUM],
                                            "step_down": True,
                                            "answers": {"parenting_support": True}},
                                           "south-charnwood-melton"),
    "first_response": ({"postcode": "LE11 2AA", "people": [CHILD, MUM], "consent": "not_asked",
                        "answers": {"child_at_risk_of_harm": True, "parenting_support": True}},
                       "countywide"),
    "adult_social_care": ({"people": [OLDER],
                           "answers": {"adult_at_risk": True, "social_isolation": True}},
                          "countywide"),
    "signposting": ({"postcode": "LE13 1AB", "people": [ADULT], "answers": {},
                     "information_only": True}, "countywide"),
}


def open_case(client, headers: dict, referral_body, service: str, *,
              family: str | None = None) -> tuple[str, int]:
    """Submit a referral that routes to `service`; return (reference, case id). With `family`,
    its people carry that family name instead: a family not known before (a family referred
    again is routed by its history: its open case, or a re-referral's step up)."""
    changes, instance = ROUTED_TO[service]
    body = referral_body(**changes)
    if family is not None:
        body["people"] = [{**person, "family_name": family} for person in body["people"]]
    response = client.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.json
    cases = [c for c in response.json["cases"] if c["service"] == service]
    assert cases and cases[0]["instance"] == instance, response.json["cases"]
    return response.json["reference"], cases[0]["id"]


def team(service: str) -> str:
    return f"{service}:{ROUTED_TO[service][1]}"


def fire(client, headers: dict, case_id: int, event: str, **fields):
    return client.post(f"/api/v1/cases/{case_id}/events", json={"event": event, **fields},
                       headers=headers)


def hub_and_contact_family(referral_body) -> dict:
    """A family routed to two services at once: the Melton hub and First Contact Plus."""
    return referral_body(postcode="LE13 1AB", people=[
        {"ref": "c1", "role": "subject", "given_name": "Cal", "family_name": "Hart",
         "date_of_birth": "2014-03-03"},
        {"ref": "m1", "role": "household", "date_of_birth": "1985-06-06"}],
        answers={"housing_at_risk": True, "household_asb": True,
                 "parenting_capacity_concern": True})
