"""Cases through the API: every pathway from offer to outcome, refusals that change nothing,
who may move a case, history that replays, and the referral following its cases."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from tests.api.cases_helpers import fire, hub_and_contact_family, open_case, team
from triage.models import AuditEvent, Case, CaseEvent, Notification, OutboxMessage

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

# service -> the events (with their fields) from the opening to the end, the final state and
# the coded outcome recorded.
PATHWAYS = {
    "first_contact_plus": (
        [("contact", {}),
         ("record_connections", {"connections": [
             {"organisation": "Citizens Advice", "need": "money and benefits"},
             {"organisation": "Warm Homes", "need": "cold home"}]}),
         ("record_connections", {"connections": [
             {"organisation": "Carers Trust", "need": "carer support"}]}),
         ("close", {"outcome": "needs_met"})],
        "completed", "needs_met"),
    "local_area_coordination": (
        [("introduce", {}), ("start_working_together", {}),
         ("hold", {"reason": "In hospital for two weeks"}), ("resume", {}),
         ("close", {"outcome": "partly_met"})],
        "completed", "partly_met"),
    "early_help_hub": (
        [("add_to_agenda", {}), ("record_discussion", {"meeting_date": "2026-12-08"}),
         ("allocate", {"lead_agency": "school", "lead_professional": "Head of year"})],
        "allocated", "allocated"),
    "supporting_leicestershire_families": (
        [("accept", {}), ("start_assessment", {}), ("agree_plan", {}), ("review", {}),
         ("review", {}), ("close", {"outcome": "needs_met"})],
        "completed", "needs_met"),
    "first_response": (
        [("acknowledge", {}), ("accept_for_assessment", {})],
        "accepted_for_assessment", "accepted_for_assessment"),
    "adult_social_care": (
        [("acknowledge", {}), ("no_further_action", {"reason": "below_threshold"})],
        "no_further_action", "no_further_action"),
    "signposting": (
        [("give_advice", {"advice": "Family information directory: baby groups"})],
        "completed", "advice_given"),
}


def count(rt, model, *where) -> int:
    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


@both_databases
@pytest.mark.parametrize("service", sorted(PATHWAYS))
def test_each_pathway_runs_from_offer_to_outcome_through_the_api(
        client, auth, referral_body, rt, service):
    partner = auth("partner")
    reference, case_id = open_case(client, partner, referral_body, service)
    worker = auth("practitioner", team=team(service))
    events, final, outcome = PATHWAYS[service]
    version = 1
    for event, fields in events:
        shown = client.get(f"/api/v1/cases/{case_id}", headers=worker).json
        allowed = {e["event"]: e for e in shown["allowed_events"]}
        assert event in allowed, (event, shown["state"], list(allowed))
        assert allowed[event]["needs"] == [f for f in fields if f != "note"]
        response = fire(client, worker, case_id, event, version=version, **fields)
        assert response.status_code == 200, response.json
        version += 1
        assert response.json["version"] == version
    case = response.json
    assert (case["state"], case["outcome"], case["closed"]) == (final, outcome, True)
    assert case["allowed_events"] == [] or {e["event"] for e in case["allowed_events"]} <= {
        "reopen"}
    assert case["due"]["items"] == [] and case["due"]["next_due_at"] is None
    assert [h["event"] for h in case["history"]] == ["open", *(e for e, _ in events)]
    assert case["history"][-1]["outcome"] == outcome
    referral = client.get(f"/api/v1/referrals/{reference}", headers=partner).json
    assert referral["status"] == "closed"
    assert referral["cases"][0]["outcome"] == outcome


def test_the_case_shows_state_fhir_status_allowed_fields_with_codes_due_and_history(
        client, auth, referral_body):
    _, case_id = open_case(client, auth("partner"), referral_body, "early_help_hub")
    shown = client.get(f"/api/v1/cases/{case_id}", headers=auth("manager")).json
    assert {"id", "service", "instance", "state", "allowed_events", "history", "due"} <= set(shown)
    assert (shown["state"], shown["status"]) == ("requested", "requested")
    decline = next(e for e in shown["allowed_events"] if e["event"] == "decline")
    assert decline["needs"] == ["reason"]
    reason = decline["fields"][0]
    assert reason["kind"] == "code"
    assert {"code": "outside_area", "label": "Lives outside the service's area"} in \
        reason["choices"]
    (due,) = shown["due"]["items"]
    assert due["kind"] == "hub_meeting" and due["escalate"] is True
    assert shown["due"]["next_due_at"] > shown["opened_at"]
    assert shown["history"][0]["from"] is None and shown["history"][0]["to"] == "requested"


def test_an_event_not_allowed_now_is_409_with_the_allowed_events_and_changes_nothing(
        client, auth, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body, "local_area_coordination")
    worker = auth("practitioner", team=team("local_area_coordination"))
    before = (count(rt, CaseEvent), count(rt, OutboxMessage))
    response = fire(client, worker, case_id, "start_working_together")
    assert response.status_code == 409
    body = response.json
    assert "message" in body and body["state"] == "requested" and body["version"] == 1
    assert {e["event"] for e in body["allowed_events"]} >= {"introduce", "decline"}
    assert all("needs" in e for e in body["allowed_events"])
    assert fire(client, worker, case_id, "no_such_event").status_code == 409
    assert (count(rt, CaseEvent), count(rt, OutboxMessage)) == before
    assert client.get(f"/api/v1/cases/{case_id}", headers=worker).json["version"] == 1


def test_a_missing_or_bad_field_is_422_naming_it_and_changes_nothing(
        client, auth, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body, "local_area_coordination")
    worker = auth("practitioner", team=team("local_area_coordination"))
    before = count(rt, CaseEvent)
    missing = fire(client, worker, case_id, "decline")
    assert missing.status_code == 422
    assert "reason" in missing.json["errors"] and "message" in missing.json
    bad_code = fire(client, worker, case_id, "decline", reason="bored")
    assert bad_code.status_code == 422
    assert "not an allowed code" in bad_code.json["errors"]["reason"][0]
    unknown = fire(client, worker, case_id, "introduce", outcom="needs_met")
    assert unknown.status_code == 422 and "outcom" in unknown.json["errors"]
    no_event = client.post(f"/api/v1/cases/{case_id}/events", json={"reason": "x"},
                           headers=worker)
    assert no_event.status_code == 422 and "event" in no_event.json["errors"]
    assert count(rt, CaseEvent) == before


def test_closing_needs_a_coded_outcome_and_done_only_after_acceptance(
        client, auth, referral_body):
    _, case_id = open_case(client, auth("partner"), referral_body, "first_contact_plus")
    worker = auth("practitioner", team="first_contact_plus")
    assert fire(client, worker, case_id, "close", outcome="needs_met").status_code == 409
    early = fire(client, worker, case_id, "close_before_acceptance", outcome="needs_met")
    assert early.status_code == 422, "needs met is not a code before the service accepted"
    assert fire(client, worker, case_id, "contact").status_code == 200
    assert fire(client, worker, case_id, "close").status_code == 422
    closed = fire(client, worker, case_id, "close", outcome="moved_away")
    assert closed.status_code == 200 and closed.json["outcome"] == "moved_away"
    assert closed.json["closed_at"] is not None


def test_only_the_receiving_team_and_managers_may_move_a_case(client, auth, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body, "local_area_coordination")
    refused = {
        "other patch": auth("practitioner", team="local_area_coordination:shepshed"),
        "other service": auth("hub_coordinator", team="early_help_hub:melton-hub"),
        "partner": auth("partner"),
        "admin": auth("admin"),
        "front door": auth("front_door", team="front_door"),
        "another team's manager": auth("manager", team="first_contact_plus"),
    }
    for who, headers in refused.items():
        response = fire(client, headers, case_id, "introduce")
        assert response.status_code == 403, who
        assert "message" in response.json
    assert count(rt, CaseEvent, CaseEvent.case_id == case_id) == 1
    assert fire(client, auth("practitioner", team="local_area_coordination"), case_id,
                "introduce").status_code == 200, "the whole service's team"
    assert fire(client, auth("manager"), case_id, "start_working_together").status_code == 200
    assert fire(client, auth("manager", team=team("local_area_coordination")), case_id, "hold",
                reason="Family away").status_code == 200
    assert client.get(f"/api/v1/cases/{case_id}", headers=auth("partner")).status_code == 403


def test_every_read_of_a_case_is_audited_and_so_is_a_refusal(client, auth, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body, "local_area_coordination")
    client.get(f"/api/v1/cases/{case_id}", headers=auth("front_door"))
    client.get(f"/api/v1/cases/{case_id}", headers=auth("practitioner", team="signposting"))
    with rt.db.reader() as session:
        actions = session.exec(select(AuditEvent.action).where(
            AuditEvent.object_type == "case", AuditEvent.object_id == str(case_id))).all()
    assert sorted(actions) == ["case.view", "case.view_refused"]


def test_a_case_of_another_team_is_refused_naming_that_team_as_the_profile_does(
        client, auth, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body, "local_area_coordination")
    owner = team("local_area_coordination")
    other = auth("practitioner", team="signposting")
    service, _, instance = owner.partition(":")
    named = rt.profile.teams.case_team_name(service, instance)
    assert named == (f"{rt.profile.teams.name(owner)} "
                     f"({rt.profile.services[service].name})")
    refused = client.get(f"/api/v1/cases/{case_id}", headers=other)
    assert refused.status_code == 403
    assert named in refused.json["message"] and owner not in refused.json["message"]
    moved = fire(client, other, case_id, "introduce")
    assert moved.status_code == 403
    assert named in moved.json["message"] and owner not in moved.json["message"]
    listed = client.get("/api/v1/cases", query_string={"team": owner}, headers=other)
    assert listed.status_code == 403
    assert f"({rt.profile.teams.name('signposting')})" in listed.json["message"]


@both_databases
def test_history_replays_through_the_pathway_to_the_current_state(
        client, auth, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body,
                           "supporting_leicestershire_families")
    worker = auth("practitioner", team="supporting_leicestershire_families")
    for event, fields in [("accept", {}), ("hold", {"reason": "Family moving house"}),
                          ("resume", {}), ("start_assessment", {}), ("agree_plan", {}),
                          ("review", {"note": "Going well"}), ("close", {"outcome": "needs_met"}),
                          ("reopen", {"reason": "School concerns again"})]:
        assert fire(client, worker, case_id, event, **fields).status_code == 200, event
    with rt.db.reader() as session:
        case = session.get(Case, case_id)
        history = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)
                               .order_by(CaseEvent.at, CaseEvent.id)).all()
    pathway = rt.pathways.for_service(case.service)
    assert pathway.replay(history) == case.state == "reviewing"
    assert history[2].payload["reason"] == "Family moving house"
    assert all(row.by_label.endswith("@test.example") for row in history[1:])


@both_databases
def test_the_referral_is_routed_while_any_case_is_open_and_closed_when_all_are(
        client, auth, referral_body):
    partner = auth("partner")
    family = hub_and_contact_family(referral_body)
    created = client.post("/api/v1/referrals", json=family, headers=partner).json
    by_service = {c["service"]: c["id"] for c in created["cases"]}
    assert set(by_service) == {"early_help_hub", "first_contact_plus"}
    reference = created["reference"]
    fcp = auth("practitioner", team="first_contact_plus")
    hub = auth("hub_coordinator", team="early_help_hub:melton-hub")

    def status() -> str:
        return client.get(f"/api/v1/referrals/{reference}", headers=partner).json["status"]

    fire(client, fcp, by_service["first_contact_plus"], "contact")
    fire(client, fcp, by_service["first_contact_plus"], "close", outcome="needs_met")
    assert status() == "routed"
    fire(client, hub, by_service["early_help_hub"], "close_before_acceptance",
         outcome="could_not_contact")
    assert status() == "closed"
    reopened = fire(client, fcp, by_service["first_contact_plus"], "reopen",
                    reason="New debt letters")
    assert reopened.status_code == 200 and reopened.json["state"] == "contacted"
    assert reopened.json["closed_at"] is None and reopened.json["outcome"] is None
    assert status() == "routed"


def test_a_decline_returns_the_referral_to_the_front_door_and_tells_the_referrer(
        client, auth, referral_body, rt, make_user):
    partner_user, token = make_user("partner")
    partner = {"Authorization": f"Bearer {token}"}
    reference, case_id = open_case(client, partner, referral_body, "local_area_coordination")
    worker = auth("practitioner", team=team("local_area_coordination"))
    declined = fire(client, worker, case_id, "decline", reason="outside_area")
    assert declined.status_code == 200
    assert (declined.json["state"], declined.json["outcome"]) == ("rejected",
                                                                  "declined_by_service")
    referral = client.get(f"/api/v1/referrals/{reference}", headers=partner).json
    assert referral["status"] == "needs_review"
    with rt.db.reader() as session:
        told = {(n.recipient, n.kind): n for n in session.exec(select(Notification)).all()}
    assert ("team:front_door", "referral.returned") in told
    note = told[(f"user:{partner_user.id}", "case.declined")]
    assert "Lives outside the service's area" in note.body and "Gwen" not in note.body
    # The front door routes it again: a new case opens and the referral is routed.
    again = client.post(f"/api/v1/referrals/{reference}/override", headers=auth("front_door"),
                        json={"routes": [{"service": "first_contact_plus",
                                          "instance": "countywide"}],
                              "reason": "Not in the patch after all; First Contact Plus"})
    assert again.status_code == 200, again.json
    assert again.json["status"] == "routed"
    assert [(c["service"], c["state"]) for c in again.json["cases"]] == [
        ("local_area_coordination", "rejected"), ("first_contact_plus", "requested")]


@both_databases
def test_step_up_closes_the_case_and_opens_a_linked_statutory_referral(
        client, auth, referral_body, rt):
    partner = auth("partner")
    reference, case_id = open_case(client, partner, referral_body, "local_area_coordination")
    worker = auth("practitioner", team=team("local_area_coordination"))
    fire(client, worker, case_id, "introduce")
    stepped = fire(client, worker, case_id, "step_up",
                   reason="Signs of financial abuse by a relative")
    assert stepped.status_code == 200, stepped.json
    assert (stepped.json["state"], stepped.json["outcome"]) == ("completed", "stepped_up")
    # The linked referral is opened by the outbox after the event commits.
    (link,) = client.get(f"/api/v1/cases/{case_id}", headers=worker).json["linked_referrals"]
    assert link["effect"] == "open_statutory_referral" and link["status"] == "routed"
    linked = client.get(f"/api/v1/referrals/{link['reference']}", headers=auth("front_door")).json
    assert linked["linked_referral"] == reference
    assert [(c["service"], c["state"]) for c in linked["cases"]] == [
        ("adult_social_care", "sent")]
    assert linked["decision"]["level"] == 4
    assert linked["original_decision"]["level"] == 2, "the engine's decision is kept beside it"
    assert [p["given_name"] for p in linked["people"]] == ["Gwen", None]
    assert client.get(f"/api/v1/referrals/{reference}", headers=partner).json["status"] == \
        "closed"


def test_step_down_from_a_statutory_hand_off_opens_a_linked_early_help_referral(
        client, auth, referral_body, rt):
    reference, case_id = open_case(client, auth("partner"), referral_body, "first_response")
    duty = auth("practitioner", team="first_response")
    fire(client, duty, case_id, "acknowledge")
    stepped = fire(client, duty, case_id, "step_down", reason="Below threshold; parenting help")
    assert stepped.status_code == 200, stepped.json
    assert stepped.json["outcome"] == "stepped_down"
    (link,) = client.get(f"/api/v1/cases/{case_id}", headers=duty).json["linked_referrals"]
    linked = client.get(f"/api/v1/referrals/{link['reference']}", headers=auth("front_door")).json
    assert linked["step_down"] is True and linked["linked_referral"] == reference
    assert "child_at_risk_of_harm" not in linked["answers"]
    # Early help is voluntary: the statutory referral had no consent, so this one waits for it.
    assert linked["status"] == "awaiting_consent" and linked["cases"] == []
    given = client.post(f"/api/v1/referrals/{link['reference']}/consent",
                        json={"consent": "given"}, headers=auth("front_door")).json
    assert [c["service"] for c in given["cases"]] == ["supporting_leicestershire_families"]
    # Redelivering the outbox message opens nothing more.
    from triage.services.notices import outbox
    with rt.db.reader() as session:
        message = session.exec(select(OutboxMessage).where(
            OutboxMessage.topic == "case.open_linked_referral")).one()
    assert outbox.deliver(rt, message.id) == "already-done"


def test_a_stale_version_is_409_and_changes_nothing(client, auth, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body, "local_area_coordination")
    worker = auth("practitioner", team=team("local_area_coordination"))
    assert fire(client, worker, case_id, "introduce", version=1).status_code == 200
    stale = fire(client, worker, case_id, "hold", version=1, reason="Away")
    assert stale.status_code == 409 and stale.json["version"] == 2
    assert "changed since version 1" in stale.json["message"]
    assert count(rt, CaseEvent, CaseEvent.case_id == case_id) == 2


def test_reopening_is_refused_more_than_twelve_months_after_closure(
        client, auth, referral_body, rt):
    from datetime import timedelta

    from sqlalchemy import update

    _, case_id = open_case(client, auth("partner"), referral_body, "first_contact_plus")
    worker = auth("practitioner", team="first_contact_plus")
    fire(client, worker, case_id, "contact")
    fire(client, worker, case_id, "close", outcome="needs_met")
    with rt.db.unit_of_work() as session:
        last = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)
                            .order_by(CaseEvent.id.desc())).first()
        long_ago = last.at - timedelta(days=400)
        session.execute(update(CaseEvent).where(CaseEvent.id == last.id).values(at=long_ago))
        session.execute(update(Case).where(Case.id == case_id).values(closed_at=long_ago))
    refused = fire(client, worker, case_id, "reopen", reason="Back again")
    assert refused.status_code == 409
    assert "reopen" not in {e["event"] for e in refused.json["allowed_events"]}


def test_the_openapi_document_describes_the_case_endpoints(client):
    doc = client.get("/api/v1/openapi.json").json
    assert set(doc["paths"]["/api/v1/referrals"]) == {"get", "post"}
    events = doc["paths"]["/api/v1/cases/{case_id}/events"]["post"]
    assert {"200", "403", "409", "422"} <= set(events["responses"])
    assert {"Case", "CaseEventBody", "CaseList", "ReferralList", "NotificationList"} <= set(
        doc["components"]["schemas"])
    case = doc["components"]["schemas"]["Case"]["properties"]
    assert {"state", "status", "allowed_events", "due", "history"} <= set(case)


@both_databases
def test_a_family_case_steps_up_to_the_childrens_front_door_even_when_a_parent_is_the_subject(
        client, auth, referral_body):
    # Seen in the walk-through: a family with a 14-year-old went to Adult Social Care because
    # the referral's subject was the mother. The hub works with the children, so they are the
    # people concerned.
    mother = {"ref": "m1", "role": "subject", "given_name": "Dana", "family_name": "Ives",
              "date_of_birth": "1984-01-20"}
    teenager = {"ref": "c1", "role": "household", "relationship": "son", "given_name": "Kit",
                "family_name": "Ives", "date_of_birth": "2012-06-01"}
    body = referral_body(postcode="LE11 2AB", people=[mother, teenager],
                         answers={"child_behaviour_concern": True, "family_conflict": True})
    created = client.post("/api/v1/referrals", json=body, headers=auth("partner"))
    assert created.status_code == 201, created.json
    (case,) = [c for c in created.json["cases"] if c["service"] == "early_help_hub"]
    hub = auth("hub_coordinator", team=f"early_help_hub:{case['instance']}")

    no_reason = fire(client, hub, case["id"], "step_up")
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]

    stepped = fire(client, hub, case["id"], "step_up", reason="Disclosed harm at school")
    assert stepped.status_code == 200, stepped.json
    (link,) = client.get(f"/api/v1/cases/{case['id']}", headers=hub).json["linked_referrals"]
    linked = client.get(f"/api/v1/referrals/{link['reference']}", headers=auth("front_door")).json
    assert [c["service"] for c in linked["cases"]] == ["first_response"]


def test_an_adult_case_steps_up_to_adult_social_care_though_children_live_there(
        client, auth, referral_body):
    adult = {"ref": "a1", "role": "subject", "given_name": "Lou", "family_name": "Penn",
             "date_of_birth": "1970-03-03"}
    child = {"ref": "c1", "role": "household", "relationship": "daughter",
             "given_name": "May", "family_name": "Penn", "date_of_birth": "2015-03-03"}
    body = referral_body(postcode="LE13 1AB", people=[adult, child],
                         answers={"adult_mental_health": True})
    created = client.post("/api/v1/referrals", json=body, headers=auth("partner"))
    assert created.status_code == 201, created.json
    (case,) = [c for c in created.json["cases"] if c["service"] == "first_contact_plus"]
    worker = auth("practitioner", team="first_contact_plus")
    assert fire(client, worker, case["id"], "step_up", reason="Carer abusing").status_code == 200
    (link,) = client.get(f"/api/v1/cases/{case['id']}", headers=worker).json["linked_referrals"]
    linked = client.get(f"/api/v1/referrals/{link['reference']}", headers=auth("front_door")).json
    assert [c["service"] for c in linked["cases"]] == ["adult_social_care"]
