"""Named workers through the API: a manager assigns a case to a worker of its team, a member
takes one, nobody else may; the state never changes, each assignment is a history row, and
GET /api/v1/cases?worker=me is the caller's caseload."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.api.cases_helpers import fire, open_case, team
from triage.models import AuditEvent, Case, User

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
SLF = "supporting_leicestershire_families"


def _token(make_user, role: str, **fields):
    user, token = make_user(role, **fields)
    return user, {"Authorization": f"Bearer {token}"}


@both_databases
def test_a_manager_assigns_a_case_to_a_worker_of_its_team_and_the_state_stays(
        client, auth, make_user, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body, SLF)
    _, manager = _token(make_user, "manager", team=team(SLF))
    priya, _ = _token(make_user, "practitioner", team=team(SLF), name="Priya Shah")
    before = client.get(f"/api/v1/cases/{case_id}", headers=manager).json
    assert before["worker"] is None
    assign = next(e for e in before["allowed_events"] if e["event"] == "assign")
    assert assign["needs"] == ["worker"] and assign["to"] == before["state"]
    assert {"code": str(priya.id), "label": "Priya Shah"} in assign["fields"][0]["choices"]

    response = fire(client, manager, case_id, "assign", worker=priya.id, version=1)
    assert response.status_code == 200, response.json
    case = response.json
    assert case["worker"] == {"id": priya.id, "name": "Priya Shah"}
    assert (case["state"], case["version"]) == (before["state"], 2)
    last = case["history"][-1]
    assert (last["event"], last["from"], last["to"]) == ("assign", before["state"],
                                                          before["state"])
    assert last["payload"]["worker_id"] == priya.id
    assert last["payload"]["worker_name"] == "Priya Shah"

    # The pathway still moves as before: an assign is not a step of it.
    assert fire(client, manager, case_id, "accept").status_code == 200


@both_databases
def test_the_worker_must_be_an_active_member_of_the_case_s_team(
        client, auth, make_user, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body, SLF)
    _, manager = _token(make_user, "manager", team=team(SLF))
    elsewhere, _ = _token(make_user, "practitioner",
                          team="supporting_leicestershire_families:hinckley-bosworth")
    left, _ = _token(make_user, "practitioner", team=team(SLF))
    with rt.db.unit_of_work() as session:  # a leaver's account is deactivated
        session.get(User, left.id).active = False
    partner, _ = _token(make_user, "partner")
    for worker in (elsewhere.id, left.id, partner.id, 999_999, "Priya", True):
        response = fire(client, manager, case_id, "assign", worker=worker)
        assert response.status_code == 422, (worker, response.json)
        assert "worker" in response.json["errors"], response.json
    assert fire(client, manager, case_id, "assign").status_code == 422
    with rt.db.reader() as session:
        case = session.get(Case, case_id)
        assert (case.worker_id, case.version) == (None, 1)


@both_databases
def test_a_member_may_take_a_case_but_not_give_it_to_someone_else(
        client, auth, make_user, referral_body, rt):
    _, case_id = open_case(client, auth("partner"), referral_body, SLF)
    me, mine = _token(make_user, "practitioner", team=team(SLF))
    colleague, _ = _token(make_user, "practitioner", team=team(SLF))
    refused = fire(client, mine, case_id, "assign", worker=colleague.id)
    assert refused.status_code == 403
    with rt.db.reader() as session:
        assert session.exec(select(AuditEvent).where(
            AuditEvent.action == "case.assign_refused",
            AuditEvent.object_id == str(case_id))).first() is not None
    taken = fire(client, mine, case_id, "assign", worker=me.id)
    assert taken.status_code == 200 and taken.json["worker"]["id"] == me.id
    handed_back = fire(client, mine, case_id, "assign", worker=None)
    assert handed_back.status_code == 200 and handed_back.json["worker"] is None
    # Another team cannot touch it at all.
    _, other = _token(make_user, "manager", team="first_contact_plus")
    assert fire(client, other, case_id, "assign", worker=me.id).status_code == 403


@both_databases
def test_worker_me_lists_the_caller_s_open_caseload_with_the_worker_on_each_row(
        client, auth, make_user, referral_body, rt):
    partner = auth("partner")
    first = open_case(client, partner, referral_body, SLF)[1]
    second = open_case(client, partner, referral_body, SLF)[1]
    _, manager = _token(make_user, "manager", team=team(SLF))
    me, mine = _token(make_user, "practitioner", team=team(SLF), name="Sam Cole")
    assert fire(client, manager, first, "assign", worker=me.id).status_code == 200

    listed = client.get("/api/v1/cases?worker=me", headers=mine)
    assert listed.status_code == 200, listed.json
    assert [c["id"] for c in listed.json["cases"]] == [first]
    assert listed.json["cases"][0]["worker"] == {"id": me.id, "name": "Sam Cole"}
    team_list = client.get("/api/v1/cases", headers=mine).json["cases"]
    assert {c["id"]: c["worker"] for c in team_list} == {
        first: {"id": me.id, "name": "Sam Cole"}, second: None}

    # A manager lists a worker's caseload; a worker may not list a colleague's.
    by_id = client.get(f"/api/v1/cases?worker={me.id}", headers=manager)
    assert [c["id"] for c in by_id.json["cases"]] == [first]
    colleague, theirs = _token(make_user, "practitioner", team=team(SLF))
    assert client.get(f"/api/v1/cases?worker={me.id}", headers=theirs).status_code == 403
    assert client.get("/api/v1/cases?worker=someone", headers=mine).status_code == 422
    with rt.db.reader() as session:
        row = session.exec(select(AuditEvent).where(AuditEvent.action == "case.list")
                           .order_by(AuditEvent.id.desc())).first()
    assert row.detail["worker"] == me.id and row.detail["case_ids"] == [first]

    # A closed case leaves the caseload.
    fire(client, manager, first, "close_before_acceptance", outcome="moved_away")
    assert client.get("/api/v1/cases?worker=me", headers=mine).json["cases"] == []


def test_a_closed_case_cannot_be_assigned(client, auth, make_user, referral_body):
    _, case_id = open_case(client, auth("partner"), referral_body, SLF)
    me, mine = _token(make_user, "practitioner", team=team(SLF))
    assert fire(client, mine, case_id, "close_before_acceptance",
                outcome="moved_away").status_code == 200
    shown = client.get(f"/api/v1/cases/{case_id}", headers=mine).json
    assert "assign" not in {e["event"] for e in shown["allowed_events"]}
    assert fire(client, mine, case_id, "assign", worker=me.id).status_code == 409


@both_databases
def test_a_leaver_s_open_cases_are_handed_over_in_one_action(
        client, auth, make_user, referral_body, rt):
    _, manager = _token(make_user, "manager", team=team(SLF))
    leaver, _ = _token(make_user, "practitioner", team=team(SLF), name="Lee Leaving")
    stays, _ = _token(make_user, "practitioner", team=team(SLF), name="Sam Staying")
    ids = []
    for n in range(3):
        changes = {"people": [{"ref": "c1", "role": "subject", "given_name": f"Kid{n}",
                               "family_name": "Hand", "date_of_birth": "2016-05-04"},
                              {"ref": "m1", "role": "household", "given_name": f"Mum{n}",
                               "family_name": "Hand", "date_of_birth": "1988-02-11"}]}
        body = referral_body(postcode="LE13 1AB", step_down=True,
                             answers={"parenting_support": True}, **changes)
        created = client.post("/api/v1/referrals", json=body, headers=auth("partner")).json
        (case,) = [c for c in created["cases"] if c["service"] == SLF]
        assert fire(client, manager, case["id"], "assign", worker=leaver.id).status_code == 200
        ids.append(case["id"])

    refused = client.post("/api/v1/cases/reassign", headers=auth("partner"),
                          json={"from_worker": leaver.id, "to_worker": stays.id})
    assert refused.status_code == 403
    bad = client.post("/api/v1/cases/reassign", headers=manager,
                      json={"from_worker": "lee", "to_worker": stays.id, "extra": 1})
    assert bad.status_code == 422 and {"from_worker", "extra"} <= set(bad.json["errors"])

    done = client.post("/api/v1/cases/reassign", headers=manager,
                       json={"from_worker": leaver.id, "to_worker": stays.id,
                             "note": "Lee has left the team"})
    assert done.status_code == 200, done.json
    assert sorted(done.json["cases"]) == sorted(ids) and done.json["count"] == 3
    for case_id in ids:
        case = client.get(f"/api/v1/cases/{case_id}", headers=manager).json
        assert case["worker"] == {"id": stays.id, "name": "Sam Staying"}
        assert case["history"][-1]["event"] == "assign"
    with rt.db.reader() as session:
        assert session.exec(select(AuditEvent).where(
            AuditEvent.action == "cases.reassigned")).first() is not None
        assert session.exec(select(Case).where(Case.worker_id == leaver.id,
                                               Case.closed_at.is_(None))).all() == []


def test_a_hand_over_to_someone_off_the_team_changes_nothing(
        client, auth, make_user, referral_body, rt):
    _, manager = _token(make_user, "manager", team=team(SLF))
    leaver, _ = _token(make_user, "practitioner", team=team(SLF), name="Lee Leaving")
    elsewhere, _ = _token(make_user, "practitioner", team="first_contact_plus")
    _, case_id = open_case(client, auth("partner"), referral_body, SLF)
    assert fire(client, manager, case_id, "assign", worker=leaver.id).status_code == 200
    response = client.post("/api/v1/cases/reassign", headers=manager,
                           json={"from_worker": leaver.id, "to_worker": elsewhere.id})
    assert response.status_code == 422 and f"cases.{case_id}" in response.json["errors"]
    assert client.get(f"/api/v1/cases/{case_id}", headers=manager).json["worker"]["id"] == \
        leaver.id


def test_the_openapi_document_describes_handing_cases_over(client):
    doc = client.get("/api/v1/openapi.json").json
    reassign = doc["paths"]["/api/v1/cases/reassign"]["post"]
    assert {"200", "403", "422"} <= set(reassign["responses"])
    body = doc["components"]["schemas"]["ReassignBody"]
    assert set(body["required"]) == {"from_worker", "to_worker"}
    assert body["properties"]["from_worker"]["type"] == "integer"
    assert {"count", "cases"} <= set(doc["components"]["schemas"]["Reassigned"]["properties"])
