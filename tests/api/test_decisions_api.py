"""Decisions through the API: preview, routing at intake, consent later, staff overrides."""

from __future__ import annotations

import pytest
from sqlmodel import select

from triage.models import AuditEvent, Notification

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

CHILD = {"ref": "c1", "role": "subject", "given_name": "Tom", "family_name": "Reed",
         "date_of_birth": "2016-05-04"}
MUM = {"ref": "m1", "role": "household", "relationship": "mother", "given_name": "Jo",
       "family_name": "Reed", "date_of_birth": "1988-02-11"}


def test_preview_decides_without_storing_anything(client, auth, referral_body, rt):
    response = client.post("/api/v1/triage/preview", json=referral_body(), headers=auth())
    assert response.status_code == 200
    decision = response.json
    assert decision["level"] == 2 and decision["level_code"] == "2"
    assert decision["routes"] == [{"service": "local_area_coordination",
                                   "instance": "melton-north", "reason": decision["routes"][0][
                                       "reason"], "consent_needed": True}]
    assert decision["reasons"] and decision["ruleset"]["id"] == "leicestershire"
    client_get = client.get("/api/v1/referrals/EH-2026-000001", headers=auth())
    assert client_get.status_code == 404


@both_databases
def test_older_woman_in_a_patch_is_routed_to_her_coordinator(client, auth, referral_body):
    created = client.post("/api/v1/referrals", json=referral_body(), headers=auth()).json
    assert created["status"] == "routed"
    assert created["decision"]["level"] == 2
    assert [(c["service"], c["instance"]) for c in created["cases"]] == [
        ("local_area_coordination", "melton-north")]
    assert created["cases"][0]["state"]


def test_child_at_risk_goes_to_first_response_without_consent_and_is_audited(
        client, auth, referral_body, rt):
    body = referral_body(people=[CHILD, MUM], consent="not_asked",
                         answers={"child_at_risk_of_harm": True}, postcode="LE11 2AA")
    created = client.post("/api/v1/referrals", json=body, headers=auth()).json
    assert created["decision"]["level"] == 4 and created["urgent"] is True
    assert [c["service"] for c in created["cases"]] == ["first_response"]
    assert created["status"] == "routed"
    with rt.db.reader() as session:
        actions = session.exec(select(AuditEvent.action)).all()
    assert "consent.bypassed" in actions


def test_no_case_opens_until_consent_is_given(client, auth, referral_body, rt):
    headers = auth()
    created = client.post("/api/v1/referrals", json=referral_body(consent="not_asked"),
                          headers=headers).json
    assert created["status"] == "awaiting_consent" and created["cases"] == []
    assert created["decision"]["routes"], "the recommended routes are recorded"
    given = client.post(f"/api/v1/referrals/{created['reference']}/consent",
                        json={"consent": "given"}, headers=headers)
    assert given.status_code == 200
    assert given.json["status"] == "routed"
    assert [c["service"] for c in given.json["cases"]] == ["local_area_coordination"]
    with rt.db.reader() as session:
        recipients = session.exec(select(Notification.recipient)).all()
    assert "team:local_area_coordination:melton-north" in recipients


def test_consent_on_a_routed_referral_is_a_conflict(client, auth, referral_body):
    headers = auth()
    ref = client.post("/api/v1/referrals", json=referral_body(), headers=headers).json[
        "reference"]
    response = client.post(f"/api/v1/referrals/{ref}/consent", json={"consent": "given"},
                           headers=headers)
    assert response.status_code == 409
    assert "not waiting for consent" in response.json["message"]


def test_out_of_area_postcode_waits_for_review_with_no_cases(client, auth, referral_body):
    created = client.post("/api/v1/referrals", json=referral_body(postcode="NG1 5AA"),
                          headers=auth()).json
    assert created["status"] == "needs_review"
    assert created["cases"] == []
    assert created["decision"]["level"] == 2
    assert all(r["instance"] is None for r in created["decision"]["routes"])


def test_override_keeps_the_original_decision_and_routes_the_case(client, auth, referral_body):
    headers = auth("front_door")
    ref = client.post("/api/v1/referrals", json=referral_body(postcode="NG1 5AA"),
                      headers=headers).json["reference"]
    response = client.post(f"/api/v1/referrals/{ref}/override", headers=headers, json={
        "routes": [{"service": "first_contact_plus", "instance": "countywide"}],
        "reason": "Moving to Melton next week; FCP agreed to pick up now.",
    })
    assert response.status_code == 200, response.json
    body = response.json
    assert body["decision"]["routes"][0]["service"] == "first_contact_plus"
    assert body["original_decision"]["routes"][0]["instance"] is None
    assert body["override"]["reason"].startswith("Moving to Melton")
    assert body["status"] == "routed"
    assert [c["service"] for c in body["cases"]] == ["first_contact_plus"]


def test_override_needs_a_reason_and_known_services(client, auth, referral_body):
    headers = auth("front_door")
    ref = client.post("/api/v1/referrals", json=referral_body(), headers=headers).json[
        "reference"]
    response = client.post(f"/api/v1/referrals/{ref}/override", headers=headers, json={
        "routes": [{"service": "bingo", "instance": "x"}], "reason": "short"})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"reason"}
    response = client.post(f"/api/v1/referrals/{ref}/override", headers=headers, json={
        "routes": [{"service": "bingo", "instance": "x"}], "reason": "A proper reason here."})
    assert response.status_code == 422
    assert "routes.0.service" in response.json["errors"]


def test_partners_may_not_override(client, auth, referral_body):
    headers = auth("partner")
    ref = client.post("/api/v1/referrals", json=referral_body(), headers=headers).json[
        "reference"]
    response = client.post(f"/api/v1/referrals/{ref}/override", headers=headers,
                           json={"level": 3, "reason": "I think it is more serious."})
    assert response.status_code == 403


def test_family_with_an_open_family_support_case_goes_back_to_family_support(
        client, auth, referral_body):
    headers = auth()
    family = [CHILD, MUM]
    first = client.post("/api/v1/referrals", headers=headers, json=referral_body(
        people=family, postcode="LE11 1AA", step_down=True,
        answers={"school_attendance_concern": True})).json
    assert [c["service"] for c in first["cases"]] == ["supporting_leicestershire_families"]
    again = client.post("/api/v1/referrals", headers=headers, json=referral_body(
        people=family, postcode="LE11 1AA", answers={"child_behaviour_concern": True})).json
    assert [(c["service"], c["instance"]) for c in again["cases"]] == [
        ("supporting_leicestershire_families", first["cases"][0]["instance"])]


@both_databases
def test_staff_who_may_not_see_a_referral_can_neither_record_consent_nor_override(
        client, auth, make_user, referral_body, rt):
    created = client.post("/api/v1/referrals", json=referral_body(consent="not_asked"),
                          headers=auth("partner")).json
    reference = created["reference"]
    _, token = make_user("practitioner", team="first_contact_plus")
    stranger = {"Authorization": f"Bearer {token}"}
    consent = client.post(f"/api/v1/referrals/{reference}/consent",
                          json={"consent": "refused"}, headers=stranger)
    assert consent.status_code == 404, "no record, and no hint that it exists"
    assert "given_name" not in consent.get_data(as_text=True)
    with rt.db.reader() as session:
        actions = session.exec(select(AuditEvent.action)).all()
    assert "referral.consent_refused" in actions
    again = client.get(f"/api/v1/referrals/{reference}", headers=auth("front_door")).json
    assert again["consent"] == "not_asked" and again["status"] == "awaiting_consent"


@both_databases
def test_consent_recorded_twice_opens_the_cases_once(client, auth, referral_body, rt):
    from triage.models import Case

    headers = auth()
    created = client.post("/api/v1/referrals", json=referral_body(consent="not_asked"),
                          headers=headers).json
    first = client.post(f"/api/v1/referrals/{created['reference']}/consent",
                        json={"consent": "given"}, headers=headers)
    second = client.post(f"/api/v1/referrals/{created['reference']}/consent",
                         json={"consent": "given"}, headers=headers)
    assert first.status_code == 200 and second.status_code == 409
    with rt.db.reader() as session:
        assert len(session.exec(select(Case)).all()) == len(first.json["cases"]) == 1


def test_a_partner_sees_where_a_referral_went_but_not_what_the_council_knew(
        client, auth, make_user, referral_body):
    _, token = make_user("partner", organisation="Fire and Rescue Service")
    partner = {"Authorization": f"Bearer {token}"}
    first = client.post("/api/v1/referrals", json=referral_body(), headers=partner).json
    again = client.post("/api/v1/referrals", json=referral_body(), headers=partner).json
    staff_view = client.get(f"/api/v1/referrals/{again['reference']}",
                            headers=auth("front_door")).json
    assert staff_view["people"][0]["known_before"] is True, "staff see the match"
    assert staff_view["decision"]["reasons"]
    for seen in (first, again,
                 client.get(f"/api/v1/referrals/{again['reference']}", headers=partner).json):
        assert all("known_before" not in p for p in seen["people"])
        assert "reasons" not in seen["decision"] and "override" not in seen
        assert seen["decision"]["level"] == 2
        assert [r["service"] for r in seen["decision"]["routes"]] == [
            c["service"] for c in seen["cases"]]
