"""The intake API as partners and staff use it: record, read back, reject bad input clearly."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from triage.models import AuditEvent, OutboxMessage, Person, Referral

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def count(rt, model) -> int:
    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(model)).one()


@both_databases
def test_partner_referral_is_recorded_with_a_readable_reference(client, auth, referral_body, rt):
    headers = auth("partner")
    response = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["reference"].startswith("EH-20")
    assert len(body["reference"].split("-")[-1]) == 6
    assert response.headers["Location"] == f"/api/v1/referrals/{body['reference']}"
    again = client.get(f"/api/v1/referrals/{body['reference']}", headers=headers)
    assert again.status_code == 200
    assert again.json["reference"] == body["reference"]
    assert [p["given_name"] for p in again.json["people"]] == ["Gwen", None]
    assert again.json["answers"] == {"memory_concern": True, "social_isolation": True,
                                     "falls_risk": False}


@both_databases
def test_referral_people_and_outbox_row_are_written_together(client, auth, referral_body, rt):
    client.post("/api/v1/referrals", json=referral_body(), headers=auth("front_door"))
    assert count(rt, Referral) == 1
    assert count(rt, Person) == 2
    with rt.db.reader() as session:
        topics = session.exec(select(OutboxMessage.topic)).all()
    assert "referral.received" in topics


def test_partner_channel_and_organisation_come_from_the_partner_account(
        client, auth, referral_body):
    headers = auth("partner", organisation="Leicestershire Police")
    body = referral_body(channel="staff", referrer={"organisation": "Someone Else"})
    created = client.post("/api/v1/referrals", json=body, headers=headers).json
    assert created["channel"] == "partner"
    assert created["referrer"]["organisation"] == "Leicestershire Police"


def test_every_problem_is_named_by_field(client, auth, referral_body, rt):
    body = referral_body(
        channel="fax",
        postcode="not a postcode",
        answers={"memory_concern": "yes", "made_up_question": True},
        people=[{"ref": "p1", "role": "subject"}],
    )
    response = client.post("/api/v1/referrals", json=body, headers=auth())
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["channel"] == ["Must be one of: self, staff, partner."]
    assert "postcode" in errors
    assert errors["answers.memory_concern"] == ["Must be true, false or null (not known)."]
    assert "Not a question on checklist" in errors["answers.made_up_question"][0]
    assert errors["people.0.date_of_birth"] == ["Missing data for required field."]
    assert "message" in response.json
    assert count(rt, Referral) == 0 and count(rt, Person) == 0


def test_child_domain_answer_without_a_child_is_rejected_naming_the_indicators(
        client, auth, referral_body, rt):
    body = referral_body(answers={"school_exclusion": True, "parenting_support": True,
                                  "memory_concern": True})
    response = client.post("/api/v1/referrals", json=body, headers=auth())
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"answers.school_exclusion",
                                            "answers.parenting_support"}
    assert count(rt, Referral) == 0


def test_expected_baby_counts_as_a_child_in_the_household(client, auth, referral_body):
    body = referral_body(answers={"pregnancy_or_new_baby_support": True,
                                  "parenting_support": True})
    assert client.post("/api/v1/referrals", json=body, headers=auth()).status_code == 201


@pytest.mark.parametrize("raw, message", [
    (b"{not json", "Not valid JSON"),
    (b"", "no body"),
    (b"[1, 2]", "must be a JSON object"),
    (b'"a string"', "must be a JSON object"),
])
def test_malformed_bodies_get_422_with_a_message(client, auth, raw, message):
    response = client.post("/api/v1/referrals", data=raw, headers={
        **auth(), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert message in json.dumps(response.json)


def test_body_over_one_megabyte_is_refused_with_413(client, auth, referral_body, rt):
    body = referral_body(concerns="x" * 1_100_000)
    response = client.post("/api/v1/referrals", json=body, headers=auth())
    assert response.status_code == 413
    assert "larger than" in response.json["message"]
    assert count(rt, Referral) == 0


def test_missing_or_unknown_token_is_401(client, referral_body):
    assert client.post("/api/v1/referrals", json=referral_body()).status_code == 401
    bad = {"Authorization": "Bearer eht_not-a-real-token"}
    response = client.post("/api/v1/referrals", json=referral_body(), headers=bad)
    assert response.status_code == 401
    assert response.json["message"]


def test_revoked_token_stops_working(client, make_user, referral_body, rt):
    from triage.services.accounts import users

    _, token = make_user("partner")
    headers = {"Authorization": f"Bearer {token}"}
    first = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert first.status_code == 201
    assert users.revoke_token(rt.db, prefix=token[:12]) == 1
    response = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json["message"]


@both_databases
def test_retry_with_same_idempotency_key_returns_first_response_and_creates_nothing(
        client, auth, referral_body, rt):
    headers = {**auth("partner"), "Idempotency-Key": "batch-7-row-3"}
    first = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    second = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    assert count(rt, Referral) == 1


def test_same_idempotency_key_with_a_different_body_is_422(client, auth, referral_body, rt):
    headers = {**auth("partner"), "Idempotency-Key": "k1"}
    client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    response = client.post("/api/v1/referrals", json=referral_body(concerns="other"),
                           headers=headers)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["errors"]
    assert count(rt, Referral) == 1


def test_idempotency_keys_belong_to_one_caller(client, auth, referral_body, rt):
    client.post("/api/v1/referrals", json=referral_body(),
                headers={**auth("partner"), "Idempotency-Key": "same"})
    client.post("/api/v1/referrals", json=referral_body(),
                headers={**auth("partner"), "Idempotency-Key": "same"})
    assert count(rt, Referral) == 2


def test_partner_cannot_read_another_partners_referral(client, auth, referral_body):
    created = client.post("/api/v1/referrals", json=referral_body(), headers=auth("partner")).json
    other = client.get(f"/api/v1/referrals/{created['reference']}", headers=auth("partner"))
    assert other.status_code == 404


def test_every_read_of_a_referral_is_audited(client, auth, referral_body, rt):
    headers = auth("front_door")
    ref = client.post("/api/v1/referrals", json=referral_body(), headers=headers).json["reference"]
    client.get(f"/api/v1/referrals/{ref}", headers=headers)
    client.get(f"/api/v1/referrals/{ref}", headers=auth("partner"))
    with rt.db.reader() as session:
        actions = session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("referral.view") == 1
    assert actions.count("referral.view_refused") == 1


def test_unknown_reference_is_404(client, auth):
    response = client.get("/api/v1/referrals/EH-2026-999999", headers=auth())
    assert response.status_code == 404
    assert "EH-2026-999999" in response.json["message"]


def test_the_same_person_referred_twice_is_matched_not_duplicated(client, auth, referral_body, rt):
    headers = auth()
    client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    second = client.post("/api/v1/referrals", json=referral_body(), headers=headers).json
    gwen = next(p for p in second["people"] if p["ref"] == "p1")
    assert gwen["known_before"] is True
    # Gwen is matched; her son has no name, so he is never matched on a date of birth alone.
    assert count(rt, Person) == 3


@both_databases
def test_a_known_person_s_household_is_found_at_the_same_postcode_only(
        client, auth, referral_body, rt):
    from triage.models import Household, HouseholdMember

    headers = auth()
    first = client.post("/api/v1/referrals", json=referral_body(), headers=headers).json
    # Gwen again at the same postcode, with a daughter: the same household, one more member.
    daughter = {"ref": "p3", "role": "household", "relationship": "daughter",
                "given_name": "Ann", "family_name": "Smith", "date_of_birth": "1962-01-02"}
    second = client.post("/api/v1/referrals", headers=headers, json=referral_body(
        people=[*referral_body()["people"], daughter])).json
    # Gwen after a move: known, but a new household at the new postcode.
    moved = client.post("/api/v1/referrals", headers=headers,
                        json=referral_body(postcode="LE11 3AB")).json
    with rt.db.reader() as session:
        def household_of(reference):
            return session.exec(select(Referral.household_id).where(
                Referral.reference == reference)).one()

        home, again, new_home = (household_of(r["reference"]) for r in (first, second, moved))
        members = session.exec(select(HouseholdMember.person_id).where(
            HouseholdMember.household_id == home)).all()
        postcodes = {h.id: h.postcode for h in session.exec(select(Household)).all()}
    assert again == home and new_home != home
    assert postcodes[home] == "LE13 0AB" and postcodes[new_home] == "LE11 3AB"
    # Gwen, her unnamed son from each referral (never matched), her daughter.
    assert len(members) == 4
    assert next(p for p in moved["people"] if p["ref"] == "p1")["known_before"] is True


def test_responses_keep_the_documented_field_order(client, auth, referral_body):
    """Fields come in the schema's order (reference, status, received_at...), not sorted."""
    response = client.post("/api/v1/referrals", json=referral_body(), headers=auth())
    assert list(json.loads(response.data))[:3] == ["reference", "status", "received_at"]
