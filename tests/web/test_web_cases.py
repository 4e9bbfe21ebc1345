"""The case page (events with the fields they need, timeline, notes) and the hub coordinator's
pages (queue, planning the meeting, the pack, recording each allocation)."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import error_links


def family_referral(**changes) -> dict:
    body = {
        "channel": "staff", "postcode": "LE11 1AB", "consent": "given",
        "people": [
            {"ref": "c1", "role": "subject", "given_name": "Noah", "family_name": "Patel",
             "date_of_birth": "2015-05-05"},
            {"ref": "p1", "role": "household", "relationship": "mother",
             "given_name": "Priya", "family_name": "Patel", "date_of_birth": "1985-01-01"},
        ],
        "answers": {"school_attendance_concern": True, "child_behaviour_concern": True},
        "concerns": "School attendance has dropped this term.",
    }
    body.update(changes)
    return body


@pytest.fixture
def hub_case(rt, demo_users):
    """A family referral routed to the Charnwood hub: (reference, case id)."""
    from triage.services.referrals import intake

    _, created = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                        body=family_referral())
    case = next(c for c in created["cases"] if c["service"] == "early_help_hub")
    assert case["instance"] == "charnwood-hub"
    return created["reference"], case["id"]


def test_the_case_page_shows_who_what_decision_state_due_events_and_history(web, hub_case):
    reference, case_id = hub_case
    web.sign_in("hub.charnwood@demo.test")
    response = web.get(f"/cases/{case_id}")
    assert response.status_code == 200
    html = web.last
    assert reference in html and "Noah Patel" in html  # who
    assert "school attendance is below 90%" in html  # what was asked
    assert "Level 2" in html or "Level 3" in html  # the decision
    assert "Requested" in html  # the state
    assert "Discussed at the next hub meeting" in html  # what is due
    assert "Add to the next hub meeting" in html  # an allowed event
    assert "Open: Requested" in html or "Open:" in html  # the timeline


def test_an_event_asks_for_the_fields_it_needs_and_moves_the_case(web, hub_case):
    _, case_id = hub_case
    web.sign_in("hub.charnwood@demo.test")
    web.get(f"/cases/{case_id}/events/decline")
    assert "Does not meet the service" in web.last  # the coded reasons to choose from
    response = web.post(f"/cases/{case_id}/events/decline", {})
    assert response.status_code == 422
    assert list(error_links(web.last)) == ["reason"]
    response = web.post(f"/cases/{case_id}/events/decline", {"reason": "wrong_service",
                                                             "note": "Adult needs only"})
    assert response.status_code == 302
    web.get(f"/cases/{case_id}")
    assert "Rejected" in web.last and "Adult needs only" in web.last


def test_an_event_no_longer_allowed_is_a_conflict_page(web, hub_case):
    _, case_id = hub_case
    web.sign_in("hub.charnwood@demo.test")
    response = web.get(f"/cases/{case_id}/events/allocate")
    assert response.status_code == 409
    assert "not possible from there" in web.last


def test_notes_are_added_to_the_case(web, hub_case, rt):
    _, case_id = hub_case
    web.sign_in("hub.charnwood@demo.test")
    response = web.post(f"/cases/{case_id}/notes", {"note": ""}, from_page=f"/cases/{case_id}")
    assert response.status_code == 422 and list(error_links(web.last)) == ["note"]
    web.post(f"/cases/{case_id}/notes", {"note": "Spoke to the school."})
    web.get(f"/cases/{case_id}")
    assert "Spoke to the school." in web.last


def test_another_team_cannot_open_the_case(web, hub_case):
    _, case_id = hub_case
    web.sign_in("hub.melton@demo.test")
    assert web.get(f"/cases/{case_id}").status_code == 403


def test_a_hub_allocation_at_the_meeting(web, hub_case, rt):
    from triage.services.cases import casework

    reference, case_id = hub_case
    web.sign_in("hub.charnwood@demo.test")
    web.get("/hub/")
    assert f"Case {case_id}" in web.last and "Next meeting" in web.last
    # Plan: add the case to the next meeting's agenda.
    web.get("/hub/meeting")
    response = web.post("/hub/meeting", {"cases": [str(case_id)]})
    assert response.status_code == 302
    # The printable pack has a page for it.
    web.get("/hub/meeting/pack")
    assert "app-pack-case" in web.last and reference in web.last and "Noah Patel" in web.last
    # At the meeting: record the allocation.
    web.get(f"/hub/meeting/cases/{case_id}")
    response = web.post(f"/hub/meeting/cases/{case_id}", {"decision": "allocate"})
    assert response.status_code == 422
    assert set(error_links(web.last)) == {"meeting_date-day", "lead_agency", "lead_professional"}
    assert casework.get_case(rt, user=_user(rt, "hub.charnwood@demo.test"),
                          case_id=case_id)["state"] == "awaiting_hub_meeting"  # unchanged
    form = {"decision": "allocate", "lead_agency": "family_support",
            "lead_professional": "J. Worker, family support", "meeting_date-day": "8",
            "meeting_date-month": "12", "meeting_date-year": "2026"}
    response = web.post(f"/hub/meeting/cases/{case_id}", form)
    assert response.status_code == 302
    case = casework.get_case(rt, user=_user(rt, "hub.charnwood@demo.test"), case_id=case_id)
    assert case["state"] == "allocated" and case["outcome"] == "allocated"
    assert [h["event"] for h in case["history"]] == ["open", "add_to_agenda",
                                                     "record_discussion", "allocate"]


def test_a_discussion_whose_decision_is_refused_is_not_half_recorded(hub_case, rt):
    """The hub records the discussion and the decision together: when the decision is
    refused (here an event the case no longer allows), the discussion is not kept either."""
    from triage.errors import Conflict
    from triage.services.cases import casework
    from triage.services.hub import meetings

    _, case_id = hub_case
    coordinator = _user(rt, "hub.charnwood@demo.test")
    meetings.add_to_agenda(rt, user=coordinator, case_ids=[case_id])
    before = casework.get_case(rt, user=coordinator, case_id=case_id)
    with pytest.raises(Conflict) as refused:
        casework.fire_case_events(rt, user=coordinator, case_id=case_id, bodies=[
            {"event": "record_discussion", "meeting_date": "2026-12-08"},
            {"event": "add_to_agenda"}])  # not allowed once discussed
    # The 409 describes the case as it is, not as the rolled-back discussion left it.
    body = refused.value.body()
    assert (body["state"], body["version"]) == ("awaiting_hub_meeting", before["version"])
    assert "Nothing was recorded" in body["message"]
    assert "record_discussion" in [e["event"] for e in body["allowed_events"]]
    after = casework.get_case(rt, user=coordinator, case_id=case_id)
    assert after["state"] == before["state"] == "awaiting_hub_meeting"
    assert after["version"] == before["version"]
    assert [h["event"] for h in after["history"]] == ["open", "add_to_agenda"]
    # Both together, when both are allowed: one version per event, in order.
    done = casework.fire_case_events(rt, user=coordinator, case_id=case_id, bodies=[
        {"event": "record_discussion", "meeting_date": "2026-12-08",
         "version": before["version"]},
        {"event": "no_further_action", "reason": "universal_services"}])
    assert done["version"] == before["version"] + 2 and done["state"] == "no_further_action"
    assert [h["event"] for h in done["history"]][-2:] == ["record_discussion",
                                                          "no_further_action"]


def test_the_hub_queue_and_team_cases_show_a_long_list_s_first_page_and_its_total(
        web, hub_case, rt):
    from sqlmodel import select

    from triage.models import Case
    from triage.services.hub.meetings import QUEUE_PAGE

    _, case_id = hub_case
    with rt.db.unit_of_work() as session:  # 100 more new cases at the same hub
        first = session.exec(select(Case).where(Case.id == case_id)).one()
        for _ in range(QUEUE_PAGE):
            session.add(Case(referral_id=first.referral_id, service=first.service,
                             instance=first.instance, state=first.state))
    web.sign_in("hub.charnwood@demo.test")
    web.get("/hub/")
    assert f"New, not yet on an agenda (showing {QUEUE_PAGE} of {QUEUE_PAGE + 1}," in web.last
    assert "On the agenda (0)" in web.last
    assert f"Case {case_id}" in web.last, "the one with a due date comes first"
    web.get("/cases/")
    assert f"Showing 1 to 50 of {QUEUE_PAGE + 1} cases" in web.last


def test_only_coordinators_and_managers_see_hub_pages(make_web, hub_case):
    partner = make_web()
    partner.sign_in("fire@demo.test")
    assert partner.get("/hub/").status_code == 403
    manager = make_web()
    manager.sign_in("manager@demo.test")
    manager.get("/hub/?hub=charnwood-hub")
    assert re.search(r"Case \d+", manager.last)


def test_team_cases_list_the_team_s_open_cases(web, hub_case):
    _, case_id = hub_case
    web.sign_in("hub.charnwood@demo.test")
    web.get("/cases/")
    assert f"Case {case_id}" in web.last and "1 case, soonest due first." in web.last


def _user(rt, email):
    from sqlmodel import select

    from triage.models import User

    with rt.db.reader() as session:
        return session.exec(select(User).where(User.email == email)).one()


def test_adding_cases_to_the_agenda_adds_none_when_one_cannot_go(hub_case, rt):
    from triage.errors import ValidationFailed
    from triage.services.cases import casework
    from triage.services.hub import meetings

    _, case_id = hub_case
    coordinator = _user(rt, "hub.charnwood@demo.test")
    meetings.add_to_agenda(rt, user=coordinator, case_ids=[case_id])  # now awaiting the meeting
    with rt.db.unit_of_work() as session:  # a second case at the same hub, still new
        from triage.models import Case

        first = session.get(Case, case_id)
        second = Case(referral_id=first.referral_id, household_id=first.household_id,
                      service=first.service, instance=first.instance, state="requested")
        session.add(second)
        session.flush()
        second_id = second.id
    with pytest.raises(ValidationFailed) as refused:
        meetings.add_to_agenda(rt, user=coordinator, case_ids=[second_id, case_id])
    assert f"Case {case_id}" in refused.value.errors["cases"][0]
    assert casework.get_case(rt, user=coordinator, case_id=second_id)["state"] == "requested"
