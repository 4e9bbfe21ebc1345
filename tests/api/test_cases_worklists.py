"""Worklists for teams, partners' own referrals with outcomes, and the closed loop of
notifications: the team told of a new case, the referrer told of acceptance and outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from tests.api.cases_helpers import fire, open_case, team
from triage.models import AuditEvent, Case
from triage.models.base import utcnow

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@both_databases
def test_a_team_lists_its_open_cases_soonest_due_first_and_filters_by_state_and_overdue(
        client, auth, referral_body, rt):
    partner = auth("partner")
    first = open_case(client, partner, referral_body, "local_area_coordination")[1]
    second = open_case(client, partner, referral_body, "local_area_coordination")[1]
    elsewhere = open_case(client, partner, referral_body, "first_contact_plus")[1]
    worker = auth("practitioner", team=team("local_area_coordination"))
    fire(client, worker, second, "introduce")
    with rt.db.unit_of_work() as session:  # the first case's deadline passed long ago
        due = session.get(Case, first).next_due_at
        session.execute(update(Case).where(Case.id == first).values(
            next_due_at=due - timedelta(days=30)))

    listed = client.get("/api/v1/cases", headers=worker)
    assert listed.status_code == 200
    rows = listed.json["cases"]
    assert listed.json["total"] == 2 and listed.json["next_offset"] is None
    assert [r["id"] for r in rows] == [first, second], "nothing due sorts last"
    assert rows[0]["overdue"] is True and rows[0]["referral"].startswith("EH-")
    assert rows[1]["next_due_at"] is None and rows[1]["status"] == "accepted"
    assert elsewhere not in [r["id"] for r in rows]
    overdue = client.get("/api/v1/cases?overdue=1", headers=worker).json["cases"]
    assert [r["id"] for r in overdue] == [first]
    by_state = client.get("/api/v1/cases?state=introduced", headers=worker).json["cases"]
    assert [r["id"] for r in by_state] == [second]
    with rt.db.reader() as session:
        listing = session.exec(select(AuditEvent).where(AuditEvent.action == "case.list")
                               .order_by(AuditEvent.id)).first()
    assert listing.detail["case_ids"] == [first, second]


@both_databases
def test_a_worklist_pages_through_dated_cases_by_due_date_then_undated_ones_with_a_total(
        client, auth, referral_body, rt):
    partner = auth("partner")
    ids = [open_case(client, partner, referral_body, "first_contact_plus")[1] for _ in range(5)]
    now = utcnow()
    due = dict(zip(ids, [now + timedelta(days=3), None, now + timedelta(days=1),
                         now - timedelta(days=2), None], strict=True))
    with rt.db.unit_of_work() as session:
        for case_id, at in due.items():
            session.execute(update(Case).where(Case.id == case_id).values(next_due_at=at))
    soonest_first = [ids[3], ids[2], ids[0], ids[1], ids[4]]
    # The team is the service alone: First Contact Plus has one instance.
    worker = auth("practitioner", team="first_contact_plus")

    def pages(query: str, limit: int) -> tuple[list[int], set[int], list]:
        shown, totals, offsets, offset = [], set(), [], 0
        while offset is not None:
            body = client.get(f"/api/v1/cases?limit={limit}&offset={offset}{query}",
                              headers=worker).json
            shown += [r["id"] for r in body["cases"]]
            totals.add(body["total"])
            offset = body["next_offset"]
            offsets.append(offset)
        return shown, totals, offsets

    # A page boundary falls between dated and undated cases, and after the last case.
    assert pages("", 2) == (soonest_first, {5}, [2, 4, None])
    assert pages("", 5) == (soonest_first, {5}, [None])
    assert pages("&overdue=0", 3) == (soonest_first[1:], {4}, [3, None])
    assert pages("&overdue=1", 3) == ([ids[3]], {1}, [None])
    beyond = client.get("/api/v1/cases?offset=9", headers=worker).json
    assert (beyond["cases"], beyond["total"], beyond["next_offset"]) == ([], 5, None)
    described = client.get("/api/v1/openapi.json").json["components"]["schemas"]["CaseList"]
    assert described["properties"]["total"]["type"] == "integer"


def test_worklist_scope_and_bad_filters(client, auth, referral_body):
    open_case(client, auth("partner"), referral_body, "first_contact_plus")
    worker = auth("practitioner", team=team("local_area_coordination"))
    assert client.get("/api/v1/cases?service=first_contact_plus",
                      headers=worker).status_code == 403
    assert client.get("/api/v1/cases?service=local_area_coordination&instance=shepshed",
                      headers=worker).status_code == 403
    assert client.get("/api/v1/cases", headers=auth("partner")).status_code == 403
    assert client.get("/api/v1/cases", headers=auth("practitioner")).status_code == 403
    manager = auth("manager")
    everything = client.get("/api/v1/cases?service=first_contact_plus", headers=manager).json
    assert len(everything["cases"]) == 1
    bad = client.get("/api/v1/cases?service=nope&limit=0&colour=red", headers=manager)
    assert bad.status_code == 422
    assert {"limit", "colour"} <= set(bad.json["errors"])
    bad_state = client.get("/api/v1/cases?service=first_contact_plus&state=discussed",
                           headers=manager)
    assert bad_state.status_code == 422 and "state" in bad_state.json["errors"]
    # A whole service's team naming an instance the service does not have (Schemathesis).
    whole = auth("practitioner", team="first_contact_plus")
    unknown = client.get("/api/v1/cases?instance=AAA", headers=whole)
    assert unknown.status_code == 422 and "instance" in unknown.json["errors"]


@both_databases
def test_partners_list_their_own_referrals_with_current_states_and_outcomes(
        client, auth, referral_body):
    fire_service = auth("partner", organisation="Leicestershire Fire and Rescue Service")
    police = auth("partner", organisation="Leicestershire Police")
    reference, case_id = open_case(client, fire_service, referral_body, "first_contact_plus")
    open_case(client, police, referral_body, "local_area_coordination")
    fcp = auth("practitioner", team="first_contact_plus")
    fire(client, fcp, case_id, "contact")
    fire(client, fcp, case_id, "close", outcome="partly_met")

    mine = client.get("/api/v1/referrals?mine=1", headers=fire_service)
    assert mine.status_code == 200
    (only,) = mine.json["referrals"]
    assert only["reference"] == reference and only["status"] == "closed"
    (case,) = only["cases"]
    assert (case["state"], case["status"], case["outcome"], case["outcome_label"]) == (
        "completed", "completed", "partly_met", "Needs partly met")
    assert "people" not in only and "answers" not in only
    # A partner's list is always their own, with or without mine=1.
    assert client.get("/api/v1/referrals", headers=police).json["referrals"][0][
        "reference"] != reference
    assert client.get("/api/v1/referrals", headers=auth("practitioner")).status_code == 403
    assert len(client.get("/api/v1/referrals", headers=auth("front_door")).json[
        "referrals"]) == 2
    assert client.get("/api/v1/referrals?status=closed",
                      headers=auth("manager")).json["referrals"][0]["reference"] == reference


def test_the_team_hears_of_a_new_case_and_the_referrer_of_acceptance_and_outcome(
        client, auth, referral_body):
    partner = auth("partner")
    reference, case_id = open_case(client, partner, referral_body, "early_help_hub")
    hub = auth("hub_coordinator", team="early_help_hub:charnwood-hub")
    kinds = [n["kind"] for n in client.get("/api/v1/notifications", headers=hub).json[
        "notifications"]]
    assert kinds == ["case.opened"]
    assert client.get("/api/v1/notifications",
                      headers=auth("hub_coordinator", team="early_help_hub:melton-hub")
                      ).json["notifications"] == []
    fire(client, hub, case_id, "add_to_agenda")
    fire(client, hub, case_id, "record_discussion", meeting_date="2026-12-08")
    fire(client, hub, case_id, "allocate", lead_agency="family_support",
         lead_professional="Family worker")
    told = client.get("/api/v1/notifications", headers=partner).json["notifications"]
    assert [n["kind"] for n in told] == ["case.closed", "case.accepted", "referral.received"]
    assert "Outcome: Allocated to a lead agency: Family support" in told[0]["body"]
    assert all(n["referral"] == reference and n["emailed_at"] is None for n in told)
    assert "Tom" not in told[0]["body"] and "Reed" not in told[0]["body"]
    slf = auth("practitioner", team="supporting_leicestershire_families")
    allocated = client.get("/api/v1/notifications", headers=slf).json["notifications"]
    assert [n["kind"] for n in allocated] == ["case.allocated"]


def test_reopening_tells_the_team(client, auth, referral_body):
    _, case_id = open_case(client, auth("partner"), referral_body, "first_contact_plus")
    fcp = auth("practitioner", team="first_contact_plus")
    fire(client, fcp, case_id, "contact")
    fire(client, fcp, case_id, "close", outcome="needs_met")
    fire(client, fcp, case_id, "reopen", reason="New concerns")
    kinds = [n["kind"] for n in client.get("/api/v1/notifications?unread=1", headers=fcp).json[
        "notifications"]]
    assert kinds == ["case.reopened", "case.opened"]
