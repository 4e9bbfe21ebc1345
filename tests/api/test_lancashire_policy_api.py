"""Lancashire's policy through the API of an app running the real Lancashire profile: consent
per route (a Child in Need referral waits while the adult-at-risk case opens), child
protection at once, a step-down from Children's Social Care to targeted early help, and a
family with an open targeted case staying with that team."""

from __future__ import annotations

import pytest
from sqlmodel import select

from config.settings import Settings
from tests.api.cases_helpers import fire
from triage.models import AuditEvent

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

CHILD = {"ref": "c1", "role": "subject", "given_name": "Lily", "family_name": "Hargreaves",
         "date_of_birth": "2017-06-06"}
MUM = {"ref": "m1", "role": "household", "relationship": "mother", "given_name": "Sarah",
       "family_name": "Hargreaves", "date_of_birth": "1990-05-05"}
GRAN = {"ref": "g1", "role": "household", "relationship": "grandmother", "given_name": "Edna",
        "family_name": "Hargreaves", "date_of_birth": "1944-02-11"}


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32, profile="lancashire")


def _new(client, headers, **body) -> dict:
    base = {"channel": "staff", "postcode": "PR2 3AB", "people": [CHILD, MUM],
            "answers": {}, "consent": "given", "information_only": False, "step_down": False}
    response = client.post("/api/v1/referrals", json={**base, **body}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


@both_databases
def test_child_in_need_waits_for_consent_while_the_adult_at_risk_case_opens(client, auth, rt):
    assert rt.profile.id == "lancashire"
    headers = auth("front_door")
    created = _new(client, headers, consent="not_asked", people=[CHILD, GRAN],
                   answers={"child_needs_statutory_services": True, "adult_at_risk": True})
    decision = created["decision"]
    assert (decision["level_code"], decision["level"], decision["urgent"]) == ("4a", 4, False)
    assert decision["safeguarding"] == {"child": False, "adult": True}
    assert {(r["service"], r["instance"], r["consent_needed"]) for r in decision["routes"]} == {
        ("childrens_social_care", "mash", True), ("wpehs_targeted", "preston-north", True),
        ("adult_social_care", "customer-access", False)}
    assert created["status"] == "awaiting_consent"
    assert [(c["service"], c["instance"]) for c in created["cases"]] == [
        ("adult_social_care", "customer-access")]
    with rt.db.reader() as session:
        bypassed = session.exec(select(AuditEvent).where(
            AuditEvent.action == "consent.bypassed")).one()
    assert bypassed.detail["routes"] == ["adult_social_care:customer-access"]

    given = client.post(f"/api/v1/referrals/{created['reference']}/consent",
                        json={"consent": "given"}, headers=headers)
    assert given.status_code == 200, given.json
    assert given.json["status"] == "routed"
    assert sorted((c["service"], c["instance"]) for c in given.json["cases"]) == [
        ("adult_social_care", "customer-access"), ("childrens_social_care", "mash"),
        ("wpehs_targeted", "preston-north")]


def test_a_child_in_need_referral_without_consent_opens_nothing(client, auth):
    created = _new(client, auth("front_door"), consent="refused",
                   answers={"child_needs_statutory_services": True, "send_needs": True})
    assert created["decision"]["level_code"] == "4a"
    assert created["status"] == "awaiting_consent" and created["cases"] == []


def test_child_protection_goes_to_mash_at_once_without_consent(client, auth):
    created = _new(client, auth("partner", organisation="Lancashire Constabulary"),
                   channel="partner", consent="not_asked", postcode="PR1 1AB",
                   referrer={"organisation": "Lancashire Constabulary"},
                   answers={"child_significant_harm": True})
    decision = created["decision"]
    assert (decision["level_code"], decision["urgent"]) == ("4b", True)
    assert created["status"] == "routed"
    assert [(c["service"], c["instance"]) for c in created["cases"]] == [
        ("childrens_social_care", "mash")]


def test_a_step_down_from_mash_drops_the_statutory_answers_and_goes_to_targeted_help(
        client, auth):
    """Children's Social Care finds the threshold not met: the linked referral keeps the
    family's other needs (level 2) and, as a step-down, goes to targeted early help in the
    family's planning area rather than the universal offer."""
    headers = auth("front_door")
    created = _new(client, headers, answers={"child_needs_statutory_services": True,
                                             "child_behaviour": True})
    (mash,) = [c for c in created["cases"] if c["service"] == "childrens_social_care"]
    social_worker = auth("practitioner", team="childrens_social_care")
    assert fire(client, social_worker, mash["id"], "acknowledge").status_code == 200
    stepped = fire(client, social_worker, mash["id"], "step_down",
                   reason="Below the child in need threshold; early help can support.")
    assert stepped.status_code == 200, stepped.json
    (link,) = client.get(f"/api/v1/cases/{mash['id']}", headers=social_worker).json[
        "linked_referrals"]
    linked = client.get(f"/api/v1/referrals/{link['reference']}", headers=headers).json
    decision = linked["decision"]
    assert decision["level_code"] == "2"
    assert [(r["service"], r["instance"]) for r in decision["routes"]] == [
        ("wpehs_targeted", "preston-north")]
    assert linked["answers"].get("child_needs_statutory_services") is not True


def test_a_family_with_an_open_targeted_case_stays_with_that_team(client, auth):
    """Referred again at level 2 (one child need): the route goes to the open targeted
    case's team, not the universal offer at the neighbourhood centre."""
    headers = auth("front_door")
    first = _new(client, headers, postcode="BB9 7AB", answers={"parenting_capacity": True})
    assert [(c["service"], c["instance"]) for c in first["cases"]] == [
        ("wpehs_targeted", "nelson-brierfield")]
    again = _new(client, headers, postcode="BB9 7AB", answers={"school_attendance": True})
    decision = again["decision"]
    assert decision["level_code"] == "2"
    assert [(r["service"], r["instance"]) for r in decision["routes"]] == [
        ("wpehs_targeted", "nelson-brierfield")]
