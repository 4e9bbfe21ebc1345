"""The live decision equals the recorded one (contract 5.2): a staff preview counts a known
family's open family-support case, as recording does; a partner's preview never reveals it."""

from __future__ import annotations

import pytest

from tests.api.cases_helpers import CHILD, MUM, open_case

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def again(referral_body, **changes):
    """The same family referred again for a child's need, not as a step-down."""
    return referral_body(postcode="LE13 1AB", people=[CHILD, MUM],
                         answers={"parenting_support": True}, **changes)


def routes(body: dict) -> list[str]:
    return [r["service"] for r in body["routes"]]


@both_databases
def test_a_staff_preview_routes_a_known_family_as_recording_would(client, auth, referral_body):
    partner = auth("partner")
    staff = auth("front_door")
    before = client.post("/api/v1/triage/preview", json=again(referral_body), headers=staff)
    open_case(client, partner, referral_body, "supporting_leicestershire_families")
    preview = client.post("/api/v1/triage/preview", json=again(referral_body), headers=staff)
    assert preview.status_code == 200, preview.json
    recorded = client.post("/api/v1/referrals", json=again(referral_body), headers=staff)
    assert recorded.status_code == 201, recorded.json
    assert routes(preview.json) == routes(recorded.json["decision"])
    assert "supporting_leicestershire_families" in routes(preview.json)
    assert routes(preview.json) != routes(before.json)


@both_databases
def test_a_partners_preview_decides_as_if_the_family_were_unknown(client, auth, referral_body):
    partner = auth("partner")
    unknown = client.post("/api/v1/triage/preview", json=again(referral_body),
                          headers=partner).json
    open_case(client, partner, referral_body, "supporting_leicestershire_families")
    known = client.post("/api/v1/triage/preview", json=again(referral_body), headers=partner)
    assert known.status_code == 200
    assert known.json == unknown
