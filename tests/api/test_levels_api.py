"""Levels by code and consent per route, through the API: overrides name a level code (or
the older number where it names one level), decisions store the code beside the number, and
a route that needs consent waits while one that does not opens at once."""

from __future__ import annotations

import pytest
from sqlmodel import select

from config.settings import Settings
from tests.level_variants import copy_profile, split_statutory_level
from triage.models import AuditEvent, Decision

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

CHILD = {"ref": "c1", "role": "subject", "given_name": "Tom", "family_name": "Reed",
         "date_of_birth": "2016-05-04"}
GRAN = {"ref": "g1", "role": "household", "relationship": "grandmother", "given_name": "Ida",
        "family_name": "Reed", "date_of_birth": "1941-02-11"}
REASON = "Talked to the family and the school again today."


def _new(client, headers, referral_body, **changes) -> dict:
    response = client.post("/api/v1/referrals", json=referral_body(**changes), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def _stored_levels(rt, reference_id: int | None = None) -> list[tuple[str, int, str]]:
    with rt.db.reader() as session:
        return [(d.kind, d.level, d.level_code) for d in session.exec(
            select(Decision).order_by(Decision.id)).all()]


@both_databases
def test_an_override_names_a_level_code_and_stores_it_beside_the_number(
        client, auth, referral_body, rt):
    headers = auth("front_door")
    created = _new(client, headers, referral_body)
    assert created["decision"]["level_code"] == "2"
    response = client.post(f"/api/v1/referrals/{created['reference']}/override",
                           json={"level_code": "3", "reason": REASON}, headers=headers)
    assert response.status_code == 200, response.json
    decision = response.json["decision"]
    assert (decision["level_code"], decision["level"], decision["level_name"]) == (
        "3", 3, "Complex support needs")
    assert response.json["original_decision"]["level_code"] == "2"
    assert response.json["override"]["decision"]["level_code"] == "3"
    assert _stored_levels(rt) == [("engine", 2, "2"), ("override", 3, "3")]
    with rt.db.reader() as session:
        audited = session.exec(select(AuditEvent).where(
            AuditEvent.action == "decision.override")).one()
    assert audited.detail["level"] == "3"


@both_databases
def test_an_override_by_the_older_level_number_still_works(client, auth, referral_body, rt):
    headers = auth("front_door")
    created = _new(client, headers, referral_body)
    response = client.post(f"/api/v1/referrals/{created['reference']}/override",
                           json={"level": 3, "reason": REASON}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["decision"]["level_code"] == "3"


def test_an_unknown_level_code_is_422_naming_the_field_and_nothing_changes(
        client, auth, referral_body, rt):
    headers = auth("front_door")
    created = _new(client, headers, referral_body)
    for body, field in (({"level_code": "5", "reason": REASON}, "level_code"),
                        ({"level": 7, "reason": REASON}, "level"),
                        ({"level_code": "3", "level": 2, "reason": REASON}, "level")):
        response = client.post(f"/api/v1/referrals/{created['reference']}/override",
                               json=body, headers=headers)
        assert response.status_code == 422
        assert field in response.json["errors"], response.json
    assert _stored_levels(rt) == [("engine", 2, "2")]


@both_databases
def test_a_statutory_route_opens_at_once_while_a_voluntary_one_waits_for_consent(
        client, auth, referral_body, rt):
    """Overridden to level 4 (consent not required) with First Response and the Early Help
    Hub: the statutory hand-off opens now, early help waits until the family agrees."""
    headers = auth("front_door")
    created = _new(client, headers, referral_body, consent="not_asked", postcode="LE13 1AB",
                   people=[CHILD, {**GRAN, "date_of_birth": "1985-02-11"}])
    assert created["status"] == "awaiting_consent" and created["cases"] == []
    response = client.post(f"/api/v1/referrals/{created['reference']}/override", json={
        "level_code": "4", "reason": REASON,
        "routes": [{"service": "first_response", "instance": "countywide"},
                   {"service": "early_help_hub", "instance": "melton-hub"}]}, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert [(r["service"], r["consent_needed"]) for r in body["decision"]["routes"]] == [
        ("first_response", False), ("early_help_hub", True)]
    assert [c["service"] for c in body["cases"]] == ["first_response"]
    assert body["status"] == "awaiting_consent"
    given = client.post(f"/api/v1/referrals/{created['reference']}/consent",
                        json={"consent": "given"}, headers=headers)
    assert given.status_code == 200, given.json
    assert given.json["status"] == "routed"
    assert sorted(c["service"] for c in given.json["cases"]) == [
        "early_help_hub", "first_response"], "the open case is kept, not opened twice"


@both_databases
def test_a_voluntary_route_added_to_a_routed_statutory_referral_waits_for_consent(
        client, auth, referral_body, rt):
    headers = auth("front_door")
    created = _new(client, headers, referral_body, consent="not_asked", postcode="LE13 1AB",
                   people=[CHILD, {**GRAN, "date_of_birth": "1985-02-11"}],
                   answers={"child_at_risk_of_harm": True})
    assert created["status"] == "routed"
    assert [c["service"] for c in created["cases"]] == ["first_response"]
    response = client.post(f"/api/v1/referrals/{created['reference']}/override", json={
        "reason": REASON,
        "routes": [{"service": "first_response", "instance": "countywide"},
                   {"service": "early_help_hub", "instance": "melton-hub"}]}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "awaiting_consent"
    assert [c["service"] for c in response.json["cases"]] == ["first_response"]
    given = client.post(f"/api/v1/referrals/{created['reference']}/consent",
                        json={"consent": "given"}, headers=headers).json
    assert given["status"] == "routed"
    assert sorted(c["service"] for c in given["cases"]) == ["early_help_hub", "first_response"]


class TestASplitStatutoryLevel:
    """A profile shaped like Lancashire's: child safeguarding is level 4a (Child in Need,
    consent required), the adult route is level "adult" (consent not required)."""

    @pytest.fixture
    def settings(self, tmp_path, database_url) -> Settings:
        folder = split_statutory_level(copy_profile(tmp_path, "split"))
        return Settings(env="test", instance_path=tmp_path / "instance",
                        database_url=database_url, profile=str(folder),
                        secret_key="test-secret-key-" + "x" * 32)

    @both_databases
    def test_the_adult_route_opens_and_the_child_in_need_route_waits_for_consent(
            self, client, auth, referral_body, rt):
        headers = auth("front_door")
        created = _new(client, headers, referral_body, consent="not_asked",
                       postcode="LE11 2AB", people=[CHILD, GRAN],
                       answers={"child_at_risk_of_harm": True, "adult_at_risk": True})
        decision = created["decision"]
        assert (decision["level_code"], decision["level"]) == ("4a", 4)
        assert {r["service"]: r["consent_needed"] for r in decision["routes"]} == {
            "first_response": True, "adult_social_care": False}
        assert [c["service"] for c in created["cases"]] == ["adult_social_care"]
        assert created["status"] == "awaiting_consent"
        with rt.db.reader() as session:
            bypassed = session.exec(select(AuditEvent).where(
                AuditEvent.action == "consent.bypassed")).one()
        assert bypassed.detail["routes"] == ["adult_social_care:countywide"]
        assert bypassed.detail["level"] == "4a"
        given = client.post(f"/api/v1/referrals/{created['reference']}/consent",
                            json={"consent": "given"}, headers=headers)
        assert given.status_code == 200, given.json
        assert given.json["status"] == "routed"
        assert sorted(c["service"] for c in given.json["cases"]) == [
            "adult_social_care", "first_response"]

    def test_a_child_in_need_referral_without_consent_opens_nothing(
            self, client, auth, referral_body, rt):
        created = _new(client, auth("front_door"), referral_body, consent="not_asked",
                       postcode="LE11 2AB", people=[CHILD, GRAN],
                       answers={"child_at_risk_of_harm": True})
        assert created["decision"]["level_code"] == "4a"
        assert created["status"] == "awaiting_consent" and created["cases"] == []
        assert _stored_levels(rt) == [("engine", 4, "4a")]


    def test_a_step_up_goes_in_at_the_profile_s_step_up_level(
            self, client, auth, referral_body, rt):
        """Not the "highest" level: the one profile.yaml names (here 4a, Child in Need, which
        needs consent; the family's consent on the stepping-up referral carries over)."""
        from tests.api.cases_helpers import fire

        mother = {"ref": "m1", "role": "subject", "given_name": "Dana", "family_name": "Ives",
                  "date_of_birth": "1984-01-20"}
        teenager = {"ref": "c1", "role": "household", "relationship": "son",
                    "given_name": "Kit", "family_name": "Ives", "date_of_birth": "2012-06-01"}
        created = _new(client, auth("partner"), referral_body, postcode="LE11 2AB",
                       people=[mother, teenager],
                       answers={"child_behaviour_concern": True, "family_conflict": True})
        (case,) = [c for c in created["cases"] if c["service"] == "early_help_hub"]
        hub = auth("hub_coordinator", team=f"early_help_hub:{case['instance']}")
        stepped = fire(client, hub, case["id"], "step_up", reason="Disclosed harm at school")
        assert stepped.status_code == 200, stepped.json
        (link,) = client.get(f"/api/v1/cases/{case['id']}", headers=hub).json[
            "linked_referrals"]
        linked = client.get(f"/api/v1/referrals/{link['reference']}",
                            headers=auth("front_door")).json
        decision = linked["decision"]
        assert (decision["level_code"], decision["level"]) == ("4a", 4)
        assert [(r["service"], r["consent_needed"]) for r in decision["routes"]] == [
            ("first_response", True)]
        assert [c["service"] for c in linked["cases"]] == ["first_response"]
        assert ("override", 4, "4a") in _stored_levels(rt)


@both_databases
def test_the_migration_gives_existing_decisions_their_number_as_their_code(
        client, auth, referral_body, rt, database_url):
    """Revision 0016 adds decision.level_code: a decision stored before it (when every level
    was a whole number) gets that number as its code."""
    from sqlalchemy import create_engine, text

    from triage.migrations import downgrade, upgrade

    _new(client, auth("front_door"), referral_body)
    rt.db.dispose()
    engine = create_engine(database_url)
    try:
        downgrade(engine, "0011")
        with engine.connect() as connection:
            columns = [c[1] if engine.dialect.name == "sqlite" else c[0] for c in
                       connection.execute(text(
                           "PRAGMA table_info(decision)" if engine.dialect.name == "sqlite"
                           else "SELECT column_name FROM information_schema.columns "
                                "WHERE table_name = 'decision'"))]
        assert "level_code" not in columns
        upgrade(engine)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT level, level_code FROM decision")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(2, "2")]
