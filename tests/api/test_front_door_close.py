"""Closing a referral at the front door without a service (advice given, a duplicate,
entered in error...): for one of the profile's reasons, with a note; the referrer is told
the reason, never the note; a referral with open cases is closed by its teams."""

from __future__ import annotations

import pytest
from sqlmodel import select

from triage.models import AuditEvent, Notification

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
NOTE = "Rang the family: they have the leaflet and the number for the food bank."


@both_databases
def test_the_front_door_closes_a_referral_that_needs_no_service_and_the_referrer_is_told(
        client, auth, make_user, referral_body, rt):
    partner, token = make_user("partner", organisation="Fire and Rescue Service")
    sent = client.post("/api/v1/referrals", json=referral_body(postcode="NG1 5AA"),
                       headers={"Authorization": f"Bearer {token}"}).json
    assert sent["status"] == "needs_review" and sent["closure"] is None
    front_door = auth("front_door")

    def listed(status: str) -> list[str]:
        found = client.get(f"/api/v1/referrals?status={status}", headers=front_door).json
        return [r["reference"] for r in found["referrals"]]

    assert listed("needs_review") == [sent["reference"]]
    url = f"/api/v1/referrals/{sent['reference']}/close"
    closed = client.post(url, json={"closure": "advice_given", "note": NOTE},
                         headers=front_door)
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "closed"
    assert closed.json["closure"]["closure"] == "advice_given"
    assert closed.json["closure"]["note"] == NOTE
    # Off the front door's worklist; the partner sees why, not the note.
    assert listed("needs_review") == [] and listed("closed") == [sent["reference"]]
    seen = client.get(f"/api/v1/referrals/{sent['reference']}",
                      headers={"Authorization": f"Bearer {token}"}).json
    assert seen["status"] == "closed" and seen["closure"]["closure"] == "advice_given"
    assert "note" not in seen["closure"]
    with rt.db.reader() as session:
        told = session.exec(select(Notification).where(
            Notification.recipient == f"user:{partner.id}",
            Notification.kind == "referral.closed")).one()
        audit = session.exec(select(AuditEvent).where(
            AuditEvent.action == "referral.closed")).one()
    assert "Information and advice given" in told.body and "food bank" not in told.body
    assert audit.detail["closure"] == "advice_given"
    again = client.post(url, json={"closure": "duplicate", "note": NOTE}, headers=front_door)
    assert again.status_code == 409 and "closed" in again.json["message"]


def test_a_closure_needs_one_of_the_profile_s_reasons_and_a_note(client, auth, referral_body):
    front_door = auth("front_door")
    sent = client.post("/api/v1/referrals", json=referral_body(consent="not_asked"),
                       headers=front_door).json
    response = client.post(f"/api/v1/referrals/{sent['reference']}/close",
                           json={"closure": "bored", "note": "short"}, headers=front_door)
    assert response.status_code == 422
    assert "advice_given" in response.json["errors"]["closure"][0]
    assert "10 to 2000 characters" in response.json["errors"]["note"][0]
    assert client.get(f"/api/v1/referrals/{sent['reference']}",
                      headers=front_door).json["status"] == "awaiting_consent"


def test_a_referral_with_an_open_case_is_closed_by_its_teams_not_the_front_door(
        client, auth, referral_body):
    front_door = auth("front_door")
    sent = client.post("/api/v1/referrals", json=referral_body(), headers=front_door).json
    assert sent["status"] == "routed"
    response = client.post(f"/api/v1/referrals/{sent['reference']}/close",
                           json={"closure": "duplicate", "note": NOTE}, headers=front_door)
    assert response.status_code == 409
    assert "open cases (local_area_coordination case" in response.json["message"]


def test_partners_and_practitioners_may_not_close_referrals(client, auth, referral_body):
    sent = client.post("/api/v1/referrals", json=referral_body(consent="not_asked"),
                       headers=auth("front_door")).json
    for role in ("partner", "practitioner"):
        response = client.post(f"/api/v1/referrals/{sent['reference']}/close",
                               json={"closure": "duplicate", "note": NOTE}, headers=auth(role))
        assert response.status_code == 403


def test_a_council_without_closure_reasons_cannot_close_at_the_front_door(
        client, auth, referral_body, rt):
    from dataclasses import replace

    rt.profile = replace(rt.profile, front_door=replace(rt.profile.front_door, closures={}))
    front_door = auth("front_door")
    sent = client.post("/api/v1/referrals", json=referral_body(consent="not_asked"),
                       headers=front_door).json
    response = client.post(f"/api/v1/referrals/{sent['reference']}/close",
                           json={"closure": "duplicate", "note": NOTE}, headers=front_door)
    assert response.status_code == 409 and "front_door.closures" in response.json["message"]


def test_an_urgent_referral_is_closed_without_a_service_only_by_a_manager(
        client, auth, referral_body):
    child = {"ref": "c1", "role": "subject", "given_name": "Tom", "family_name": "Reed",
             "date_of_birth": "2016-05-04"}
    body = referral_body(people=[child], answers={"child_at_risk_of_harm": True},
                         postcode="NG1 5AA")
    sent = client.post("/api/v1/referrals", json=body, headers=auth("front_door")).json
    assert sent["urgent"] is True and sent["status"] == "needs_review"
    url = f"/api/v1/referrals/{sent['reference']}/close"
    close = {"closure": "already_supported", "note": "Open to the Nottingham City MASH."}
    refused = client.post(url, json=close, headers=auth("front_door"))
    assert refused.status_code == 403 and "only a manager" in refused.json["message"]
    assert client.post(url, json=close, headers=auth("manager")).status_code == 200


def test_once_closed_a_referral_takes_no_consent_or_override(client, auth, referral_body):
    front_door = auth("front_door")
    sent = client.post("/api/v1/referrals", json=referral_body(consent="not_asked"),
                       headers=front_door).json
    base = f"/api/v1/referrals/{sent['reference']}"
    assert client.post(f"{base}/close", json={"closure": "withdrawn", "note": NOTE},
                       headers=front_door).status_code == 200
    consent = client.post(f"{base}/consent", json={"consent": "given"}, headers=front_door)
    override = client.post(f"{base}/override", json={
        "level": 3, "reason": "Should have gone to the hub after all."}, headers=front_door)
    assert consent.status_code == override.status_code == 409
    after = client.get(base, headers=front_door).json
    assert after["status"] == "closed" and after["cases"] == []


def test_a_case_reopened_after_the_front_door_closed_the_referral_makes_it_live_again(
        client, auth, referral_body, rt):
    """A referral returned to the front door and closed there may still have a completed
    case; when its team reopens that case the referral is routed again, not 'closed at the
    front door' with an open case."""
    from triage.models import Case, Referral
    from triage.models.base import utcnow
    from triage.services.cases.casework import follow_cases

    sent = client.post("/api/v1/referrals", json=referral_body(),
                       headers=auth("front_door")).json
    with rt.db.unit_of_work() as session:  # as the front door left it: case closed, closed
        referral = session.exec(select(Referral).where(
            Referral.reference == sent["reference"])).one()
        referral.status, referral.closure = "closed", "no_service_needed"
        referral.closure_note, referral.closed_at = NOTE, utcnow()
        case = session.exec(select(Case).where(Case.referral_id == referral.id)).one()
        case.closed_at = utcnow()
        session.add_all([referral, case])
    with rt.db.unit_of_work() as session:  # the team reopens the case
        case = session.exec(select(Case).where(Case.referral_id == referral.id)).one()
        case.closed_at = None
        session.add(case)
        session.flush()
        follow_cases(session, referral.id)
    after = client.get(f"/api/v1/referrals/{sent['reference']}", headers=auth("front_door"))
    assert after.json["status"] == "routed" and after.json["closure"] is None
