"""A hub allocation closes the loop: a lead agency that is one of our services gets a linked
case in the family's area at once; an outside agency is recorded; the referrer is told."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.api.cases_helpers import fire, open_case, team
from triage.models import AuditEvent, Case, Notification

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _discussed(client, auth, referral_body):
    partner = auth("partner")
    reference, case_id = open_case(client, partner, referral_body, "early_help_hub")
    hub = auth("hub_coordinator", team=team("early_help_hub"))
    assert fire(client, hub, case_id, "add_to_agenda").status_code == 200
    assert fire(client, hub, case_id, "record_discussion",
                meeting_date="2026-12-08").status_code == 200
    return reference, case_id, hub, partner


@both_databases
def test_allocating_to_family_support_opens_a_linked_case_in_the_family_s_area(
        client, auth, referral_body, rt):
    reference, hub_case, hub, partner = _discussed(client, auth, referral_body)
    allocated = fire(client, hub, hub_case, "allocate", lead_agency="family_support",
                     lead_professional="K. Lead, 0116 496 0000")
    assert allocated.status_code == 200, allocated.json
    assert allocated.json["state"] == "allocated"

    # The family-support team of the family's area (LE11 2AB: Loughborough and Shepshed)
    # sees it in its list at once.
    slf = auth("practitioner", team="supporting_leicestershire_families:loughborough-shepshed")
    listed = client.get("/api/v1/cases?service=supporting_leicestershire_families",
                        headers=slf).json
    (linked,) = [c for c in listed["cases"] if c["referral"] == reference]
    assert linked["state"] == "requested"
    with rt.db.reader() as session:
        row = session.get(Case, linked["id"])
        assert row.source_case_id == hub_case and row.instance == "loughborough-shepshed"
        audit = session.exec(select(AuditEvent).where(
            AuditEvent.action == "case.lead_agency_opened")).all()
        told = session.exec(select(Notification)).all()
    assert [a.object_id for a in audit] == [str(linked["id"])] or \
        [a.object_id for a in audit] == [linked["id"]]
    assert any(n.recipient == "team:supporting_leicestershire_families:loughborough-shepshed"
               and n.kind == "case.allocated" for n in told)
    # The referrer is told, with the lead agency; the referral stays routed (a case is open).
    referrer_notes = [n for n in told if n.kind == "case.closed"]
    assert referrer_notes and "Family support" in referrer_notes[0].body
    assert client.get(f"/api/v1/referrals/{reference}", headers=partner).json["status"] == \
        "routed"


def test_allocating_to_an_outside_agency_records_the_professional_and_opens_nothing(
        client, auth, referral_body, rt):
    reference, hub_case, hub, partner = _discussed(client, auth, referral_body)
    allocated = fire(client, hub, hub_case, "allocate", lead_agency="school",
                     lead_professional="Ms Patel, SENCO, senco@school.example")
    assert allocated.status_code == 200, allocated.json
    (entry,) = [h for h in allocated.json["history"] if h["event"] == "allocate"]
    assert entry["payload"]["lead_professional"] == "Ms Patel, SENCO, senco@school.example"
    with rt.db.reader() as session:
        assert session.exec(select(Case).where(Case.source_case_id == hub_case)).all() == []
        told = session.exec(select(Notification)).all()
    assert any(n.kind == "case.allocated" and "Pass on" in n.subject for n in told)
    assert any(n.kind == "case.closed" and "School" in n.body for n in told)
    assert client.get(f"/api/v1/referrals/{reference}", headers=partner).json["status"] == \
        "closed"
