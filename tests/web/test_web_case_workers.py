"""The case page names its worker: a team member takes a case with the assign form (a select
of the team's workers), the page confirms each event with a success banner, and the history
shows who was assigned, never an empty "Note: None"."""

from __future__ import annotations

from tests.web.test_web_cases import hub_case  # noqa: F401  (the fixture)


def test_a_coordinator_takes_a_case_and_the_page_confirms_it(web, hub_case, demo_users):  # noqa: F811
    _, case_id = hub_case
    me = demo_users["hub.charnwood@demo.test"]
    web.sign_in("hub.charnwood@demo.test")
    web.get(f"/cases/{case_id}")
    assert "Not assigned" in web.last and "Assign to a worker" in web.last
    web.get(f"/cases/{case_id}/events/assign")
    assert f'<option value="{me.id}"' in web.last
    # A team member may take the case or hand back one they hold: "nobody" is not offered
    # on a case nobody holds (the assign would be refused; tests/web/test_web_case_actions).
    assert "Nobody (unassigned)" not in web.last
    response = web.post(f"/cases/{case_id}/events/assign", {"worker": str(me.id)})
    assert response.status_code == 302
    assert "done=assign" in response.headers["Location"]
    web.get(response.headers["Location"])
    name = me.name or me.email
    assert f"Case assigned to {name}" in web.last
    assert f"Worker: <strong>{name}</strong>" in web.last
    assert f"Assigned to {name}" in web.last
    assert "None" not in web.last


def test_a_case_event_is_confirmed_and_leaves_no_empty_note(web, hub_case):  # noqa: F811
    _, case_id = hub_case
    web.sign_in("hub.charnwood@demo.test")
    web.get(f"/cases/{case_id}/events/add_to_agenda")
    response = web.post(f"/cases/{case_id}/events/add_to_agenda", {})
    assert response.status_code == 302
    web.get(response.headers["Location"])
    assert "govuk-notification-banner--success" in web.last
    assert "Case moved to" in web.last
    assert "Note: None" not in web.last and ": None" not in web.last


def test_my_cases_lists_the_cases_assigned_to_me(web, hub_case, demo_users):  # noqa: F811
    _, case_id = hub_case
    me = demo_users["hub.charnwood@demo.test"]
    web.sign_in("hub.charnwood@demo.test")
    web.get("/cases/mine")
    assert "No open cases are assigned to you" in web.last
    assert 'href="/cases/mine"' in web.last  # in the navigation
    web.get(f"/cases/{case_id}/events/assign")
    web.post(f"/cases/{case_id}/events/assign", {"worker": str(me.id)})
    web.get("/cases/mine")
    assert f'href="/cases/{case_id}"' in web.last and "1 open case assigned to you" in web.last



def test_a_manager_sees_open_cases_per_worker_and_unassigned(web, hub_case, demo_users,  # noqa: F811
                                                             rt):
    from triage.services.cases import casework

    _, case_id = hub_case
    coordinator = demo_users["hub.charnwood@demo.test"]
    casework.fire_case_event(rt, user=coordinator, case_id=case_id,
                             body={"event": "assign", "worker": coordinator.id})
    web.sign_in("manager@demo.test")
    response = web.get("/cases/caseloads?team=early_help_hub:charnwood-hub")
    assert response.status_code == 200
    name = coordinator.name or coordinator.email
    assert name in web.last and f"/cases/mine?worker={coordinator.id}" in web.last
    assert "Not assigned" in web.last
    web.get(f"/cases/mine?worker={coordinator.id}")
    assert f'href="/cases/{case_id}"' in web.last


def test_a_team_member_may_not_see_the_caseloads(web, hub_case):  # noqa: F811
    web.sign_in("hub.charnwood@demo.test")
    assert web.get("/cases/caseloads").status_code == 403


def test_a_manager_hands_a_leaver_s_cases_to_a_colleague_from_the_caseloads_page(
        web, hub_case, demo_users, rt):  # noqa: F811
    from triage.services.accounts import users
    from triage.services.cases import casework

    _, case_id = hub_case
    leaver = demo_users["hub.charnwood@demo.test"]
    casework.fire_case_event(rt, user=leaver, case_id=case_id,
                             body={"event": "assign", "worker": leaver.id})
    colleague = users.create_user(rt.db, email="new.hub@test.example", role="hub_coordinator",
                                  team="early_help_hub:charnwood-hub", name="Nia New",
                                  password="a long enough test password 2026")
    web.sign_in("manager@demo.test")
    page = "/cases/caseloads?team=early_help_hub:charnwood-hub"
    web.get(page)
    assert "Hand over a worker" in web.last and "Nia New" in web.last
    response = web.post("/cases/caseloads/reassign", {
        "team": "early_help_hub:charnwood-hub", "from_worker": str(leaver.id),
        "to_worker": str(colleague.id)}, from_page=page)
    assert response.status_code == 302
    web.get(response.headers["Location"])
    assert "1 open case handed over" in web.last
    case = casework.get_case(rt, user=colleague, case_id=case_id)
    assert case["worker"] == {"id": colleague.id, "name": "Nia New"}
