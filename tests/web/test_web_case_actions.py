"""One policy for working a case: notes, events, assigning, hub decisions and handing over are
the case's team's and its managers'; a case page offers a form exactly when its POST would be
allowed."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import PASSWORD, csrf_from
from tests.web.test_web_cases import family_referral

HUB = "early_help_hub:charnwood-hub"


@pytest.fixture
def hub_case(rt, demo_users):
    """A family referral routed to the Charnwood hub: its case id."""
    from triage.services.referrals import intake

    _, created = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                        body=family_referral())
    case = next(c for c in created["cases"] if c["service"] == "early_help_hub")
    assert case["instance"] == "charnwood-hub"
    return case["id"]


@pytest.fixture
def staff(rt, demo_users):
    """Sign-in emails by who they are to the Charnwood hub case; two made here (the demo has
    no practitioner or manager of that hub)."""
    from triage.services.accounts import users

    users.create_user(rt.db, email="prac.charnwood@test.example", role="practitioner",
                      team=HUB, name="Pat Practitioner", password=PASSWORD)
    users.create_user(rt.db, email="mgr.charnwood@test.example", role="manager", team=HUB,
                      name="Mel Manager", password=PASSWORD)
    return {"admin": "admin@demo.test", "front_door": "frontdoor@demo.test",
            "hub_coordinator": "hub.charnwood@demo.test",
            "practitioner": "prac.charnwood@test.example",
            "team_manager": "mgr.charnwood@test.example", "any_manager": "manager@demo.test"}


def _notes(rt, case_id: int) -> list[str]:
    from sqlmodel import select

    from triage.models import CaseNote

    with rt.db.reader() as session:
        return [n.text for n in session.exec(select(CaseNote).where(CaseNote.case_id == case_id))]


def _buttons(html: str, case_id: int) -> set[str]:
    return set(re.findall(rf'href="/cases/{case_id}/events/([a-z_]+)"', html))


@pytest.mark.parametrize("who", ["admin", "front_door"])
def test_admin_and_front_door_cannot_add_a_note_to_a_team_s_case(make_web, rt, staff, hub_case,
                                                                  who):
    browser = make_web()
    browser.sign_in(staff[who])
    assert browser.get(f"/cases/{hub_case}").status_code == 200  # they may read it
    assert "Save note" not in browser.last and 'name="note"' not in browser.last
    token = _session_csrf(browser)
    response = browser.post(f"/cases/{hub_case}/notes", {"note": "Spoke to mum",
                                                         "csrf_token": token})
    assert response.status_code == 403
    assert _notes(rt, hub_case) == []


@pytest.mark.parametrize("who", ["admin", "front_door"])
def test_admin_and_front_door_cannot_add_a_note_through_the_service(rt, demo_users, hub_case,
                                                                     who):
    from sqlmodel import select

    from triage.errors import Forbidden
    from triage.models import AuditEvent
    from triage.services.cases import case_notes

    user = demo_users[{"admin": "admin@demo.test", "front_door": "frontdoor@demo.test"}[who]]
    with pytest.raises(Forbidden, match="Only the case's team and managers"):
        case_notes.add_note(rt, user=user, case_id=hub_case, text="Spoke to mum")
    assert _notes(rt, hub_case) == []
    with rt.db.reader() as session:
        refused = session.exec(select(AuditEvent).where(
            AuditEvent.action == "case.note_refused")).all()
    assert [(r.actor_id, r.object_id) for r in refused] == [(user.id, str(hub_case))]


@pytest.mark.parametrize("who", ["hub_coordinator", "practitioner", "team_manager",
                                 "any_manager"])
def test_the_team_and_its_managers_still_add_notes(make_web, rt, staff, hub_case, who):
    browser = make_web()
    browser.sign_in(staff[who])
    browser.get(f"/cases/{hub_case}")
    assert "Save note" in browser.last
    response = browser.post(f"/cases/{hub_case}/notes", {"note": f"Note by {who}"})
    assert response.status_code == 302
    assert _notes(rt, hub_case) == [f"Note by {who}"]


@pytest.mark.parametrize("who", ["admin", "front_door", "hub_coordinator", "practitioner",
                                 "team_manager", "any_manager"])
def test_the_case_page_offers_a_form_exactly_when_its_post_is_allowed(make_web, client, rt,
                                                                      staff, hub_case, who):
    """Every event the case allows now: a button iff the form opens (not 403), and the form
    is refused to anyone without the button."""
    browser = make_web()
    browser.sign_in(staff[who])
    browser.get(f"/cases/{hub_case}")
    offered = _buttons(browser.last, hub_case)
    from triage.services.cases import casework

    allowed = {e["event"] for e in casework.get_case(
        rt, user=_user(rt, "hub.charnwood@demo.test"), case_id=hub_case)["allowed_events"]}
    for event in sorted(allowed):
        status = browser.get(f"/cases/{hub_case}/events/{event}").status_code
        assert (status == 200) == (event in offered), (who, event, status)
    if who in ("admin", "front_door"):
        assert offered == set()
    else:
        assert "add_to_agenda" in offered and "assign" in offered


def test_the_front_door_is_refused_an_event_form_and_its_post(make_web, rt, staff, hub_case):
    browser = make_web()
    browser.sign_in(staff["front_door"])
    assert browser.get(f"/cases/{hub_case}/events/add_to_agenda").status_code == 403
    token = _session_csrf(browser)
    response = browser.post(f"/cases/{hub_case}/events/add_to_agenda", {"csrf_token": token})
    assert response.status_code == 403


def test_a_team_member_s_assign_form_offers_only_themselves(make_web, rt, staff, hub_case):
    browser = make_web()
    browser.sign_in(staff["practitioner"])
    browser.get(f"/cases/{hub_case}/events/assign")
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]+)</option>', browser.last)
    assert [label.strip() for _, label in options] == ["Pat Practitioner"]
    browser.post(f"/cases/{hub_case}/events/assign", {"worker": options[0][0]})
    browser.get(f"/cases/{hub_case}/events/assign")
    labels = [label.strip() for _, label in re.findall(
        r'<option value="([^"]*)"[^>]*>([^<]+)</option>', browser.last)]
    assert labels == ["Nobody (unassigned)", "Pat Practitioner"]  # now theirs to hand back
    handed_back = browser.post(f"/cases/{hub_case}/events/assign", {"worker": ""})
    assert handed_back.status_code == 302
    manager = make_web()
    manager.sign_in(staff["team_manager"])
    manager.get(f"/cases/{hub_case}/events/assign")
    labels = [label.strip() for _, label in re.findall(
        r'<option value="([^"]*)"[^>]*>([^<]+)</option>', manager.last)]
    assert "Nobody (unassigned)" in labels and "Pat Practitioner" in labels
    assert "Harper Hub" in labels


def test_admin_sees_the_hub_meeting_but_no_form_to_plan_or_decide(make_web, rt, staff, hub_case):
    admin = make_web()
    admin.sign_in(staff["admin"])
    admin.get("/hub/meeting?hub=charnwood-hub")
    assert f"Case {hub_case}" in admin.last
    assert 'name="cases"' not in admin.last and "Add selected cases" not in admin.last
    hub = make_web()
    hub.sign_in(staff["hub_coordinator"])
    hub.get("/hub/meeting")
    assert 'name="cases"' in hub.last


def test_a_practitioner_cannot_hand_over_a_colleague_s_cases(client, rt, staff, hub_case):
    from triage.services.accounts import users

    coordinator = _user(rt, staff["hub_coordinator"])
    practitioner = _user(rt, staff["practitioner"])
    from triage.services.cases import casework

    casework.fire_case_event(rt, user=coordinator, case_id=hub_case,
                             body={"event": "assign", "worker": coordinator.id})
    token = users.create_token(rt.db, email=practitioner.email)
    response = client.post("/api/v1/cases/reassign", headers={
        "Authorization": f"Bearer {token}"}, json={"from_worker": coordinator.id,
                                                   "to_worker": practitioner.id})
    assert response.status_code == 403
    assert casework.get_case(rt, user=coordinator, case_id=hub_case)["worker"]["id"] == \
        coordinator.id
    manager = users.create_token(rt.db, email=staff["team_manager"])
    response = client.post("/api/v1/cases/reassign", headers={
        "Authorization": f"Bearer {manager}"}, json={"from_worker": coordinator.id,
                                                     "to_worker": practitioner.id})
    assert response.status_code == 200 and response.json["count"] == 1


def test_only_a_team_s_managers_see_the_hand_over_form(make_web, staff, hub_case):
    admin = make_web()
    admin.sign_in(staff["admin"])
    assert admin.get(f"/cases/caseloads?team={HUB}").status_code == 200
    assert "Hand over every open case" not in admin.last
    manager = make_web()
    manager.sign_in(staff["team_manager"])
    manager.get(f"/cases/caseloads?team={HUB}")
    assert "Hand over every open case" in manager.last


def _session_csrf(browser) -> str:
    """The session's CSRF token, from a page that has a form (the case page has none for
    them): what a crafted POST would carry."""
    browser.get("/account/password")
    return csrf_from(browser.last)


def _user(rt, email: str):
    from sqlmodel import select

    from triage.models import User

    with rt.db.reader() as session:
        return session.exec(select(User).where(User.email == email)).one()
