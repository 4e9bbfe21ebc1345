"""A person's subject-access export (everything held, who viewed it) and rectification with
history through the API: who may, what is kept, what search finds after, all or nothing.
On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.api.cases_helpers import team
from triage.models import AuditEvent, Person
from triage.services.cases import case_notes

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

PRIYA = {"ref": "c1", "role": "subject", "given_name": "Priya", "family_name": "Johnson",
         "date_of_birth": "2015-05-31", "nhs_number": "943 476 5919",
         "contact": {"phone": "07700 900123", "safe_to_contact": False,
                     "safe_contact_notes": "Dad checks the phone"}}
MUM = {"ref": "m1", "role": "household", "relationship": "mother", "given_name": "Anika",
       "family_name": "Johnson", "date_of_birth": "1987-01-20"}
REASON = "The family told us the spelling on the referral was wrong."


@pytest.fixture
def johnsons(client, make_user, referral_body, rt):
    front_door, token = make_user("front_door", name="Frankie Front")
    hub, hub_token = make_user("hub_coordinator", team=team("early_help_hub"), name="Harper")
    body = referral_body(people=[PRIYA, MUM], postcode="LE11 2AB",
                         answers={"domestic_abuse": True}, concerns="Shouting heard at night",
                         address={"line1": "12 Elm Road", "town": "Loughborough"})
    sent = client.post("/api/v1/referrals", json=body,
                       headers={"Authorization": f"Bearer {token}"})
    assert sent.status_code == 201, sent.json
    case_id = sent.json["cases"][0]["id"]
    case_notes.add_note(rt, user=hub, case_id=case_id, text="Met mum at school gates.")
    with rt.db.reader() as session:
        pid = session.exec(select(Person.id).where(Person.given_name == "Priya")).one()
    return {"headers": {"Authorization": f"Bearer {token}"},
            "hub": {"Authorization": f"Bearer {hub_token}"}, "reference": sent.json["reference"],
            "case_id": case_id, "person_id": pid, "user": front_door}


@both_databases
def test_the_export_holds_everything_about_the_person_and_who_has_seen_it(
        client, johnsons, rt):
    pid, headers = johnsons["person_id"], johnsons["headers"]
    assert client.get(f"/api/v1/people/{pid}", headers=headers).status_code == 200
    # A search that found her (and one that did not) by the hub coordinator.
    assert client.get("/api/v1/people", query_string={"q": "Priya Johnson"},
                      headers=johnsons["hub"]).json["results"]
    assert not client.get("/api/v1/people", query_string={"q": "Zebedee Quill"},
                          headers=johnsons["hub"]).json["results"]
    response = client.get(f"/api/v1/people/{pid}/export", headers=headers)
    assert response.status_code == 200, response.json
    export = response.json
    assert export["person"]["given_name"] == "Priya"
    assert export["person"]["date_of_birth"] == "2015-05-31"
    assert export["person"]["nhs_number"] == "9434765919"
    assert export["contact"]["safe_contact_notes"] == "Dad checks the phone"
    assert export["households"][0]["address"]["line1"] == "12 Elm Road"
    referral = export["referrals"][0]
    assert referral["reference"] == johnsons["reference"] and referral["role"] == "subject"
    assert referral["answers"] == {"domestic_abuse": True}
    assert referral["concerns"] == "Shouting heard at night"
    assert referral["decisions"][0]["kind"] == "engine" and referral["decisions"][0]["level"]
    case = export["cases"][0]
    assert case["id"] == johnsons["case_id"] and case["history"]
    assert case["notes"][0]["text"] == "Met mum at school gates."
    viewers = {(v["action"], v["by"]["name"] if v["by"] else None) for v in export["views"]}
    assert ("person.view", "Frankie Front") in viewers
    assert ("case.note", "Harper") in viewers
    # The search that found her is listed; the one that did not is not.
    assert sum(v["action"] == "person.search" for v in export["views"]) == 1
    assert ("person.search", "Harper") in viewers
    assert export["exported_at"].startswith("20") and "T" in export["exported_at"]
    with rt.db.reader() as session:
        row = session.exec(select(AuditEvent).where(AuditEvent.action == "person.export")).one()
    assert row.object_id == str(pid) and row.actor_id == johnsons["user"].id
    assert row.detail == {"referrals": 1, "cases": 1, "views": len(export["views"])}


@pytest.mark.parametrize("role", ["hub_coordinator", "practitioner", "partner"])
def test_only_the_front_door_managers_and_admins_export(client, johnsons, auth, role):
    response = client.get(f"/api/v1/people/{johnsons['person_id']}/export", headers=auth(role))
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_export_too(client, johnsons, auth, role):
    response = client.get(f"/api/v1/people/{johnsons['person_id']}/export", headers=auth(role))
    assert response.status_code == 200


def test_an_unknown_person_s_export_is_a_404(client, auth):
    assert client.get("/api/v1/people/424242/export", headers=auth()).status_code == 404
    assert client.get("/api/v1/people/2147483648/export", headers=auth()).status_code == 404


@both_databases
def test_correcting_details_keeps_old_and_new_and_search_follows(client, johnsons, rt):
    pid, headers = johnsons["person_id"], johnsons["headers"]
    response = client.post(f"/api/v1/people/{pid}/rectification", json={
        "changes": {"given_name": "Pria", "family_name": "Jonsson",
                    "date_of_birth": "2015-06-01", "contact": {"phone": "07700 900999"},
                    "sex": "female", "ethnicity": "asian_indian"},
        "reason": REASON}, headers=headers)
    assert response.status_code == 200, response.json
    assert set(response.json["changed"]) == {"given_name", "family_name", "date_of_birth",
                                             "phone", "sex", "ethnicity"}
    by_field = {c["field"]: c for c in response.json["changes"]}
    assert (by_field["given_name"]["old"], by_field["given_name"]["new"]) == ("Priya", "Pria")
    assert by_field["date_of_birth"]["old"] == "2015-05-31"
    assert by_field["phone"]["reason"] == REASON
    person = client.get(f"/api/v1/people/{pid}", headers=headers).json
    assert person["given_name"] == "Pria" and person["contact"]["phone"] == "07700 900999"
    assert len(person["changes"]) == 6

    def found(q):
        results = client.get("/api/v1/people", query_string={"q": q}, headers=headers).json
        return [r["person"]["id"] for r in results["results"]]

    assert pid in found("07700900999") and pid not in found("07700900123")
    assert pid in found("Pria Jonsson")
    export = client.get(f"/api/v1/people/{pid}/export", headers=headers).json
    assert {c["field"] for c in export["changes"]} == set(by_field)
    with rt.db.reader() as session:
        row = session.exec(select(AuditEvent).where(
            AuditEvent.action == "person.rectified")).one()
    assert sorted(row.detail["fields"]) == sorted(by_field)
    assert "Pria" not in str(row.detail) and "07700" not in str(row.detail)


@both_databases
def test_a_correction_with_any_bad_field_saves_nothing_and_names_each(client, johnsons, rt):
    pid, headers = johnsons["person_id"], johnsons["headers"]
    response = client.post(f"/api/v1/people/{pid}/rectification", json={
        "changes": {"given_name": "Pria", "nhs_number": "943 476 5918",
                    "date_of_birth": "2999-01-01", "ethnicity": "martian",
                    "contact": {"phone": "12", "colour": "red"}, "shoe_size": 9},
        "reason": "short"}, headers=headers)
    assert response.status_code == 422
    errors = response.json["errors"]
    assert {"reason", "changes.nhs_number", "changes.date_of_birth", "changes.contact.phone",
            "changes.contact.colour", "changes.shoe_size"} <= set(errors)
    person = client.get(f"/api/v1/people/{pid}", headers=headers).json
    assert person["given_name"] == "Priya" and person["changes"] == []
    ethnicity = client.post(f"/api/v1/people/{pid}/rectification", json={
        "changes": {"ethnicity": "martian"}, "reason": REASON}, headers=headers)
    assert ethnicity.status_code == 422 and "changes.ethnicity" in ethnicity.json["errors"]
    nothing = client.post(f"/api/v1/people/{pid}/rectification", json={
        "changes": {}, "reason": REASON}, headers=headers)
    assert nothing.status_code == 422 and "changes" in nothing.json["errors"]
    no_dob = client.post(f"/api/v1/people/{pid}/rectification", json={
        "changes": {"date_of_birth": None, "family_name": " "}, "reason": REASON},
        headers=headers)
    assert no_dob.status_code == 422
    assert set(no_dob.json["errors"]) == {"changes.date_of_birth", "changes.family_name"}


@pytest.mark.parametrize("role", ["hub_coordinator", "practitioner", "partner"])
def test_only_the_front_door_managers_and_admins_correct_details(client, johnsons, auth, role):
    response = client.post(f"/api/v1/people/{johnsons['person_id']}/rectification",
                           json={"changes": {"given_name": "X"}, "reason": REASON},
                           headers=auth(role))
    assert response.status_code == 403


def test_the_openapi_document_describes_every_privacy_operation_and_body(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert "get" in paths["/api/v1/people/{person_id}/export"]
    for path in ("/api/v1/people/{person_id}/rectification",
                 "/api/v1/people/{person_id}/restriction",
                 "/api/v1/restrictions/{restriction_id}/lift",
                 "/api/v1/retention/reviews/{review_id}/confirm"):
        assert paths[path]["post"]["requestBody"]["required"] is True, path
    restriction = spec["components"]["schemas"]["RestrictionIn"]
    assert set(restriction["required"]) == {"users", "reason"}
    assert restriction["additionalProperties"] is False


@both_databases
@pytest.mark.parametrize("bad", ["A\u0000b", "A\ud800b"])
def test_a_nul_or_lone_surrogate_is_a_422_naming_the_field_on_both_databases(
        client, johnsons, auth, bad):
    pid, headers = johnsons["person_id"], johnsons["headers"]
    response = client.post(f"/api/v1/people/{pid}/rectification", json={
        "changes": {"given_name": bad, "contact": {"language": bad}}, "reason": REASON + bad},
        headers=headers)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"changes.given_name", "changes.contact.language",
                                            "reason"}
    restricted = client.post(f"/api/v1/people/{pid}/restriction",
                             json={"users": [johnsons["user"].id], "reason": REASON + bad},
                             headers=auth("manager"))
    assert restricted.status_code == 422 and set(restricted.json["errors"]) == {"reason"}
